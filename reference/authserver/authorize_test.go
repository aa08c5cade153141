package authserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// with returns a copy of q with the given parameters set; an empty value
// removes the parameter.
func with(q url.Values, kv ...string) url.Values {
	out := cloneValues(q)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// TestAuthorizeErrorPage covers requests whose redirect URI cannot be
// trusted: RFC 6749 §4.1.2.1 forbids redirecting, so the user sees a page.
func TestAuthorizeErrorPage(t *testing.T) {
	h := newHarness(t)
	base := authParams(webClientID, "")
	repeated := cloneValues(base)
	repeated.Add("scope", "openid")
	tests := []struct {
		name  string
		query url.Values
		code  string
	}{
		{"unknown client", with(base, "client_id", "no-such-client"), "invalid_client"},
		{"missing client_id", with(base, "client_id", ""), "invalid_client"},
		{"unregistered redirect_uri", with(base, "redirect_uri", "https://evil.test/cb"), "invalid_request"},
		{"redirect_uri prefix", with(base, "redirect_uri", "https://client.test/c"), "invalid_request"},
		{"redirect_uri extra path", with(base, "redirect_uri", testRedirect+"/more"), "invalid_request"},
		{"redirect_uri extra query", with(base, "redirect_uri", testRedirect+"?x=1"), "invalid_request"},
		{"redirect_uri other scheme", with(base, "redirect_uri", "http://client.test/cb"), "invalid_request"},
		// RFC 6749 §3.1: parameters must not repeat; which of two
		// redirect URIs to trust is unknowable, so nothing redirects.
		{"repeated parameter", repeated, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.browser().authorize(tt.query)
			assert.Equal(t, http.StatusBadRequest, r.status, r.body)
			assert.Equal(t, tt.code, errorPage(t, r))
		})
	}
}

// TestAuthorizeRedirectError covers errors reported to a trusted redirect
// URI: RFC 6749 §4.1.2.1 with state, and iss per RFC 9207 §2.
func TestAuthorizeRedirectError(t *testing.T) {
	h := newHarness(t)
	base := authParams(webClientID, "")
	spa := authParams(publicClientID, "")
	tests := []struct {
		name  string
		query url.Values
		code  string
	}{
		{"missing response_type", with(base, "response_type", ""), "unsupported_response_type"},
		{"unsupported response_type", with(base, "response_type", "token"), "unsupported_response_type"},
		{"unknown scope", with(base, "scope", "openid admin"), "invalid_scope"},
		// RFC 9700 §2.1.1: public clients must use PKCE.
		{"public client without challenge", with(spa, "code_challenge", "", "code_challenge_method", ""), "invalid_request"},
		{"method plain refused", with(base, "code_challenge", testVerifier, "code_challenge_method", "plain"), "invalid_request"},
		{"challenge without method is plain", with(base, "code_challenge", testVerifier, "code_challenge_method", ""), "invalid_request"},
		{"unknown method", with(base, "code_challenge_method", "S512"), "invalid_request"},
		{"method without challenge", with(base, "code_challenge", ""), "invalid_request"},
		// RFC 7636 §4.2: an S256 challenge is 43 base64url characters.
		{"challenge too short", with(base, "code_challenge", testChallenge[:42]), "invalid_request"},
		{"challenge bad characters", with(base, "code_challenge", strings.Repeat("+", 43)), "invalid_request"},
		// RFC 8707 §2.
		{"unknown resource", with(base, "resource", "https://unknown.test/api"), "invalid_target"},
		{"relative resource", with(base, "resource", "/resserver"), "invalid_target"},
		{"prompt none with login", with(base, "prompt", "none login"), "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.browser().authorize(tt.query)
			require.Equal(t, http.StatusSeeOther, r.status, r.body)
			loc := r.location(t)
			assert.Equal(t, "client.test", loc.Host)
			q := loc.Query()
			assert.Equal(t, tt.code, q.Get("error"), q.Get("error_description"))
			assert.Equal(t, "state-1234", q.Get("state"))
			assert.Equal(t, h.issuer, q.Get("iss"))
			assert.Empty(t, q.Get("code"))
		})
	}
}

func TestAuthorizeCodeFlow(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	page := b.authorize(authParams(webClientID, ""))
	require.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, page.body, `id="login-form"`)
	assert.Equal(t, "no-store", page.header.Get("Cache-Control"))

	page = b.login(page, "developer", "test")
	require.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, page.body, `id="consent-form"`)
	assert.Contains(t, page.body, "my/scope")

	cb := b.callback(b.consent(page, "approve"))
	assert.NotEmpty(t, cb.Get("code"))
	assert.Equal(t, "state-1234", cb.Get("state"))
	assert.Equal(t, h.issuer, cb.Get("iss"))

	// OIDC Core §3.1.2.1: POST is as good as GET, and consent is
	// remembered.
	r := b.post(h.url("authorize"), authParams(webClientID, ""))
	assert.NotEmpty(t, b.callback(r).Get("code"))
}

