package authserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenRequestErrors(t *testing.T) {
	h := newHarness(t)
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}}
	tests := []struct {
		name   string
		form   url.Values
		auth   auth
		status int
		code   string
		basic  bool // a WWW-Authenticate Basic challenge is expected
	}{
		// RFC 6749 §5.2.
		{"unknown grant", url.Values{"grant_type": {"password"}, "username": {"developer"}, "password": {"test"}}, basic(postmanID, postmanSecret), 400, "unsupported_grant_type", false},
		{"urn grant", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, basic(postmanID, postmanSecret), 400, "unsupported_grant_type", false},
		{"missing grant_type", url.Values{"scope": {"my/scope"}}, basic(postmanID, postmanSecret), 400, "invalid_request", false},
		{"repeated parameter", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, basic(postmanID, postmanSecret), 400, "invalid_request", false},
		// RFC 6749 §5.2: a failed Basic authentication is a 401 with a
		// challenge naming the scheme.
		{"wrong secret", cc, basic(postmanID, "wrong"), 401, "invalid_client", true},
		{"unknown client", cc, basic("nobody", "secret"), 401, "invalid_client", true},
		{"empty basic password", cc, basic(postmanID, ""), 401, "invalid_client", true},
		{"no client authentication", cc, noAuth, 401, "invalid_client", true},
		// The Postman client registered client_secret_basic only.
		{"post for a basic-only client", cc, post(postmanID, postmanSecret), 401, "invalid_client", true},
		{"basic for a post-only client", cc, basic(postClientID, postSecret), 401, "invalid_client", true},
		{"grant the client lacks", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, basic(postmanID, postmanSecret), 400, "unauthorized_client", false},
		{"scope the client lacks", with(cc, "scope", "openid"), basic(postmanID, postmanSecret), 400, "invalid_scope", false},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "code": {"ory_ac_nope.nope"}, "redirect_uri": {testRedirect}}, basic(webClientID, webSecret), 400, "invalid_grant", false},
		// RFC 6749 §4.4: confidential clients only; §5.2: a client not
		// authorized for the grant gets unauthorized_client.
		{"public client credentials", url.Values{"grant_type": {"client_credentials"}, "client_id": {publicClientID}}, noAuth, 400, "unauthorized_client", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.postForm("token", tt.form, tt.auth)
			require.Equal(t, tt.status, r.status, r.body)
			assert.Equal(t, tt.code, r.json(t)["error"])
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			if tt.basic {
				assert.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic "), r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestTokenHTTPErrors(t *testing.T) {
	h := newHarness(t)
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	tests := []struct {
		name, method, contentType string
		status                    int
	}{
		// RFC 6749 §3.2: POST only.
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed},
		{"PUT", http.MethodPut, "application/x-www-form-urlencoded", http.StatusMethodNotAllowed},
		{"JSON body", http.MethodPost, "application/json", http.StatusBadRequest},
		{"no content type", http.MethodPost, "", http.StatusBadRequest},
		{"multipart", http.MethodPost, "multipart/form-data; boundary=x", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, h.url("token"), strings.NewReader(form))
			require.NoError(t, err)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.SetBasicAuth(postmanID, postmanSecret)
			r := h.do(req)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.Equal(t, "invalid_request", r.json(t)["error"])
			if tt.status == http.StatusMethodNotAllowed {
				assert.Equal(t, "POST", r.header.Get("Allow"))
			}
		})
	}
}

// number reads a numeric JWT claim, decoded as float64 or int64.
func number(t testing.TB, v any) int64 {
	t.Helper()
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case json.Number:
		i, err := n.Int64()
		require.NoError(t, err)
		return i
	}
	require.Failf(t, "not a number", "%T %v", v, v)
	return 0
}

