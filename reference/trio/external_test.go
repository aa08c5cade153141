package trio_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// TestPartsAgainstAnotherIssuer points a second trio's resource server and
// web client at the first trio's authorization server, as a user points
// them at a real IRIS.
func TestPartsAgainstAnotherIssuer(t *testing.T) {
	issuer := startTrio(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	front := startTrioWith(t, trio.Config{
		Addr: addr, InMemory: true,
		ResourceServer: trio.ExternalResourceServer{
			Issuer: issuer.Issuer(), Audience: resourceAudience(issuer),
			ClientID: "resserver", ClientSecret: "resserver-secret",
			CAFile: issuer.CertFile,
		},
		WebClient: trio.ExternalWebClient{
			Issuer: issuer.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret,
			Scopes: []string{"openid", "profile"}, CAFile: issuer.CertFile,
		},
	})

	// resourceStatus gets a Postman token from tokens and shows it to the
	// front's resource server.
	resourceStatus := func(t *testing.T, tokens *trio.Trio) int {
		status, body := postForm(t, tokens, tokens.Issuer()+"/token", postmanClientID, postmanClientSecret,
			url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}})
		require.Equal(t, http.StatusOK, status, body)
		req, err := http.NewRequest(http.MethodGet, front.URL()+"/resserver/protected-resources/", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
		resp, err := front.HTTPClient().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("the resource server accepts the other issuer's token", func(t *testing.T) {
		require.Equal(t, http.StatusOK, resourceStatus(t, issuer))
	})
	t.Run("the resource server refuses its own issuer's token", func(t *testing.T) {
		require.Equal(t, http.StatusUnauthorized, resourceStatus(t, front))
	})

	t.Run("the web client sends the user to the other issuer", func(t *testing.T) {
		hc := *front.HTTPClient()
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, front.URL()+"/client/application/login", nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		loc := resp.Header.Get("Location")
		require.True(t, strings.HasPrefix(loc, issuer.Issuer()+"/authorize?"), "Location %q", loc)
		u, err := url.Parse(loc)
		require.NoError(t, err)
		require.Equal(t, testClientID, u.Query().Get("client_id"))
		require.Equal(t, "openid profile", u.Query().Get("scope"))
		require.Equal(t, front.URL()+"/client/application/callback", u.Query().Get("redirect_uri"))
	})
}
