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

	t.Run("no parameters", func(t *testing.T) {
		b, _ := loggedIn(t)
		r := logout(b, url.Values{})
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
	t.Run("POST with client_id", func(t *testing.T) {
		b, _ := loggedIn(t)
		r := b.post(h.url("logout"), url.Values{"client_id": {webClientID}, "post_logout_redirect_uri": {testLogoutRedirect}})
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		assert.Equal(t, testLogoutRedirect, r.header.Get("Location"))
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