func TestClientCredentials(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name     string
		extra    url.Values
		audience []any
	}{
		{"default audience", nil, []any{h.resource}},
		// RFC 8707 §2: resource narrows the audience.
		{"resource", url.Values{"resource": {h.resource}}, []any{h.resource}},
		{"audience parameter", url.Values{"audience": {h.resource}}, []any{h.resource}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.clientCredentials(tt.extra)
			require.Equal(t, http.StatusOK, r.status, r.body)
			// RFC 6749 §5.1.
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			assert.Equal(t, "no-cache", r.header.Get("Pragma"))
			body := r.json(t)
			assert.Equal(t, "bearer", body["token_type"])
			assert.Equal(t, "my/scope", body["scope"])
			assert.InDelta(t, 3600, body["expires_in"], 2)
			assert.NotContains(t, body, "refresh_token")
			assert.NotContains(t, body, "id_token")

			tok := h.decode(body["access_token"].(string))
			assert.Equal(t, tt.audience, tok.Claims["aud"])
			assert.Equal(t, postmanID, tok.Claims["sub"])
			assert.Equal(t, postmanID, tok.Claims["client_id"])
			assert.Equal(t, "my/scope", tok.Claims["scope"])
		})
	}

	t.Run("narrowed to one of several audiences", func(t *testing.T) {
		r := h.postForm("token", url.Values{
			"grant_type": {"client_credentials"}, "scope": {"my/scope"}, "resource": {"https://other-api.test"},
		}, basic(webClientID, webSecret))
		require.Equal(t, http.StatusOK, r.status, r.body)
		tok := h.decode(r.json(t)["access_token"].(string))
		assert.Equal(t, []any{"https://other-api.test"}, tok.Claims["aud"])
	})

	for _, res := range []string{"https://unknown.test/api", "not a uri", h.resource + "#frag"} {
		t.Run("invalid resource "+res, func(t *testing.T) {
			// RFC 8707 §2.
			r := h.clientCredentials(url.Values{"resource": {res}})
			require.Equal(t, http.StatusBadRequest, r.status, r.body)
			assert.Equal(t, "invalid_target", r.json(t)["error"])
		})
	}

	t.Run("client_secret_post", func(t *testing.T) {
		r := h.postForm("token", url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}}, post(postClientID, postSecret))
		require.Equal(t, http.StatusOK, r.status, r.body)
	})
}

// TestAccessTokenFormat checks the RFC 9068 profile of the JWT access token.
func TestAccessTokenFormat(t *testing.T) {
	h := newHarness(t)
	before := time.Now().Add(-time.Second).Unix()
	body := h.userTokens(webClientID, webSecret, "")
	raw := body["access_token"].(string)
	tok := h.decode(raw)

	// RFC 9068 §2.1: typ at+jwt; the kid names the ring's active key.
	assert.Equal(t, "at+jwt", tok.Header["typ"])
	assert.Equal(t, h.keys.Active().KeyID, tok.Header["kid"])
	assert.Equal(t, "RS256", tok.Header["alg"])

	c := tok.Claims
	// RFC 9068 §2.2.
	assert.Equal(t, h.issuer, c["iss"])
	assert.Equal(t, "developer", c["sub"])
	assert.Equal(t, []any{h.resource, "https://other-api.test"}, c["aud"])
	assert.Equal(t, webClientID, c["client_id"])
	assert.Equal(t, "openid profile email offline_access my/scope", c["scope"])
	assert.NotEmpty(t, c["jti"])
	iat, exp := number(t, c["iat"]), number(t, c["exp"])
	assert.GreaterOrEqual(t, iat, before)
	assert.InDelta(t, 3600, exp-iat, 2)

	// Two tokens never share a jti (RFC 9068 §2.2, RFC 7519 §4.1.7).
	other := h.decode(h.clientCredentials(nil).json(t)["access_token"].(string))
	assert.NotEqual(t, c["jti"], other.Claims["jti"])
}

