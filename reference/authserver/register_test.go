package authserver

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// register posts client metadata to the registration endpoint.
func (h *harness) register(metadata, bearer string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url("register"), strings.NewReader(metadata))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return h.do(req)
}

// widePolicy is a registration policy an operator widened to service
// clients of the resource server.
func widePolicy(c *Config) {
	c.RegistrationPolicy = RegistrationPolicy{
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"},
		Scopes:     []string{"openid", "profile", "email", "offline_access", "my/scope"},
		Audience:   []string{c.PublicURL + "/resserver"},
	}
}

func TestRegistrationOpen(t *testing.T) {
	h := newHarnessWith(t, widePolicy, fastHash)

	t.Run("confidential client", func(t *testing.T) {
		r := h.register(`{"redirect_uris":["https://rp.test/cb"],"client_name":"RP"}`, "")
		// RFC 7591 §3.2.1.
		require.Equal(t, http.StatusCreated, r.status, r.body)
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
		body := r.json(t)
		assert.NotEmpty(t, body["client_id"])
		assert.NotEmpty(t, body["client_secret"])
		assert.Equal(t, float64(0), body["client_secret_expires_at"])
		assert.NotZero(t, body["client_id_issued_at"])
		// Defaults are filled in and returned (RFC 7591 §2, §3.2.1).
		assert.Equal(t, "client_secret_basic", body["token_endpoint_auth_method"])
		assert.Equal(t, []any{"authorization_code"}, body["grant_types"])
		assert.Equal(t, []any{"code"}, body["response_types"])
		assert.Equal(t, "RP", body["client_name"])
	})
	t.Run("public client has no secret", func(t *testing.T) {
		r := h.register(`{"redirect_uris":["http://127.0.0.1:8080/cb"],"token_endpoint_auth_method":"none"}`, "")
		require.Equal(t, http.StatusCreated, r.status, r.body)
		body := r.json(t)
		assert.NotContains(t, body, "client_secret")
		assert.NotContains(t, body, "client_secret_expires_at")
	})
	t.Run("registered client uses client credentials", func(t *testing.T) {
		r := h.register(`{"grant_types":["client_credentials"],"scope":"my/scope"}`, "")
		require.Equal(t, http.StatusCreated, r.status, r.body)
		body := r.json(t)
		tr := h.postForm("token", url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}},
			basic(body["client_id"].(string), body["client_secret"].(string)))
		require.Equal(t, http.StatusOK, tr.status, tr.body)
		tok := h.decode(tr.json(t)["access_token"].(string))
		assert.Equal(t, []any{h.resource}, tok.Claims["aud"])
		assert.Equal(t, body["client_id"], tok.Claims["client_id"])
	})
}

func TestRegistrationErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, metadata, code string
	}{
		// RFC 7591 §3.2.2; redirect rules of RFC 6749 §3.1.2 and RFC 8252 §7.3.
		{"http on a public host", `{"redirect_uris":["http://rp.test/cb"]}`, "invalid_redirect_uri"},
		{"fragment", `{"redirect_uris":["https://rp.test/cb#x"]}`, "invalid_redirect_uri"},
		{"relative", `{"redirect_uris":["/cb"]}`, "invalid_redirect_uri"},
		{"custom scheme", `{"redirect_uris":["javascript:alert(1)"]}`, "invalid_redirect_uri"},
		{"no redirect for the code grant", `{}`, "invalid_redirect_uri"},
		{"public client credentials", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}`, "invalid_client_metadata"},
		{"unknown auth method", `{"redirect_uris":["https://rp.test/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, "invalid_client_metadata"},
		{"unknown grant", `{"redirect_uris":["https://rp.test/cb"],"grant_types":["password"]}`, "invalid_client_metadata"},
		{"implicit", `{"redirect_uris":["https://rp.test/cb"],"response_types":["token"]}`, "invalid_client_metadata"},
		{"grant and response type disagree", `{"grant_types":["client_credentials"],"response_types":["code"]}`, "invalid_client_metadata"},
		{"unknown scope", `{"redirect_uris":["https://rp.test/cb"],"scope":"openid admin"}`, "invalid_client_metadata"},
		// The default registration policy.
		{"client credentials", `{"grant_types":["client_credentials"],"scope":"my/scope"}`, "invalid_client_metadata"},
		{"bad post-logout URI", `{"redirect_uris":["https://rp.test/cb"],"post_logout_redirect_uris":["http://rp.test/"]}`, "invalid_client_metadata"},
		{"not JSON", `redirect_uris=https://rp.test/cb`, "invalid_client_metadata"},
		{"wrong types", `{"redirect_uris":"https://rp.test/cb"}`, "invalid_client_metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.register(tt.metadata, "")
			require.Equal(t, http.StatusBadRequest, r.status, r.body)
			assert.Equal(t, tt.code, r.json(t)["error"])
		})
	}
	t.Run("form content type", func(t *testing.T) {
		r := h.postForm("register", url.Values{"redirect_uris": {"https://rp.test/cb"}}, noAuth)
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_client_metadata", r.json(t)["error"])
	})
	t.Run("GET", func(t *testing.T) {
		assert.Equal(t, http.StatusMethodNotAllowed, h.get("register").status)
	})
}

