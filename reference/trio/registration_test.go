package trio_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// TestSelfRegisteredClientsReachNoAPI is the anonymous access of the
// default configuration: whoever registers a client must not reach the
// protected API with it.
func TestSelfRegisteredClientsReachNoAPI(t *testing.T) {
	register := func(t *testing.T, tr *trio.Trio) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, tr.Issuer()+"/register",
			strings.NewReader(`{"grant_types":["client_credentials"],"scope":"my/scope"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := tr.HTTPClient().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}
	t.Run("serve's default refuses the grant", func(t *testing.T) {
		tr := startTrioWith(t, trio.Config{Addr: "127.0.0.1:0", StateDir: privateDir(t)})
		status, body := register(t, tr)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "invalid_client_metadata", body["error"])
	})
	t.Run("an open registration's token has no audience", func(t *testing.T) {
		cfg := trio.Config{Addr: "127.0.0.1:0", InMemory: true}
		cfg.AuthServer.RegistrationPolicy = trio.OpenRegistration()
		tr := startTrioWith(t, cfg)
		status, reg := register(t, tr)
		require.Equal(t, http.StatusCreated, status, "%v", reg)
		status, tok := postForm(t, tr, tr.Issuer()+"/token", reg["client_id"].(string), reg["client_secret"].(string),
			url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}})
		require.Equal(t, http.StatusOK, status, "%v", tok)
		for _, path := range []string{"/resserver/protected-resources/", "/resserver/protected-resources-delegated/"} {
			req, err := http.NewRequest(http.MethodGet, tr.URL()+path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
			resp, err := tr.HTTPClient().Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equalf(t, http.StatusUnauthorized, resp.StatusCode, "%s answers a self-registered client", path)
		}
	})
}
