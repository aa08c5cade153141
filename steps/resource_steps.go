package steps

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cucumber/godog"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// registerResourceSteps registers the UserInfo, introspection, revocation and
// resource server steps.
func (s *scenario) registerResourceSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the client calls userinfo with (GET|POST) and the access token in the (header|body)$`, s.callUserinfo)
	sc.Step(`^the suite calls userinfo without a token$`, s.userinfoWithoutToken)
	sc.Step(`^the suite calls userinfo with the token "([^"]*)"$`, s.userinfoWithToken)
	sc.Step(`^the response "([^"]*)" is the ID token's "([^"]*)"$`, s.responseClaimIsIDTokenClaim)
	sc.Step(`^the response has the claims of the valid user for scope "([^"]*)"$`, s.responseHasUserClaims)
	sc.Step(`^the introspector introspects the access token$`, s.introspectAccessToken)
	sc.Step(`^the introspector introspects the token "([^"]*)"$`, s.introspectToken)
	sc.Step(`^the suite introspects the token "([^"]*)" without authentication$`, s.introspectUnauthenticated)
	sc.Step(`^the client revokes the (access|refresh) token$`, s.revokeOwnToken)
	sc.Step(`^the client revokes the token "([^"]*)"$`, s.revokeToken)
	sc.Step(`^the other client revokes the access token$`, s.otherClientRevokes)
	sc.Step(`^the token was revoked, or refused as a type the provider does not revoke$`, s.revokedOrUnsupportedType)
	sc.Step(`^the resource server is called with the access token$`, s.callResourceWithToken)
	sc.Step(`^the resource server is called without a token$`, s.callResourceWithoutToken)
	sc.Step(`^the resource server is called with "([^"]*)"$`, s.callResourceWithForgedToken)
	sc.Step(`^the resource server is called with the access token altered in its signature$`, s.callResourceWithTamperedToken)
	sc.Step(`^the WWW-Authenticate challenge has error "([^"]*)"$`, s.challengeHasError)
	sc.Step(`^the WWW-Authenticate challenge has no error$`, s.challengeHasNoError)
	sc.Step(`^the provider revoked it$`, s.providerRevoked)
	sc.Step(`^the client calls userinfo with the access token altered in its signature$`, s.userinfoWithTamperedToken)
	sc.Step(`^the client calls userinfo with the refresh token in place of the access token$`, s.userinfoWithRefreshToken)
	sc.Step(`^the suite introspects the access token without authentication$`, s.introspectAccessTokenUnauthenticated)
	sc.Step(`^the response does not say the token is active$`, s.responseNotActive)
	sc.Step(`^the introspector introspects the token "([^"]*)" with a wrong secret$`, s.introspectWithWrongSecret)
	sc.Step(`^the suite revokes the access token without authentication$`, s.revokeUnauthenticated)
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func (s *scenario) userinfoEndpoint() (string, error) {
	if s.run.meta.UserinfoEndpoint == "" {
		return "", errors.New("the discovery document has no userinfo_endpoint")
	}
	return s.run.meta.UserinfoEndpoint, nil
}

// callUserinfo: OIDC Core §5.3.1 (GET and POST) with the token as RFC
// 6750 §2.1 (header) or §2.2 (form body) says.
func (s *scenario) callUserinfo(method, where string) error {
	if err := s.needTokens(); err != nil {
		return err
	}
	endpoint, err := s.userinfoEndpoint()
	if err != nil {
		return err
	}
	if method == http.MethodGet {
		_, err = s.get(endpoint, bearer(s.tokens.access))
		return err
	}
	form := url.Values{}
	var header http.Header
	if where == "body" {
		form.Set("access_token", s.tokens.access)
	} else {
		header = bearer(s.tokens.access)
	}
	_, err = s.postForm(endpoint, form, nil, header)
	return err
}

func (s *scenario) userinfoWithoutToken() error {
	endpoint, err := s.userinfoEndpoint()
	if err != nil {
		return err
	}
	_, err = s.get(endpoint, nil)
	return err
}

func (s *scenario) userinfoWithToken(token string) error {
	endpoint, err := s.userinfoEndpoint()
	if err != nil {
		return err
	}
	_, err = s.get(endpoint, bearer(token))
	return err
}

// responseClaimIsIDTokenClaim: OIDC Core §5.3.2, userinfo's sub MUST
// exactly match the ID token's.
func (s *scenario) responseClaimIsIDTokenClaim(claim, idClaim string) error {
	v, err := s.member(claim)
	if err != nil {
		return err
	}
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if v != t.claims[idClaim] {
		return fmt.Errorf("%s is %v, the ID token's %s is %v", claim, v, idClaim, t.claims[idClaim])
	}
	return nil
}

// scopeClaims are the claims OIDC Core §5.4 ties to each scope that the
// suite can compare with a configured user.
var scopeClaims = map[string][]string{
	"profile": {"name", "given_name", "family_name", "preferred_username"},
	"email":   {"email"},
	"address": {"address"},
	"phone":   {"phone_number"},
}