// TestIDToken checks the ID token of the code flow (OIDC Core §2, §3.1.3.6).
func TestIDToken(t *testing.T) {
	h := newHarness(t)
	body := h.userTokens(webClientID, webSecret, "openid")
	tok := h.decode(body["id_token"].(string))
	c := tok.Claims
	assert.Equal(t, h.issuer, c["iss"])
	assert.Equal(t, "developer", c["sub"])
	assert.Equal(t, []any{webClientID}, c["aud"])
	assert.Equal(t, webClientID, c["azp"])
	assert.Equal(t, "nonce-5678", c["nonce"])
	assert.NotEmpty(t, c["at_hash"])
	assert.NotEmpty(t, c["auth_time"])
	assert.NotEmpty(t, c["sid"])
	// The workshop hooks make name an essential claim.
	assert.Equal(t, "Miguel de Cervantes Saavedra", c["name"])
	assert.Equal(t, h.keys.Active().KeyID, tok.Header["kid"])
	// Without offline_access there is no refresh token (OIDC Core §11).
	assert.NotContains(t, body, "refresh_token")
}

// TestTokenProperties checks the workshop's token properties: user grants
// carry them everywhere, client credentials grants nowhere.
func TestTokenProperties(t *testing.T) {
	h := newHarness(t)
	wantOther := []any{map[string]any{"name:": "john"}, map[string]any{"name": "doe"}}

	body := h.userTokens(webClientID, webSecret, "openid profile")
	at := body["access_token"].(string)
	places := map[string]map[string]any{
		"token response": body,
		"access token":   h.decode(at).Claims,
		"id token":       h.decode(body["id_token"].(string)).Claims,
		"introspection":  h.introspect(at),
		"userinfo":       h.userinfo(at).json(t),
	}
	for where, claims := range places {
		t.Run("user grant "+where, func(t *testing.T) {
			assert.Equal(t, "value1234", claims["my-property"])
			assert.Equal(t, wantOther, claims["other-property"])
		})
	}

	cc := h.clientCredentials(nil).json(t)
	ccToken := cc["access_token"].(string)
	for where, claims := range map[string]map[string]any{
		"token response": cc,
		"access token":   h.decode(ccToken).Claims,
		"introspection":  h.introspect(ccToken),
	} {
		t.Run("client credentials "+where, func(t *testing.T) {
			assert.NotContains(t, claims, "my-property")
			assert.NotContains(t, claims, "other-property")
		})
	}
}

func TestCodeExchange(t *testing.T) {
	h := newHarness(t)
	code := func() string {
		return h.browser().authorizeCode(authParams(webClientID, "openid offline_access"), "developer", "test").Get("code")
	}
	exchange := func(code string, kv ...string) response {
		form := url.Values{
			"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {testRedirect}, "code_verifier": {testVerifier},
		}
		return h.postForm("token", with(form, kv...), basic(webClientID, webSecret))
	}

	tests := []struct {
		name string
		kv   []string
		auth auth
	}{
		// RFC 6749 §4.1.3.
		{"wrong redirect_uri", []string{"redirect_uri", "https://client.test/other"}, nil},
		{"missing redirect_uri", []string{"redirect_uri", ""}, nil},
		{"another client", nil, basic(otherClientID, otherSecret)},
		// RFC 7636 §4.6.
		{"wrong verifier", []string{"code_verifier", strings.Repeat("a", 43)}, nil},
		{"missing verifier", []string{"code_verifier", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := code()
			var r response
			if tt.auth != nil {
				r = h.postForm("token", url.Values{
					"grant_type": {"authorization_code"}, "code": {c},
					"redirect_uri": {testRedirect}, "code_verifier": {testVerifier},
				}, tt.auth)
			} else {
				r = exchange(c, tt.kv...)
			}
			require.Equal(t, http.StatusBadRequest, r.status, r.body)
			assert.Equal(t, "invalid_grant", r.json(t)["error"])
		})
	}

	t.Run("reuse", func(t *testing.T) {
		c := code()
		first := exchange(c)
		require.Equal(t, http.StatusOK, first.status, first.body)
		tokens := first.json(t)
		at, rt := tokens["access_token"].(string), tokens["refresh_token"].(string)
		assert.Equal(t, true, h.introspect(at)["active"])

		second := exchange(c)
		require.Equal(t, http.StatusBadRequest, second.status, second.body)
		assert.Equal(t, "invalid_grant", second.json(t)["error"])
		// RFC 6749 §4.1.2: a reused code revokes what it issued.
		assert.Equal(t, false, h.introspect(at)["active"])
		assert.Equal(t, false, h.introspect(rt)["active"])
	})

	t.Run("public client", func(t *testing.T) {
		cb := h.browser().authorizeCode(authParams(publicClientID, "openid"), "developer", "test")
		r := h.postForm("token", url.Values{
			"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
			"redirect_uri": {testRedirect}, "code_verifier": {testVerifier},
		}, post(publicClientID, ""))
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.NotEmpty(t, r.json(t)["access_token"])
	})
}

