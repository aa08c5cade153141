package triotest_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthtrio/oauthtrio/reference/trio"
	"github.com/oauthtrio/oauthtrio/reference/triotest"
)

const redirectURI = "http://127.0.0.1:9/callback"

// signIn runs the code flow for client as alice with scopes and returns
// the ID token's claims and UserInfo's.
func signIn(t *testing.T, srv *triotest.Server, client triotest.Client, scopes ...string) (idClaims, userinfo map[string]any) {
	t.Helper()
	app := oauth2.Config{ClientID: client.ID, ClientSecret: client.Secret, RedirectURL: redirectURI, Scopes: scopes}
	idClaims, userinfo, err := triotest.SignInClaims(t.Context(), srv.Client(), srv.Issuer, app, "alice", "wonderland")
	if err != nil {
		t.Fatal(err)
	}
	return idClaims, userinfo
}

// Custom claims go with the profile scope, to confidential and public
// clients alike, in the ID token and at UserInfo; without profile they
// stay back. Users and clients added after start count as those given at
// start.
func TestCustomClaimsByScope(t *testing.T) {
	srv := triotest.NewServer(t)
	srv.AddUser(triotest.User{
		Username: "alice", Password: "wonderland", Email: "alice@example.org",
		Claims: map[string]any{"groups": []any{"admins", "devs"}, "tenant": map[string]any{"id": 7.0}},
	})
	confidential := triotest.Client{ID: "web", Secret: "web-secret", RedirectURIs: []string{redirectURI}}
	public := triotest.Client{ID: "spa", RedirectURIs: []string{redirectURI}}
	srv.AddClient(confidential)
	srv.AddClient(public)

	tests := []struct {
		name    string
		client  triotest.Client
		scopes  []string
		release bool
	}{
		{"confidential, profile", confidential, []string{"openid", "profile"}, true},
		{"public, profile", public, []string{"openid", "profile", "email"}, true},
		{"confidential, no profile", confidential, []string{"openid", "email"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, info := signIn(t, srv, tt.client, tt.scopes...)
			for where, claims := range map[string]map[string]any{"ID token": id, "UserInfo": info} {
				for name, want := range map[string]any{"groups": []any{"admins", "devs"}, "tenant": map[string]any{"id": 7.0}} {
					got, ok := claims[name]
					switch {
					case tt.release && !ok:
						t.Errorf("%s lacks %s: %v", where, name, claims)
					case tt.release && !equalJSON(got, want):
						t.Errorf("%s: %s = %v, want %v", where, name, got, want)
					case !tt.release && ok:
						t.Errorf("%s has %s without the profile scope: %v", where, name, claims)
					}
				}
			}
			if info["sub"] != id["sub"] {
				t.Errorf("UserInfo sub %v, ID token sub %v", info["sub"], id["sub"])
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// A wrong password or an unregistered redirect URI is an error that says
// what the server answered, never a redirect.
func TestSignInErrors(t *testing.T) {
	srv := triotest.NewServer(t,
		triotest.WithUser(triotest.User{Username: "alice", Password: "wonderland"}),
		triotest.WithClient(triotest.Client{ID: "web", Secret: "web-secret", RedirectURIs: []string{redirectURI}}),
	)
	authURL := func(redirect string) string {
		return (&oauth2.Config{ClientID: "web", RedirectURL: redirect, Scopes: []string{"openid"},
			Endpoint: oauth2.Endpoint{AuthURL: srv.Issuer + "/authorize"}}).AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	}
	tests := []struct {
		name, url, password, want string
	}{
		{"wrong password", authURL(redirectURI), "not-wonderland", "the login was refused"},
		{"unregistered redirect URI", authURL("http://127.0.0.1:9/other"), "wonderland", "error page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := srv.SignIn(tt.url, "alice", tt.password)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SignIn = %v, %v; want an error containing %q", loc, err, tt.want)
			}
		})
	}
}

// CertPool is enough to trust the server; the server stops with its test.
func TestCertPoolAndCleanup(t *testing.T) {
	var discovery string
	t.Run("server", func(t *testing.T) {
		srv := triotest.NewServer(t)
		discovery = srv.Issuer + "/.well-known/openid-configuration"
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool()}}}
		resp, err := hc.Get(strings.Replace(discovery, "localhost", "127.0.0.1", 1))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var meta struct{ Issuer string }
		if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || meta.Issuer != srv.Issuer {
			t.Fatalf("discovery: issuer %q (%v), want %q", meta.Issuer, err, srv.Issuer)
		}
	})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, strings.Replace(discovery, "localhost", "127.0.0.1", 1), nil)
	if resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the server still answers after its test ended: HTTP %d", resp.StatusCode)
	}
}

// WithTrioConfig reaches the trio's configuration: here the signing
// algorithm, which discovery then advertises.
func TestWithTrioConfig(t *testing.T) {
	srv := triotest.NewServer(t, triotest.WithTrioConfig(func(c *trio.Config) { c.SigningAlgorithm = "ES256" }))
	provider, err := oidc.NewProvider(oidc.ClientContext(t.Context(), srv.Client()), srv.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil || len(meta.Algs) != 1 || meta.Algs[0] != "ES256" {
		t.Fatalf("id_token_signing_alg_values_supported = %v (%v), want [ES256]", meta.Algs, err)
	}
}

// A client's grants and scopes are its own: a service client gets a token
// by client credentials within its scopes, and no further.
func TestClientCredentialsClient(t *testing.T) {
	srv := triotest.NewServer(t, triotest.WithClient(triotest.Client{
		ID: "batch", Secret: "batch-secret", GrantTypes: []string{"client_credentials"}, Scopes: []string{"my/scope"},
	}))
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.Client())
	service := clientcredentials.Config{ClientID: "batch", ClientSecret: "batch-secret", TokenURL: srv.Issuer + "/token"}
	service.Scopes = []string{"my/scope"}
	if tok, err := service.Token(ctx); err != nil || tok.AccessToken == "" {
		t.Fatalf("client credentials within the client's scopes: %v", err)
	}
	service.Scopes = []string{"openid"}
	if _, err := service.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Fatalf("a scope outside the client's: %v, want invalid_scope", err)
	}
}