// responseHasUserClaims compares the scope's claims that the target
// configuration lists for the valid user (users.valid.claims) with the
// response. OIDC Core §5.4 releases the claims a user has; a user without
// any of the scope's claims cannot show whether they are released, so the
// scenario is then not applicable. Strings are compared, other values
// (an address object) need only be present.
func (s *scenario) responseHasUserClaims(scope string) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	u := s.run.cfg.Users.Valid
	if u == nil {
		return s.notApplicable("no valid test user is configured")
	}
	var configured []string
	for _, c := range scopeClaims[scope] {
		want, ok := u.Claims[c]
		if !ok {
			continue
		}
		configured = append(configured, c)
		got, present := r.json[c]
		if !present {
			return fmt.Errorf("the response has no %s, which the test user has (%s)", c, r)
		}
		if w, ok := want.(string); ok && got != w {
			return fmt.Errorf("%s is %v, the test user's is %v", c, got, want)
		}
	}
	if len(configured) == 0 {
		return s.notApplicable("the target configuration lists none of the %s claims (%s) for the valid user (users.valid.claims); OIDC Core §5.4 releases only the claims a user has", scope, strings.Join(scopeClaims[scope], ", "))
	}
	return nil
}

func (s *scenario) introspect(token string, caller *issuer.Client) error {
	endpoint := s.run.meta.IntrospectionEndpoint
	if endpoint == "" {
		return errors.New("the discovery document has no introspection_endpoint")
	}
	form := url.Values{}
	form.Set("token", token)
	_, err := s.postForm(endpoint, form, caller, nil)
	return err
}

func (s *scenario) introspectAccessToken() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	return s.introspectToken(s.tokens.access)
}

func (s *scenario) introspectToken(token string) error {
	in, err := s.clientFor(issuer.RoleIntrospector)
	if err != nil {
		return err
	}
	return s.introspect(token, in)
}

func (s *scenario) introspectUnauthenticated(token string) error {
	return s.introspect(token, nil)
}

func (s *scenario) revoke(token, hint string, caller *issuer.Client) error {
	endpoint := s.run.meta.RevocationEndpoint
	if endpoint == "" {
		return errors.New("the discovery document has no revocation_endpoint")
	}
	form := url.Values{}
	form.Set("token", token)
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	_, err := s.postForm(endpoint, form, caller, nil)
	return err
}

func (s *scenario) revokeOwnToken(which string) error {
	if err := s.needTokens(); err != nil {
		return err
	}
	if which == "refresh" {
		if s.tokens.refresh == "" {
			return s.notApplicable("the provider issued no refresh token")
		}
		return s.revoke(s.tokens.refresh, "refresh_token", s.client)
	}
	return s.revoke(s.tokens.access, "access_token", s.client)
}

func (s *scenario) revokeToken(token string) error {
	if err := s.needClient(); err != nil {
		return err
	}
	return s.revoke(token, "", s.client)
}

func (s *scenario) otherClientRevokes() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	other, err := s.clientFor(issuer.RoleOther)
	if err != nil {
		return err
	}
	return s.revoke(s.tokens.access, "access_token", other)
}

func (s *scenario) resourceURL() (string, error) {
	rs := s.run.cfg.ResourceServer
	if rs == nil || rs.URL == "" {
		return "", s.notApplicable("no resource server is configured")
	}
	return rs.URL, nil
}

func (s *scenario) callResource(token string) error {
	u, err := s.resourceURL()
	if err != nil {
		return err
	}
	var h http.Header
	if token != "" {
		h = bearer(token)
	}
	_, err = s.get(u, h)
	return err
}

func (s *scenario) callResourceWithToken() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	return s.callResource(s.tokens.access)
}

func (s *scenario) callResourceWithoutToken() error { return s.callResource("") }