func TestRefresh(t *testing.T) {
	h := newHarness(t)
	refresh := func(rt string, a auth, kv ...string) response {
		return h.postForm("token", with(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, kv...), a)
	}
	web := basic(webClientID, webSecret)

	t.Run("rotation and reuse", func(t *testing.T) {
		first := h.userTokens(webClientID, webSecret, "openid my/scope offline_access")
		rt1 := first["refresh_token"].(string)

		r := refresh(rt1, web)
		require.Equal(t, http.StatusOK, r.status, r.body)
		second := r.json(t)
		rt2, at2 := second["refresh_token"].(string), second["access_token"].(string)
		assert.NotEqual(t, rt1, rt2, "refresh tokens rotate")
		assert.NotEmpty(t, second["id_token"], "openid refresh returns an ID token")
		assert.Equal(t, "value1234", h.decode(at2).Claims["my-property"])
		assert.Equal(t, true, h.introspect(at2)["active"])
		assert.Equal(t, false, h.introspect(first["access_token"].(string))["active"], "rotation revokes the old access token")

		// RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the
		// whole family.
		r = refresh(rt1, web)
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_grant", r.json(t)["error"])
		assert.Equal(t, false, h.introspect(at2)["active"])
		assert.Equal(t, false, h.introspect(rt2)["active"])
		r = refresh(rt2, web)
		assert.Equal(t, "invalid_grant", r.json(t)["error"])
	})

	t.Run("narrower scope", func(t *testing.T) {
		// RFC 6749 §6: the client may ask for less than was granted; the
		// new refresh token keeps the original scope.
		rt := h.userTokens(webClientID, webSecret, "openid my/scope offline_access")["refresh_token"].(string)
		r := refresh(rt, web, "scope", "openid offline_access")
		require.Equal(t, http.StatusOK, r.status, r.body)
		body := r.json(t)
		assert.Equal(t, "offline_access openid", body["scope"])
		at := body["access_token"].(string)
		assert.Equal(t, "offline_access openid", h.decode(at).Claims["scope"])
		assert.Equal(t, "offline_access openid", h.introspect(at)["scope"])

		r = refresh(body["refresh_token"].(string), web)
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.ElementsMatch(t, []string{"openid", "my/scope", "offline_access"}, strings.Fields(r.json(t)["scope"].(string)),
			"the refresh token keeps the original scope")
	})

	t.Run("scope cannot grow", func(t *testing.T) {
		// RFC 6749 §6: no scope not originally granted.
		rt := h.userTokens(webClientID, webSecret, "openid offline_access")["refresh_token"].(string)
		r := refresh(rt, web, "scope", "openid offline_access email")
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_scope", r.json(t)["error"])
		// The refused request did not spend the refresh token.
		assert.Equal(t, http.StatusOK, refresh(rt, web).status)
	})

	t.Run("another client's refresh token", func(t *testing.T) {
		// RFC 6749 §6: the refresh token is bound to its client.
		rt := h.userTokens(webClientID, webSecret, "openid offline_access")["refresh_token"].(string)
		r := refresh(rt, basic(otherClientID, otherSecret))
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_grant", r.json(t)["error"])
		// The owner can still use it.
		assert.Equal(t, http.StatusOK, refresh(rt, web).status)
	})

	t.Run("garbage", func(t *testing.T) {
		r := refresh("ory_rt_garbage.garbage", web)
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_grant", r.json(t)["error"])
	})
}