func TestAuthorizePrompt(t *testing.T) {
	h := newHarness(t)
	q := authParams(webClientID, "openid profile")

	t.Run("none without a session", func(t *testing.T) {
		// OIDC Core §3.1.2.6: login_required at the redirect URI.
		cb := h.browser().callback(h.browser().authorize(with(q, "prompt", "none")))
		assert.Equal(t, "login_required", cb.Get("error"))
		assert.Equal(t, "state-1234", cb.Get("state"))
		assert.Equal(t, h.issuer, cb.Get("iss"))
	})

	b := h.browser()
	b.authorizeCode(q, "developer", "test")

	t.Run("none after login and consent", func(t *testing.T) {
		cb := b.callback(b.authorize(with(q, "prompt", "none")))
		assert.NotEmpty(t, cb.Get("code"), cb)
	})
	t.Run("none with a scope not consented", func(t *testing.T) {
		cb := b.callback(b.authorize(with(q, "prompt", "none", "scope", "openid email")))
		assert.Equal(t, "consent_required", cb.Get("error"))
	})
	t.Run("login forces the login page", func(t *testing.T) {
		page := b.authorize(with(q, "prompt", "login"))
		assert.Contains(t, page.body, `id="login-form"`)
		// Consent was given, so the login leads straight to the client.
		cb := b.callback(b.login(page, "developer", "test"))
		assert.NotEmpty(t, cb.Get("code"))
	})
	t.Run("consent asks again", func(t *testing.T) {
		page := b.authorize(with(q, "prompt", "consent"))
		assert.Contains(t, page.body, `id="consent-form"`)
	})
	t.Run("no prompt reuses the session", func(t *testing.T) {
		assert.NotEmpty(t, b.callback(b.authorize(q)).Get("code"))
	})
	// OIDC Core §3.1.2.1: max_age=0 asks for a fresh login, like
	// prompt=login; a generous max_age does not.
	t.Run("max_age 0 forces the login page", func(t *testing.T) {
		page := b.authorize(with(q, "max_age", "0"))
		assert.Contains(t, page.body, `id="login-form"`)
	})
	t.Run("max_age 0 with prompt none", func(t *testing.T) {
		cb := b.callback(b.authorize(with(q, "max_age", "0", "prompt", "none")))
		assert.Equal(t, "login_required", cb.Get("error"))
	})
	t.Run("max_age 3600 reuses the session", func(t *testing.T) {
		assert.NotEmpty(t, b.callback(b.authorize(with(q, "max_age", "3600"))).Get("code"))
	})
}

func TestAuthorizeLogin(t *testing.T) {
	h := newHarness(t)
	q := authParams(webClientID, "openid")

	tests := []struct {
		name, user, password string
	}{
		{"wrong password", "developer", "wrong"},
		{"unknown user", "nobody", "test"},
		{"empty password", "developer", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := h.browser()
			page := b.login(b.authorize(q), tt.user, tt.password)
			assert.Equal(t, http.StatusUnauthorized, page.status)
			assert.Contains(t, page.body, `id="login-error"`)
			// The same interaction can be retried with the right password.
			page = b.login(page, "developer", "test")
			assert.Contains(t, page.body, `id="consent-form"`)
		})
	}
}

// TestAuthorizeForgedForm posts the login and consent forms with a wrong
// CSRF token, from another browser, or out of order.
func TestAuthorizeForgedForm(t *testing.T) {
	h := newHarness(t)
	q := authParams(webClientID, "openid")

	t.Run("wrong csrf token", func(t *testing.T) {
		b := h.browser()
		action, fields, ok := form(t, b.authorize(q), "login-form")
		require.True(t, ok)
		fields.Set("csrf_token", "forged")
		fields.Set("username", "developer")
		fields.Set("password", "test")
		r := b.post(action, fields)
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, "invalid_request", errorPage(t, r))
	})
	t.Run("another browser", func(t *testing.T) {
		// Login CSRF: the form is bound to the browser that started it.
		action, fields, ok := form(t, h.browser().authorize(q), "login-form")
		require.True(t, ok)
		fields.Set("username", "developer")
		fields.Set("password", "test")
		r := h.browser().post(action, fields)
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, "invalid_request", errorPage(t, r))
	})
	t.Run("unknown interaction", func(t *testing.T) {
		b := h.browser()
		action, fields, ok := form(t, b.authorize(q), "login-form")
		require.True(t, ok)
		fields.Set("interaction", "no-such-interaction")
		r := b.post(action, fields)
		assert.Equal(t, http.StatusBadRequest, r.status)
		errorPage(t, r)
	})
	t.Run("consent before login", func(t *testing.T) {
		b := h.browser()
		_, fields, ok := form(t, b.authorize(q), "login-form")
		require.True(t, ok)
		fields.Set("decision", "approve")
		r := b.post(h.url("authorize/consent"), fields)
		assert.Equal(t, http.StatusBadRequest, r.status)
		errorPage(t, r)
	})
	t.Run("consent form replayed", func(t *testing.T) {
		b := h.browser()
		page := b.login(b.authorize(q), "developer", "test")
		b.callback(b.consent(page, "approve"))
		// The interaction ended with the first answer.
		r := b.consent(page, "approve")
		assert.Equal(t, http.StatusBadRequest, r.status)
		errorPage(t, r)
	})
}

func TestAuthorizeDeny(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	page := b.login(b.authorize(authParams(webClientID, "openid")), "developer", "test")
	cb := b.callback(b.consent(page, "deny"))
	// RFC 6749 §4.1.2.1.
	assert.Equal(t, "access_denied", cb.Get("error"))
	assert.Equal(t, "state-1234", cb.Get("state"))
	assert.Equal(t, h.issuer, cb.Get("iss"))
	assert.Empty(t, cb.Get("code"))
}

func TestAuthorizeMethodNotAllowed(t *testing.T) {
	h := newHarness(t)
	req, err := http.NewRequest(http.MethodPut, h.url("authorize"), nil)
	require.NoError(t, err)
	r := h.do(req)
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, "GET, POST", r.header.Get("Allow"))
}
