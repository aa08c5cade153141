package testop

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

func startOP(t *testing.T) *OP {
	t.Helper()
	op, err := Start(Options{
		Clients: []Client{{ID: "rp", Secret: "rp-secret", RedirectURIs: []string{"https://rp.example/cb"}}},
		Claims:  map[string]any{"name": "Test User"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	return op
}

// verifier checks tokens as a correct relying party does, with go-oidc.
func verifier(t *testing.T, op *OP, clientID string) *oidc.IDTokenVerifier {
	ctx := oidc.ClientContext(context.Background(), op.HTTPClient())
	p, err := oidc.NewProvider(ctx, op.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return p.VerifierContext(ctx, &oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"RS256"}})
}

func header(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAccessTokenBends(t *testing.T) {
	op := startOP(t)
	v := verifier(t, op, "rs")
	ctx := context.Background()
	spec := AccessTokenSpec{ClientID: "rp", Audience: []string{"rs"}, Scope: "api"}

	good, err := op.AccessToken(spec, Bend{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatalf("a correct token does not verify: %v", err)
	}
	if typ := header(t, good)["typ"]; typ != "at+jwt" {
		t.Errorf("typ = %v, want at+jwt", typ)
	}

	refused := map[string]TokenBend{
		"foreign key": {Key: KeyForeign},
		"unknown kid": {Key: KeyUnknownKID},
		"alg none":    {AlgNone: true},
		"wrong iss":   {Set: map[string]any{"iss": "https://other.example"}},
		"wrong aud":   {Set: map[string]any{"aud": "other"}},
		"expired":     {Exp: In(-time.Hour)},
		"no exp":      {Drop: []string{"exp"}},
	}
	for name, b := range refused {
		tok, err := op.AccessToken(spec, Bend{AccessToken: b})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Errorf("%s: a correct verifier accepted the bent token", name)
		}
	}
	if h := header(t, mustToken(t, op, spec, Bend{AccessToken: TokenBend{AlgNone: true}})); h["alg"] != "none" {
		t.Errorf("alg none: header %v", h)
	}
	if h := header(t, mustToken(t, op, spec, Bend{AccessToken: TokenBend{Typ: "JWT"}})); h["typ"] != "JWT" {
		t.Errorf("typ JWT: header %v", h)
	}
	if h := header(t, mustToken(t, op, spec, Bend{AccessToken: TokenBend{Typ: "-", OmitKID: true}})); h["typ"] != nil || h["kid"] != nil {
		t.Errorf("no typ, no kid: header %v", h)
	}
}

func mustToken(t *testing.T, op *OP, spec AccessTokenSpec, b Bend) string {
	t.Helper()
	tok, err := op.AccessToken(spec, b)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func introspect(t *testing.T, op *OP, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, op.Issuer()+"/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("rp", "rp-secret")
	resp, err := op.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIntrospection(t *testing.T) {
	op := startOP(t)
	spec := AccessTokenSpec{ClientID: "rp", Audience: []string{"rs"}, Scope: "api"}
	bent := mustToken(t, op, spec, Bend{AccessToken: TokenBend{Key: KeyForeign}})
	if got := introspect(t, op, bent); got["active"] != true || got["scope"] != "api" {
		t.Errorf("a token the OP minted: %v", got)
	}
	if got := introspect(t, op, mustToken(t, op, spec, Bend{Revoked: true})); got["active"] != false {
		t.Errorf("a revoked token: %v", got)
	}
	if got := introspect(t, op, "never-issued"); got["active"] != false {
		t.Errorf("an unknown token: %v", got)
	}
}

// login runs the authorization code flow as a client would, without a
// browser: the authorization endpoint redirects at once.
func login(t *testing.T, op *OP, extra url.Values) (callback url.Values, tokens map[string]any) {
	t.Helper()
	hc := op.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	verifier := "a-verifier-long-enough-to-be-a-pkce-code-verifier-0123"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {"rp"}, "redirect_uri": {"https://rp.example/cb"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"st"}, "nonce": {"nn"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	resp, err := hc.Get(op.Issuer() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	callback = loc.Query()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Get("code")}, "redirect_uri": {"https://rp.example/cb"}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, op.Issuer()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("rp", "rp-secret")
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&tokens); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tokens)
	}
	return callback, tokens
}

func TestCodeFlow(t *testing.T) {
	op := startOP(t)
	v := verifier(t, op, "rp")
	cb, tokens := login(t, op, nil)
	if cb.Get("state") != "st" || cb.Get("iss") != op.Issuer() {
		t.Errorf("authorization response %v", cb)
	}
	idt, err := v.Verify(context.Background(), tokens["id_token"].(string))
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != "nn" {
		t.Errorf("nonce %q", idt.Nonce)
	}
	if err := idt.VerifyAccessToken(tokens["access_token"].(string)); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	seen := op.AuthorizationRequests()
	if len(seen) != 1 || seen[0].CodeChallengeMethod != "S256" || seen[0].Exchange == nil || !seen[0].Exchange.PKCEVerified {
		t.Errorf("recorded %+v", seen)
	}
}

func TestFlowBends(t *testing.T) {
	op := startOP(t)
	v := verifier(t, op, "rp")
	op.SetBend(Bend{AuthzState: "other", OmitAuthzIss: true, IDToken: TokenBend{Set: map[string]any{"nonce": "wrong"}}, UserinfoSub: "someone-else"})
	cb, tokens := login(t, op, nil)
	if cb.Get("state") != "other" || cb.Has("iss") {
		t.Errorf("authorization response %v", cb)
	}
	idt, err := v.Verify(context.Background(), tokens["id_token"].(string))
	if err != nil || idt.Nonce != "wrong" {
		t.Errorf("ID token %v, %v", idt, err)
	}
	req, _ := http.NewRequest(http.MethodGet, op.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tokens["access_token"].(string))
	resp, err := op.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ui map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&ui)
	if ui["sub"] != "someone-else" || ui["name"] != "Test User" {
		t.Errorf("userinfo %v", ui)
	}
}

func TestUnregisteredRedirectGetsNoRedirect(t *testing.T) {
	op := startOP(t)
	hc := op.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, redirect := range []string{"https://rp.example/cb/", "https://rp.example/cb?x=1", "https://evil.example/cb"} {
		q := url.Values{"client_id": {"rp"}, "redirect_uri": {redirect}, "response_type": {"code"}}
		resp, err := hc.Get(op.Issuer() + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d %q", redirect, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestKeyRotation(t *testing.T) {
	op := startOP(t)
	before := op.keys.jwks()
	kid, err := op.RotateKey()
	if err != nil {
		t.Fatal(err)
	}
	after := op.keys.jwks()
	if len(after.Keys) != 1 || after.Keys[0].KeyID != kid || kid == before.Keys[0].KeyID {
		t.Fatalf("JWKS after rotation: %v (new kid %s)", after.Keys, kid)
	}
	tok := mustToken(t, op, AccessTokenSpec{ClientID: "rp", Audience: []string{"rs"}}, Bend{})
	if header(t, tok)["kid"] != kid {
		t.Errorf("not signed with the new key")
	}
	parsed, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parsed.Verify(after.Keys[0]); err != nil {
		t.Errorf("verify with the published key: %v", err)
	}
}
