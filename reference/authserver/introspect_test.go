package authserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntrospection(t *testing.T) {
	h := newHarness(t)
	user := h.userTokens(webClientID, webSecret, "openid offline_access my/scope")
	at, rt := user["access_token"].(string), user["refresh_token"].(string)
	cc := h.clientCredentials(nil).json(t)["access_token"].(string)

	revoked := h.clientCredentials(nil).json(t)["access_token"].(string)
	r := h.postForm("revocation", url.Values{"token": {revoked}}, basic(postmanID, postmanSecret))
	require.Equal(t, http.StatusOK, r.status, r.body)

	tests := []struct {
		name   string
		form   url.Values
		auth   auth
		active bool
	}{
		// RFC 7662 §2.1: a protected resource may ask about any token.
		{"resource server, user token", url.Values{"token": {at}}, basic(resClientID, resSecret), true},
		{"resource server, client token", url.Values{"token": {cc}}, basic(resClientID, resSecret), true},
		{"resource server, refresh token", url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}, basic(resClientID, resSecret), true},
		{"wrong hint still finds the token", url.Values{"token": {at}, "token_type_hint": {"refresh_token"}}, basic(resClientID, resSecret), true},
		{"owner", url.Values{"token": {at}}, basic(webClientID, webSecret), true},
		// RFC 7662 §4: a client must not learn about others' tokens.
		{"another client", url.Values{"token": {at}}, basic(otherClientID, otherSecret), false},
		{"another client, client token", url.Values{"token": {cc}}, basic(webClientID, webSecret), false},
		// RFC 7662 §2.2: unknown, revoked and malformed are all inactive.
		{"revoked", url.Values{"token": {revoked}}, basic(resClientID, resSecret), false},
		{"garbage", url.Values{"token": {"garbage"}}, basic(resClientID, resSecret), false},
		{"tampered", url.Values{"token": {at[:len(at)-2] + "xx"}}, basic(resClientID, resSecret), false},
		{"opaque lookalike", url.Values{"token": {"ory_at_x.y"}}, basic(resClientID, resSecret), false},
		{"id token", url.Values{"token": {user["id_token"].(string)}}, basic(resClientID, resSecret), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.postForm("introspection", tt.form, tt.auth)
			require.Equal(t, http.StatusOK, r.status, r.body)
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			body := r.json(t)
			assert.Equal(t, tt.active, body["active"])
			if !tt.active {
				assert.Equal(t, map[string]any{"active": false}, body, "an inactive token reveals nothing")
			}
		})
	}

	t.Run("members", func(t *testing.T) {
		// RFC 7662 §2.2.
		body := h.introspect(at)
		assert.Equal(t, h.issuer, body["iss"])
		assert.Equal(t, webClientID, body["client_id"])
		assert.Equal(t, "developer", body["sub"])
		assert.Equal(t, "developer", body["username"])
		assert.Equal(t, "openid offline_access my/scope", body["scope"])
		assert.Equal(t, "Bearer", body["token_type"])
		assert.Contains(t, body["aud"], h.resource)
		assert.Greater(t, body["exp"], body["iat"])
	})
}

func TestIntrospectionErrors(t *testing.T) {
	h := newHarness(t)
	token := h.clientCredentials(nil).json(t)["access_token"].(string)
	tests := []struct {
		name   string
		form   url.Values
		auth   auth
		status int
		code   string
	}{
		// RFC 7662 §2.1: the caller must authenticate.
		{"no authentication", url.Values{"token": {token}}, noAuth, 401, "invalid_client"},
		{"wrong secret", url.Values{"token": {token}}, basic(resClientID, "wrong"), 401, "invalid_client"},
		{"public client", url.Values{"token": {token}}, post(publicClientID, ""), 401, "invalid_client"},
		{"missing token", url.Values{}, basic(resClientID, resSecret), 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.postForm("introspection", tt.form, tt.auth)
			require.Equal(t, tt.status, r.status, r.body)
			assert.Equal(t, tt.code, r.json(t)["error"])
			if tt.status == http.StatusUnauthorized {
				assert.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic "))
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		r := h.get("introspection?token=" + url.QueryEscape(token))
		assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	})
}

func TestRevocation(t *testing.T) {
	h := newHarness(t)
	web := basic(webClientID, webSecret)
	revoke := func(token string, a auth, kv ...string) response {
		return h.postForm("revocation", with(url.Values{"token": {token}}, kv...), a)
	}

	t.Run("own access token", func(t *testing.T) {
		at := h.userTokens(webClientID, webSecret, "openid")["access_token"].(string)
		r := revoke(at, web)
		// RFC 7009 §2.2.
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.Equal(t, false, h.introspect(at)["active"])
		// Revoking again is still a success.
		assert.Equal(t, http.StatusOK, revoke(at, web).status)
	})
	t.Run("another client's token", func(t *testing.T) {
		at := h.userTokens(webClientID, webSecret, "openid")["access_token"].(string)
		r := revoke(at, basic(otherClientID, otherSecret))
		// RFC 7009 §2.1: the server refuses, and nothing is revoked.
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "unauthorized_client", r.json(t)["error"])
		assert.Equal(t, true, h.introspect(at)["active"])
	})
	t.Run("unknown token", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, revoke("no-such-token", web).status)
		assert.Equal(t, http.StatusOK, revoke("ory_rt_x.y", web, "token_type_hint", "refresh_token").status)
	})
	t.Run("refresh token revokes the access token", func(t *testing.T) {
		tokens := h.userTokens(webClientID, webSecret, "openid offline_access")
		at, rt := tokens["access_token"].(string), tokens["refresh_token"].(string)
		r := revoke(rt, web, "token_type_hint", "refresh_token")
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.Equal(t, false, h.introspect(rt)["active"])
		assert.Equal(t, false, h.introspect(at)["active"])
		r = h.postForm("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, web)
		assert.Equal(t, "invalid_grant", r.json(t)["error"])
	})
	t.Run("public client", func(t *testing.T) {
		b := h.browser()
		cb := b.authorizeCode(authParams(publicClientID, "openid"), "developer", "test")
		r := h.exchange(cb.Get("code"), post(publicClientID, ""))
		at := r.json(t)["access_token"].(string)
		require.Equal(t, http.StatusOK, revoke(at, post(publicClientID, "")).status)
		assert.Equal(t, false, h.introspect(at)["active"])
	})
	t.Run("no authentication", func(t *testing.T) {
		at := h.clientCredentials(nil).json(t)["access_token"].(string)
		r := revoke(at, noAuth)
		require.Equal(t, http.StatusUnauthorized, r.status, r.body)
		assert.Equal(t, "invalid_client", r.json(t)["error"])
		assert.Equal(t, true, h.introspect(at)["active"])
	})
	t.Run("wrong secret", func(t *testing.T) {
		r := revoke("x", basic(webClientID, "wrong"))
		require.Equal(t, http.StatusUnauthorized, r.status, r.body)
		assert.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic "))
	})
	t.Run("missing token", func(t *testing.T) {
		r := h.postForm("revocation", url.Values{}, web)
		require.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_request", r.json(t)["error"])
	})
}
