package authserver

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogout(t *testing.T) {
	h := newHarness(t)
	q := authParams(webClientID, "openid")

	// loggedIn returns a browser with a login session and an ID token.
	loggedIn := func(t *testing.T) (*browser, string) {
		b := h.browser()
		cb := b.authorizeCode(q, "developer", "test")
		r := h.exchange(cb.Get("code"), basic(webClientID, webSecret))
		require.Equal(t, http.StatusOK, r.status, r.body)
		return b, r.json(t)["id_token"].(string)
	}
	logout := func(b *browser, params url.Values) response {
		return b.get(h.url("logout") + "?" + params.Encode())
	}
	loginCleared := func(t *testing.T, r response) {
		t.Helper()
		var cleared bool
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == loginCookie && c.Value == "" && c.MaxAge < 0 {
				cleared = true
			}
		}
		assert.True(t, cleared, "the login cookie is cleared: %v", r.header.Values("Set-Cookie"))
	}
	sessionEnded := func(t *testing.T, b *browser) {
		t.Helper()
		cb := b.callback(b.authorize(with(q, "prompt", "none")))
		assert.Equal(t, "login_required", cb.Get("error"))
	}

	stillLoggedIn := func(t *testing.T, b *browser) {
		t.Helper()
		assert.NotEmpty(t, b.callback(b.authorize(with(q, "prompt", "none"))).Get("code"), "the session survives")
	}
	// confirmation asserts the confirmation page and returns its form.
	confirmation := func(t *testing.T, r response) (string, url.Values) {
		t.Helper()
		require.Equal(t, http.StatusOK, r.status, r.body)
		action, fields, ok := form(t, r, "logout-form")
		require.Truef(t, ok, "a confirmation form: %s", r.body)
		assert.Empty(t, r.header.Get("Location"))
		fields.Set("confirm", "yes")
		return action, fields
	}

	t.Run("no parameters asks first", func(t *testing.T) {
		// RP-Initiated Logout §2: without a hint the OP asks the user.
		b, _ := loggedIn(t)
		action, fields := confirmation(t, logout(b, url.Values{}))
		stillLoggedIn(t, b)
		r := b.post(action, fields)
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.Contains(t, r.body, `id="logged-out"`)
		loginCleared(t, r)
		sessionEnded(t, b)
	})
	t.Run("hint and registered redirect", func(t *testing.T) {
		// RP-Initiated Logout §2, §3: redirect with state.
		b, idToken := loggedIn(t)
		r := logout(b, url.Values{
			"id_token_hint": {idToken}, "post_logout_redirect_uri": {testLogoutRedirect}, "state": {"bye-1"},
		})
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		assert.Equal(t, testLogoutRedirect+"?state=bye-1", r.header.Get("Location"))
		loginCleared(t, r)
		sessionEnded(t, b)
	})
	t.Run("client_id without hint redirects after confirmation", func(t *testing.T) {
		b, _ := loggedIn(t)
		r := b.post(h.url("logout"), url.Values{"client_id": {webClientID}, "post_logout_redirect_uri": {testLogoutRedirect}, "state": {"s"}})
		action, fields := confirmation(t, r)
		stillLoggedIn(t, b)
		r = b.post(action, fields)
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		assert.Equal(t, testLogoutRedirect+"?state=s", r.header.Get("Location"))
		sessionEnded(t, b)
	})
	t.Run("hint of another user asks first", func(t *testing.T) {
		other := h.browser()
		cb := other.authorizeCode(q, "superuser", "SYS")
		r := h.exchange(cb.Get("code"), basic(webClientID, webSecret))
		require.Equal(t, http.StatusOK, r.status, r.body)
		b, _ := loggedIn(t)
		confirmation(t, logout(b, url.Values{"id_token_hint": {r.json(t)["id_token"].(string)}}))
		stillLoggedIn(t, b)
	})
	t.Run("self-registered client cannot bounce users", func(t *testing.T) {
		// The open redirect: a client anyone can register names any
		// post-logout URI; without a hint nobody is sent there unasked.
		reg := h.register(`{"redirect_uris":["https://evil.example/cb"],"post_logout_redirect_uris":["https://evil.example/landing"]}`, "")
		require.Equal(t, http.StatusCreated, reg.status, reg.body)
		b, _ := loggedIn(t)
		r := logout(b, url.Values{"client_id": {reg.json(t)["client_id"].(string)}, "post_logout_redirect_uri": {"https://evil.example/landing"}})
		confirmation(t, r)
		stillLoggedIn(t, b)
	})
	t.Run("forged confirmations", func(t *testing.T) {
		victim, _ := loggedIn(t)
		attacker := h.browser()
		action, fields := confirmation(t, logout(attacker, url.Values{}))
		for name, f := range map[string]url.Values{
			"token of another browser": fields,
			"no token":                 {"confirm": {"yes"}},
			"wrong token":              {"confirm": {"yes"}, "csrf_token": {"x"}},
		} {
			t.Run(name, func(t *testing.T) {
				confirmation(t, victim.post(action, f))
				stillLoggedIn(t, victim)
			})
		}
	})

	_, idToken := loggedIn(t)
	tests := []struct {
		name   string
		params url.Values
	}{
		// §3: only a registered URI, matched exactly.
		{"unregistered redirect", url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.test/"}}},
		{"redirect with extra path", url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {testLogoutRedirect + "/x"}}},
		{"another client's redirect", url.Values{"client_id": {otherClientID}, "post_logout_redirect_uri": {testLogoutRedirect}}},
		{"redirect without a client", url.Values{"post_logout_redirect_uri": {testLogoutRedirect}}},
		{"garbage hint", url.Values{"id_token_hint": {"garbage"}}},
		{"tampered hint", url.Values{"id_token_hint": {idToken + "x"}}},
		{"client_id not in hint", url.Values{"id_token_hint": {idToken}, "client_id": {otherClientID}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := loggedIn(t)
			r := logout(b, tt.params)
			require.Equal(t, http.StatusBadRequest, r.status, r.body)
			assert.Equal(t, "invalid_request", errorPage(t, r))
			// A refused logout leaves the session alone.
			assert.NotEmpty(t, b.callback(b.authorize(with(q, "prompt", "none"))).Get("code"))
		})
	}
}
