package trio_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthtrio/oauthtrio/reference/keyring"
	"github.com/oauthtrio/oauthtrio/reference/resserver"
	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// The Postman collection's client (fixtures/trio.yaml).
const (
	postmanClientID     = "c4R48FKeWkhGMOzyhUoVlhNpoRPHZd7EUOiJlHAX6UQ"
	postmanClientSecret = "O1ngeS2un6ZgLdIZLB4eAOXbDqhLyhXfpAm379iw7ScEDgJkY87Qzik44shByEHkVDVcd661MKy4ld3Rz4VarA"
)

// clientApp drives the web client's page in browser b: sign in, log in,
// and answer the consent with decision.
func clientApp(t *testing.T, tr *trio.Trio, b *browser, decision string) *page {
	t.Helper()
	login := b.get(tr.URL() + "/client/application/login")
	require.Equal(t, http.StatusOK, login.status)
	consent := b.login(login, developer, developerPassword)
	require.True(t, consent.has("consent-form"), consent.body)
	p := b.consent(consent, decision)
	require.Equal(t, http.StatusOK, p.status, p.body)
	return p
}

func TestClientApplication(t *testing.T) {
	tr := startTrio(t)
	p := clientApp(t, tr, newBrowser(t, tr), "approve")

	assert.False(t, p.has("error"), "no step failed:\n%s", p.body)
	for _, id := range []string{
		"access-token", "jwt-header", "jwt-payload", "introspection", "id-token",
		"id-token-claims", "userinfo", "resource-status", "resource-body",
		"delegated-status", "delegated-body",
	} {
		assert.NotEmpty(t, p.text(t, id), "#%s", id)
	}

	var header map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.text(t, "jwt-header")), &header))
	assert.Equal(t, "at+jwt", header["typ"], "RFC 9068 §2.1")

	var introspection map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.text(t, "introspection")), &introspection))
	assert.Equal(t, true, introspection["active"])

	var userinfo map[string]any
	require.NoError(t, json.Unmarshal([]byte(p.text(t, "userinfo")), &userinfo))
	assert.Equal(t, developer, userinfo["sub"])
	assert.Equal(t, developerName, userinfo["name"])

	// iris-workshop §6.2: the resource server answers as UnknownUser, the
	// delegated one as OAuth2<sub>.
	var resource, delegated struct {
		TokenUsername string `json:"tokenUsername"`
		IrisUsername  string `json:"irisUsername"`
		TokenScope    string `json:"tokenScope"`
	}
	assert.Equal(t, "200", p.text(t, "resource-status"))
	require.NoError(t, json.Unmarshal([]byte(p.text(t, "resource-body")), &resource))
	assert.Equal(t, developer, resource.TokenUsername)
	assert.Equal(t, "UnknownUser", resource.IrisUsername)
	assert.Contains(t, strings.Fields(resource.TokenScope), "my/scope")

	assert.Equal(t, "200", p.text(t, "delegated-status"))
	require.NoError(t, json.Unmarshal([]byte(p.text(t, "delegated-body")), &delegated))
	assert.Equal(t, developer, delegated.TokenUsername)
	assert.Equal(t, "OAuth2developer", delegated.IrisUsername)
}

func TestClientApplicationConsentDenied(t *testing.T) {
	tr := startTrio(t)
	p := clientApp(t, tr, newBrowser(t, tr), "deny")

	assert.True(t, p.has("authorize"), "the sign-in link is offered again")
	assert.False(t, p.has("access-token"))
	// RFC 6749 §4.1.2.1: the denial reaches the client as access_denied.
	assert.Contains(t, p.text(t, "error"), "access_denied")
}

// resourceAnswer is what the protected resource said.
type resourceAnswer struct {
	status    int
	challenge string
	body      map[string]any
}

func callResource(t *testing.T, tr *trio.Trio, token string) resourceAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, tr.URL()+"/resserver/protected-resources/", nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := tr.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := resourceAnswer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &a.body), "not JSON: %s", raw)
	}
	return a
}

// forged builds access tokens the authorization server never issued.
type forged struct {
	t  *testing.T
	tr *trio.Trio
}

// claims are those of a genuine user access token (RFC 9068 §2.2) for the
// resource server; change applies a case's alteration.
func (f forged) claims(change func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": f.tr.Issuer(), "aud": []string{resourceAudience(f.tr)}, "sub": developer,
		"client_id": testClientID, "scope": "openid my/scope", "jti": rand.Text(),
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if change != nil {
		change(c)
	}
	return c
}

func atJWTHeader() *jwt.Headers {
	return &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}
}

// withTrioKey signs with the trio's own active key.
func (f forged) withTrioKey(change func(jwt.MapClaims)) string {
	tok, _, err := f.tr.Keys.Signer().Generate(context.Background(), f.claims(change), atJWTHeader())
	require.NoError(f.t, err)
	return tok
}

// withOtherKey signs with a key the trio never published; kid, when set,
// names the trio's key instead of the signing one.
func (f forged) withOtherKey(kid string) string {
	k, err := keyring.Generate("RS256")
	require.NoError(f.t, err)
	h := atJWTHeader()
	var key any = k // the JWK puts its own kid in the header
	if kid != "" {
		h.Extra["kid"] = kid
		key = k.Key
	}
	signer := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (any, error) { return key, nil }}
	tok, _, err := signer.Generate(context.Background(), f.claims(nil), h)
	require.NoError(f.t, err)
	return tok
}

