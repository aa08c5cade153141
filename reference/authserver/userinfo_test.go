package authserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// userinfo calls the UserInfo endpoint with a bearer token in the
// Authorization header (RFC 6750 §2.1).
func (h *harness) userinfo(token string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url("userinfo"), nil)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	return h.do(req)
}

// tokensFor runs the code flow for any user and returns the token response.
func (h *harness) tokensFor(user, password, scope string) map[string]any {
	h.t.Helper()
	cb := h.browser().authorizeCode(authParams(webClientID, scope), user, password)
	r := h.exchange(cb.Get("code"), basic(webClientID, webSecret))
	require.Equalf(h.t, http.StatusOK, r.status, "token: %s", r.body)
	return r.json(h.t)
}

func TestUserinfoClaims(t *testing.T) {
	h := newHarness(t)
	profile := []string{"name", "given_name", "family_name", "preferred_username", "updated_at"}
	email := []string{"email", "email_verified"}
	tests := []struct {
		name, user, password, scope string
		present, absent             []string
	}{
		// OIDC Core §5.4: scopes select the claims.
		{"openid only", "developer", "test", "openid", nil, append(profile, email...)},
		{"profile", "developer", "test", "openid profile", profile, email},
		{"email", "developer", "test", "openid email", email, profile},
		{"profile and email", "developer", "test", "openid profile email", append(profile, email...), nil},
		// superuser has no e-mail address, so no email claim at all.
		{"superuser email", "superuser", "SYS", "openid profile email", []string{"name", "preferred_username"}, email},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := h.tokensFor(tt.user, tt.password, tt.scope)["access_token"].(string)
			r := h.userinfo(at)
			require.Equal(t, http.StatusOK, r.status, r.body)
			assert.Contains(t, r.header.Get("Content-Type"), "application/json")
			claims := r.json(t)
			assert.Equal(t, tt.user, claims["sub"])
			for _, c := range tt.present {
				assert.Contains(t, claims, c)
			}
			for _, c := range tt.absent {
				assert.NotContains(t, claims, c)
			}
		})
	}
	t.Run("values", func(t *testing.T) {
		at := h.tokensFor("developer", "test", "openid profile email")["access_token"].(string)
		claims := h.userinfo(at).json(t)
		assert.Equal(t, "Miguel de Cervantes Saavedra", claims["name"])
		assert.Equal(t, "miguel.cervantes@quiijote.es", claims["email"])
		assert.Equal(t, false, claims["email_verified"])
		assert.Equal(t, "developer", claims["preferred_username"])
	})
}

func TestUserinfoMethods(t *testing.T) {
	h := newHarness(t)
	at := h.tokensFor("developer", "test", "openid profile")["access_token"].(string)

	// OIDC Core §5.3.1: GET and POST; RFC 6750 §2.1 header, §2.2 form.
	t.Run("GET header", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, h.userinfo(at).status)
	})
	t.Run("POST header", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, h.url("userinfo"), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+at)
		assert.Equal(t, http.StatusOK, h.do(req).status)
	})
	t.Run("POST form", func(t *testing.T) {
		r := h.postForm("userinfo", url.Values{"access_token": {at}}, noAuth)
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.Equal(t, "developer", r.json(t)["sub"])
	})
	t.Run("lower-case scheme", func(t *testing.T) {
		// RFC 9110 §11.1: the auth scheme is case-insensitive.
		req, err := http.NewRequest(http.MethodGet, h.url("userinfo"), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "bearer "+at)
		assert.Equal(t, http.StatusOK, h.do(req).status)
	})
}

func TestUserinfoErrors(t *testing.T) {
	h := newHarness(t)
	user := h.tokensFor("developer", "test", "openid offline_access")
	noOpenID := h.tokensFor("developer", "test", "profile my/scope")["access_token"].(string)
	cc := h.clientCredentials(nil).json(t)["access_token"].(string)
	revoked := h.tokensFor("developer", "test", "openid")["access_token"].(string)
	r := h.postForm("revocation", url.Values{"token": {revoked}}, basic(webClientID, webSecret))
	require.Equal(t, http.StatusOK, r.status, r.body)

	realm := `Bearer realm="` + h.issuer + `"`
	tests := []struct {
		name   string
		do     func() response
		status int
		code   string // empty: no error attribute (RFC 6750 §3.1)
	}{
		{"no token", func() response {
			req, _ := http.NewRequest(http.MethodGet, h.url("userinfo"), nil)
			return h.do(req)
		}, 401, ""},
		{"other scheme", func() response {
			req, _ := http.NewRequest(http.MethodGet, h.url("userinfo"), nil)
			req.SetBasicAuth(webClientID, webSecret)
			return h.do(req)
		}, 401, ""},
		{"garbage token", func() response { return h.userinfo("garbage") }, 401, "invalid_token"},
		{"tampered token", func() response { return h.userinfo(user["access_token"].(string) + "x") }, 401, "invalid_token"},
		{"revoked token", func() response { return h.userinfo(revoked) }, 401, "invalid_token"},
		// Userinfo takes access tokens only (OIDC Core §5.3).
		{"refresh token", func() response { return h.userinfo(user["refresh_token"].(string)) }, 401, "invalid_token"},
		{"id token", func() response { return h.userinfo(user["id_token"].(string)) }, 401, "invalid_token"},
		// OIDC Core §5.3.3, RFC 6750 §3.1.
		{"no openid scope", func() response { return h.userinfo(noOpenID) }, 403, "insufficient_scope"},
		{"client credentials token", func() response { return h.userinfo(cc) }, 403, "insufficient_scope"},
		// RFC 6750 §2: one method per request.
		{"token twice", func() response {
			req, _ := http.NewRequest(http.MethodPost, h.url("userinfo"),
				strings.NewReader(url.Values{"access_token": {user["access_token"].(string)}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+user["access_token"].(string))
			return h.do(req)
		}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			require.Equal(t, tt.status, r.status, r.body)
			challenge := r.header.Get("WWW-Authenticate")
			if tt.code == "" {
				assert.Equal(t, realm, challenge)
				return
			}
			assert.True(t, strings.HasPrefix(challenge, realm+`, error="`+tt.code+`"`), challenge)
			assert.Equal(t, tt.code, r.json(t)["error"])
		})
	}
}