func TestRegistrationToken(t *testing.T) {
	const iat = "initial-access-token"
	h := newHarnessWith(t, func(c *Config) {
		c.Registration = RegistrationToken
		c.InitialAccessToken = iat
	}, fastHash)
	md := `{"redirect_uris":["https://rp.test/cb"]}`
	tests := []struct {
		name, bearer string
		status       int
	}{
		// RFC 7591 §3: the initial access token is a bearer token.
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "wrong", http.StatusUnauthorized},
		{"token prefix", iat[:5], http.StatusUnauthorized},
		{"right token", iat, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.register(md, tt.bearer)
			require.Equal(t, tt.status, r.status, r.body)
			if tt.status == http.StatusUnauthorized {
				assert.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer "))
				assert.NotContains(t, r.body, "client_id")
			}
		})
	}
}

// TestRegistrationPolicy is the default policy: a self-registered client
// gets the code grant and the OpenID Connect scopes, no audience, so its
// tokens open no protected API.
func TestRegistrationPolicy(t *testing.T) {
	h := newHarness(t)
	r := h.register(`{"redirect_uris":["https://rp.test/cb"],"scope":"openid profile my/scope"}`, "")
	require.Equal(t, http.StatusCreated, r.status, r.body)
	body := r.json(t)
	// RFC 7591 §2: registered with the allowed part of the scope.
	assert.Equal(t, "openid profile", body["scope"])
	id, secret := body["client_id"].(string), body["client_secret"].(string)

	stored, err := h.st.GetClient(context.Background(), id)
	require.NoError(t, err)
	assert.Empty(t, stored.GetAudience(), "no resource server audience")
	assert.ElementsMatch(t, []string{"openid", "profile"}, stored.GetScopes())

	tr := h.postForm("token", url.Values{"grant_type": {"client_credentials"}}, basic(id, secret))
	assert.Equal(t, http.StatusBadRequest, tr.status, tr.body)
	assert.Equal(t, "unauthorized_client", tr.json(t)["error"])
	tr = h.postForm("token", url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}}, basic(id, secret))
	assert.Equal(t, http.StatusBadRequest, tr.status, tr.body)
	assert.Contains(t, []string{"invalid_scope", "unauthorized_client"}, tr.json(t)["error"])

	t.Run("without scope", func(t *testing.T) {
		r := h.register(`{"redirect_uris":["https://rp.test/cb"]}`, "")
		require.Equal(t, http.StatusCreated, r.status, r.body)
		assert.Equal(t, "openid profile email offline_access", r.json(t)["scope"])
	})
	t.Run("code flow still works", func(t *testing.T) {
		q := authParams(id, "openid profile")
		q.Set("redirect_uri", "https://rp.test/cb")
		page := h.browser().authorize(q)
		_, _, ok := form(t, page, "login-form")
		assert.True(t, ok, "a login form: %s", page.body)
	})
}