// unsigned is an alg "none" JWS (RFC 7519 §6) naming the trio's key.
func (f forged) unsigned() string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(f.t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	header := map[string]any{"alg": "none", "typ": "at+jwt", "kid": f.tr.Keys.Active().KeyID}
	return enc(header) + "." + enc(f.claims(nil)) + "."
}

// TestResourceServer checks the protected resource's answers (RFC 6750
// §3, RFC 9068 §4) to tokens issued and revoked by the trio and to
// forged ones.
func TestResourceServer(t *testing.T) {
	tr := startTrio(t)
	rp := newRelyingParty(t, tr, allScopes...)
	userToken := rp.authorize(t, newBrowser(t, tr)).AccessToken
	openidOnly := newRelyingParty(t, tr, "openid").authorize(t, newBrowser(t, tr)).AccessToken
	revoked := rp.authorize(t, newBrowser(t, tr)).AccessToken
	revoke(t, tr, testClientID, testClientSecret, revoked)

	cc := clientcredentials.Config{
		ClientID: postmanClientID, ClientSecret: postmanClientSecret,
		TokenURL: tr.Issuer() + "/token", Scopes: []string{"my/scope"},
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	ccToken, err := cc.Token(context.WithValue(context.Background(), oauth2.HTTPClient, tr.HTTPClient()))
	require.NoError(t, err)

	f := forged{t: t, tr: tr}
	tests := []struct {
		name        string
		token       string
		status      int
		code        string // RFC 6750 §3.1 error code; empty for none
		description string
		username    string
	}{
		{name: "user token", token: userToken, status: http.StatusOK, username: developer},
		{name: "client credentials token", token: ccToken.AccessToken, status: http.StatusOK},
		// RFC 6750 §3.1: no credentials, no error code.
		{name: "no token", status: http.StatusUnauthorized},
		{name: "expired", status: http.StatusUnauthorized, code: resserver.CodeInvalidToken,
			description: "token expired",
			token: f.withTrioKey(func(c jwt.MapClaims) {
				c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
				c["exp"] = time.Now().Add(-time.Hour).Unix()
			})},
		{name: "signed by an unknown key", token: f.withOtherKey(""), status: http.StatusUnauthorized,
			code: resserver.CodeInvalidToken, description: "unknown signing key"},
		{name: "signed by another key under the trio's kid", token: f.withOtherKey(tr.Keys.Active().KeyID),
			status: http.StatusUnauthorized, code: resserver.CodeInvalidToken,
			description: "signature verification failed"},
		{name: "alg none", token: f.unsigned(), status: http.StatusUnauthorized,
			code: resserver.CodeInvalidToken, description: "signature algorithm not accepted"},
		{name: "wrong audience", status: http.StatusUnauthorized, code: resserver.CodeInvalidToken,
			description: "audience does not include this resource server",
			token:       f.withTrioKey(func(c jwt.MapClaims) { c["aud"] = []string{"https://elsewhere.example/api"} })},
		{name: "never issued", token: f.withTrioKey(nil), status: http.StatusUnauthorized,
			code: resserver.CodeInvalidToken, description: "token is not active"},
		{name: "revoked", token: revoked, status: http.StatusUnauthorized,
			code: resserver.CodeInvalidToken, description: "token is not active"},
		{name: "missing scope", token: openidOnly, status: http.StatusForbidden,
			code: resserver.CodeInsufficientScope, description: "token lacks the required scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := callResource(t, tr, tt.token)
			require.Equal(t, tt.status, got.status, "body: %v", got.body)
			if tt.status == http.StatusOK {
				assert.Empty(t, got.challenge)
				assert.Equal(t, resserver.Message, got.body["message"])
				assert.Equal(t, tt.username, got.body["tokenUsername"])
				return
			}
			assert.True(t, strings.HasPrefix(got.challenge, `Bearer realm="`), got.challenge)
			if tt.code == "" {
				assert.NotContains(t, got.challenge, "error=")
				assert.Nil(t, got.body)
				return
			}
			assert.Contains(t, got.challenge, `error="`+tt.code+`"`)
			assert.Equal(t, tt.code, got.body["error"])
			assert.Equal(t, tt.description, got.body["error_description"])
			if tt.code == resserver.CodeInsufficientScope {
				assert.Contains(t, got.challenge, `scope="my/scope"`)
			}
		})
	}
}

// TestFixturesWithoutTheTriosClients checks that a fixtures file lacking
// the web client's or the resource server's client stops the start with
// a message naming the missing role, instead of a web client that fails
// at the first login.
func TestFixturesWithoutTheTriosClients(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixtures.yaml")
	content := "users:\n  - {username: u, password: p}\nclients:\n  - {client_id: rs, client_secret: s, role: resource_server}\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := trio.Start(t.Context(), trio.Config{Addr: "127.0.0.1:0", InMemory: true, Fixtures: path})
	if err == nil || !strings.Contains(err.Error(), "role: web_client") {
		t.Fatalf("start with fixtures lacking the web client: %v", err)
	}
}