// callResourceWithForgedToken builds tokens no issuer would accept.
func (s *scenario) callResourceWithForgedToken(kind string) error {
	claims := jwt.Claims{
		Issuer: s.run.issuerID(), Subject: "oauthtrio-forged", Audience: jwt.Audience{"oauthtrio"},
		Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour)), IssuedAt: jwt.NewNumericDate(time.Now()),
	}
	extra := map[string]any{"scope": s.requiredScope(), "client_id": "oauthtrio-forged"}
	var token string
	switch kind {
	case "a malformed token":
		token = "not.a.token"
	case "a JWT signed by an unknown key":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "oauthtrio-unknown-key")
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
		if err != nil {
			return err
		}
		if token, err = jwt.Signed(sig).Claims(claims).Claims(extra).Serialize(); err != nil {
			return err
		}
	case "a JWT with alg none":
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`))
		payload, err := jsonMerge(claims, extra)
		if err != nil {
			return err
		}
		token = header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	default:
		return fmt.Errorf("unknown forged token %q", kind)
	}
	return s.callResource(token)
}

func (s *scenario) requiredScope() string {
	if rs := s.run.cfg.ResourceServer; rs != nil && rs.Scope != "" {
		return rs.Scope
	}
	return "my/scope"
}

// callResourceWithTamperedToken flips a bit in the signature of a real
// token: RFC 6750 §3.1 invalid_token.
func (s *scenario) callResourceWithTamperedToken() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	forged, ok := alterSignature(s.tokens.access)
	if !ok {
		return s.notApplicable("the access token is not a JWS, so it has no signature to alter")
	}
	return s.callResource(forged)
}

// alterSignature flips a bit in the middle of a compact JWS's signature;
// ok is false when token is no JWS.
func alterSignature(token string) (forged string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[2]) < 4 {
		return "", false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return "", false
	}
	sig[len(sig)/2] ^= 0x01
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, "."), true
}

// userinfoWithTamperedToken: OIDC Core §5.3.3, an access token whose
// signature no longer verifies is invalid (RFC 6750 §3.1 invalid_token).
// An opaque token has no signature to alter.
func (s *scenario) userinfoWithTamperedToken() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	forged, ok := alterSignature(s.tokens.access)
	if !ok {
		return s.notApplicable("the access token is not a JWS, so it has no signature to alter")
	}
	return s.userinfoWithToken(forged)
}

// userinfoWithRefreshToken presents the refresh token as a bearer token: it
// grants new access tokens at the token endpoint, never access itself
// (RFC 6749 §1.5: refresh tokens are never sent to resource servers).
func (s *scenario) userinfoWithRefreshToken() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	if s.tokens.refresh == "" {
		return s.notApplicable("the token response has no refresh token")
	}
	return s.userinfoWithToken(s.tokens.refresh)
}

// providerRevoked makes the revocation of an access token a premise: RFC
// 7009 §2 lets a provider answer unsupported_token_type instead.
func (s *scenario) providerRevoked() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	switch {
	case r.status == 200:
		return nil
	case r.status == 400 && r.json["error"] == "unsupported_token_type":
		return s.notApplicable("the provider does not revoke access tokens (unsupported_token_type), which RFC 7009 §2 allows")
	}
	return fmt.Errorf("the revocation failed: %s", r)
}

func (s *scenario) introspectAccessTokenUnauthenticated() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	return s.introspect(s.tokens.access, nil)
}

// responseNotActive: whatever the status, the body must not tell an
// unauthorized caller that the token is active (RFC 7662 §2.1, §4).
func (s *scenario) responseNotActive() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if active, _ := r.json["active"].(bool); active {
		return fmt.Errorf("the response says the token is active: %s", r)
	}
	return nil
}

// introspectWithWrongSecret: RFC 7662 §2.3, a caller whose client
// credentials are invalid gets 401.
func (s *scenario) introspectWithWrongSecret(token string) error {
	in, err := s.clientFor(issuer.RoleIntrospector)
	if err != nil {
		return err
	}
	if in.Secret == "" {
		return s.notApplicable("the introspector has no secret to get wrong")
	}
	wrong := *in
	wrong.Secret += "-wrong"
	return s.introspect(token, &wrong)
}

// revokeUnauthenticated: RFC 7009 §2.1, the server first validates the
// client's credentials.
func (s *scenario) revokeUnauthenticated() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	return s.revoke(s.tokens.access, "access_token", nil)
}

// challengeParam reads an auth-param of the Bearer challenge (RFC 6750 §3).
var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

func (s *scenario) challenge() (map[string]string, error) {
	r, err := s.last()
	if err != nil {
		return nil, err
	}
	h := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(strings.ToLower(h), "bearer") {
		return nil, fmt.Errorf("no Bearer challenge: WWW-Authenticate is %q (%s)", h, r)
	}
	out := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(h, -1) {
		out[strings.ToLower(m[1])] = m[2]
	}
	return out, nil
}

func (s *scenario) challengeHasError(want string) error {
	c, err := s.challenge()
	if err != nil {
		return err
	}
	if c["error"] != want {
		return fmt.Errorf("the challenge's error is %q, expected %q", c["error"], want)
	}
	return nil
}

// challengeHasNoError: RFC 6750 §3.1, a request without credentials gets
// no error code.
func (s *scenario) challengeHasNoError() error {
	c, err := s.challenge()
	if err != nil {
		return err
	}
	if e, ok := c["error"]; ok {
		return fmt.Errorf("the challenge has error=%q for a request without a token", e)
	}
	return nil
}

// revokedOrUnsupportedType: RFC 7009 §2 makes revoking access tokens a
// SHOULD; a provider that does not answers 400 unsupported_token_type
// (§2.2.1). Anything else than that or 200 breaks §2.2.
func (s *scenario) revokedOrUnsupportedType() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if r.status == 200 {
		return nil
	}
	if r.status == 400 && r.json["error"] == "unsupported_token_type" {
		s.rec.Note("the provider does not revoke access tokens (unsupported_token_type), which RFC 7009 §2 allows")
		return nil
	}
	return fmt.Errorf("expected 200, or 400 unsupported_token_type, got %s", r)
}
