package authserver

import (
	"net/http"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiscovery(t *testing.T) {
	h := newHarness(t)
	// OIDC Discovery §4 serves the document below the issuer; RFC 8414 §3
	// inserts the well-known segment before the issuer's path.
	paths := []string{
		IssuerPath + "/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server" + IssuerPath,
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
			require.NoError(t, err)
			r := h.do(req)
			require.Equal(t, http.StatusOK, r.status)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			m := r.json(t)

			// OIDC Discovery §4.3: issuer equals the URL the document was
			// retrieved from, minus the well-known suffix.
			assert.Equal(t, h.issuer, m["issuer"])
			want := map[string]any{
				"issuer":                                         h.issuer,
				"authorization_endpoint":                         h.url("authorize"),
				"token_endpoint":                                 h.url("token"),
				"userinfo_endpoint":                              h.url("userinfo"),
				"jwks_uri":                                       h.url("jwks"),
				"registration_endpoint":                          h.url("register"),
				"introspection_endpoint":                         h.url("introspection"),
				"revocation_endpoint":                            h.url("revocation"),
				"end_session_endpoint":                           h.url("logout"),
				"scopes_supported":                               []any{"openid", "profile", "email", "offline_access", "my/scope"},
				"response_types_supported":                       []any{"code"},
				"response_modes_supported":                       []any{"query", "fragment", "form_post"},
				"grant_types_supported":                          []any{"authorization_code", "refresh_token", "client_credentials"},
				"subject_types_supported":                        []any{"public"},
				"id_token_signing_alg_values_supported":          []any{"RS256"},
				"token_endpoint_auth_methods_supported":          []any{"client_secret_basic", "client_secret_post", "none"},
				"introspection_endpoint_auth_methods_supported":  []any{"client_secret_basic"},
				"revocation_endpoint_auth_methods_supported":     []any{"client_secret_basic", "client_secret_post", "none"},
				"code_challenge_methods_supported":               []any{"S256"},
				"prompt_values_supported":                        []any{"none", "login", "consent"},
				"claims_parameter_supported":                     false,
				"request_parameter_supported":                    false,
				"request_uri_parameter_supported":                false,
				"authorization_response_iss_parameter_supported": true,
			}
			claims := m["claims_supported"]
			delete(m, "claims_supported")
			assert.Equal(t, want, m)
			assert.Contains(t, claims, "sub")
			assert.Contains(t, claims, "email")
		})
	}
}

func TestDiscoveryOptions(t *testing.T) {
	tests := []struct {
		name         string
		mutate       func(*Config)
		challenges   []any
		registration bool
	}{
		{"defaults", nil, []any{"S256"}, true},
		// RFC 9700 §2.1.1: plain is advertised only when it is accepted.
		{"plain enabled", func(c *Config) { c.EnablePKCEPlain = true }, []any{"S256", "plain"}, true},
		// RFC 8414 §2: registration_endpoint only when registration exists.
		{"registration off", func(c *Config) { c.Registration = RegistrationOff }, []any{"S256"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessWith(t, tt.mutate, fastHash)
			m := h.get(".well-known/openid-configuration").json(t)
			assert.Equal(t, tt.challenges, m["code_challenge_methods_supported"])
			_, ok := m["registration_endpoint"]
			assert.Equal(t, tt.registration, ok)
			if !tt.registration {
				r := h.postForm("register", nil, noAuth)
				assert.Equal(t, http.StatusNotFound, r.status)
			}
		})
	}
}

func TestJWKS(t *testing.T) {
	h := newHarness(t)
	r := h.get("jwks")
	require.Equal(t, http.StatusOK, r.status)
	m := r.json(t)
	keys, ok := m["keys"].([]any)
	require.True(t, ok)
	require.Len(t, keys, 1)
	key := keys[0].(map[string]any)

	active := h.keys.Active()
	assert.Equal(t, active.KeyID, key["kid"])
	assert.Equal(t, "RS256", key["alg"])
	assert.Equal(t, "RSA", key["kty"])
	assert.Equal(t, "sig", key["use"])
	// RFC 7518 §6.3.2: the private members must never be published.
	var members []string
	for k := range key {
		members = append(members, k)
	}
	sort.Strings(members)
	assert.Equal(t, []string{"alg", "e", "kid", "kty", "n", "use"}, members)

	// A token's kid names a published key.
	tok := h.clientCredentials(nil).json(t)["access_token"].(string)
	assert.Equal(t, active.KeyID, h.decode(tok).Header["kid"])
}
