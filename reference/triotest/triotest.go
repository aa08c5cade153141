// Package triotest starts the reference authorization server for a test,
// in the spirit of net/http/httptest: a real OpenID Connect provider
// (authorization code with PKCE, refresh, client credentials, UserInfo,
// introspection, revocation, logout) on a free loopback port, with a
// throw-away state, the users and clients the test needs, stopped when the
// test ends. Use it to develop and test a client against a real issuer.
//
// Users may carry custom claims (User.Claims: groups, roles, a tenant);
// they are released in the ID token and at UserInfo when the profile scope
// is granted. SignIn plays the user at the login and consent pages, so a
// test needs no browser.
//
// The server also has the shipped fixtures (fixtures/trio.yaml: the user
// developer / test, the client client-app, ...) and the IRIS workshop's
// customisation (every user grant carries the claims my-property and
// other-property; the ID token carries name).
package triotest

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/fixture"
	"github.com/oauthtrio/oauthtrio/reference/front"
	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// User is a user who can sign in: Username and Password, the standard
// claims (Name, Email, ...) and custom Claims. The fields and their YAML
// names are those of the users in fixtures/trio.yaml.
type User = fixture.User

// Client is a registered client. The fields and their YAML names are those
// of the clients in fixtures/trio.yaml. For the test server, a client
// without Secret (and without TokenEndpointAuthMethod) is public and must
// use PKCE; empty GrantTypes mean authorization_code and refresh_token,
// empty ResponseTypes code, empty Scopes openid profile email
// offline_access.
type Client = fixture.Client

// Option configures NewServer.
type Option func(*settings)

type settings struct {
	users   []User
	clients []Client
	trio    []func(*trio.Config)
}

// WithUser adds a user at start.
func WithUser(u User) Option {
	return func(s *settings) { s.users = append(s.users, u) }
}

// WithClient registers a client at start.
func WithClient(c Client) Option {
	return func(s *settings) { s.clients = append(s.clients, c) }
}

// WithTrioConfig changes the trio's configuration before it starts: token
// lifespans, the signing algorithm, plain PKCE, hooks. The listen
// address and the state directory are the test server's own.
func WithTrioConfig(change func(*trio.Config)) Option {
	return func(s *settings) { s.trio = append(s.trio, change) }
}

// Server is a running test issuer.
type Server struct {
	// Issuer is the issuer identifier, https://localhost:PORT/authserver/oauth2;
	// its discovery document is at Issuer + "/.well-known/openid-configuration".
	Issuer string
	// URL is the base URL of the trio: the resource server is at
	// URL + "/resserver/protected-resources/".
	URL string

	t    testing.TB
	trio *trio.Trio
	pool *x509.CertPool
}

// NewServer starts a test issuer on a free 127.0.0.1 port, its state in
// t.TempDir(), and stops it when the test ends. A failure to start fails t.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var set settings
	for _, o := range opts {
		o(&set)
	}
	// The state holds private keys: t.TempDir's mode is too open for it.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatalf("triotest: %v", err)
	}
	// The test's users and clients are throw-away: bcrypt's minimum cost
	// keeps sign-ins cheap.
	cfg := trio.Config{FixtureHashCost: bcrypt.MinCost}
	for _, change := range set.trio {
		change(&cfg)
	}
	cfg.Addr, cfg.StateDir, cfg.InMemory = "127.0.0.1:0", dir, false
	tr, err := trio.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("triotest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Close(ctx); err != nil {
			t.Errorf("triotest: stopping the server: %v", err)
		}
	})
	pool, err := front.CertPool(tr.CertFile)
	if err != nil {
		t.Fatalf("triotest: %v", err)
	}
	s := &Server{Issuer: tr.Issuer(), URL: tr.URL(), t: t, trio: tr, pool: pool}
	if err := s.add(set.users, set.clients); err != nil {
		t.Fatalf("triotest: %v", err)
	}
	return s
}

// Client returns an HTTP client that trusts the server's certificate. Pass
// it to your client library, e.g. oidc.ClientContext(ctx, srv.Client()).
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.trio.HTTPClient().Transport, Timeout: 15 * time.Second}
}

// CertPool holds the server's self-signed certificate, for a client that
// builds its own TLS configuration.
func (s *Server) CertPool() *x509.CertPool { return s.pool.Clone() }

// AddUser adds a user, or replaces the one with the same username. An
// invalid user (a custom claim named like a standard one, say) fails the
// test.
func (s *Server) AddUser(u User) {
	s.t.Helper()
	if err := s.add([]User{u}, nil); err != nil {
		s.t.Fatalf("triotest: %v", err)
	}
}

// AddClient registers a client, or replaces the one with the same ID. An
// invalid client fails the test.
func (s *Server) AddClient(c Client) {
	s.t.Helper()
	if err := s.add(nil, []Client{c}); err != nil {
		s.t.Fatalf("triotest: %v", err)
	}
}

// add validates and stores users and clients as serve does its fixtures.
func (s *Server) add(users []User, clients []Client) error {
	f := &fixture.File{Users: users}
	for _, c := range clients {
		f.Clients = append(f.Clients, withDefaults(c))
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return f.Apply(s.t.Context(), s.trio.Store, s.URL, func(secret string) ([]byte, error) {
		return authserver.HashSecretCost(secret, bcrypt.MinCost)
	})
}

// withDefaults fills in what a test's client leaves out.
func withDefaults(c Client) Client {
	if c.Secret == "" && c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = "none"
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	if len(c.ResponseTypes) == 0 {
		c.ResponseTypes = []string{"code"}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email", "offline_access"}
	}
	return c
}

// SignIn plays the user for an authorization request the client under
// test made (authURL): it signs in as username with password on the login
// page, approves the consent page, and returns the authorization response,
// the redirect to the client's redirect_uri, without following it. Each
// call is a fresh user agent (no login session). A refused login or an
// error page is an error.
func (s *Server) SignIn(authURL, username, password string) (*url.URL, error) {
	return SignIn(s.t.Context(), s.Client(), authURL, username, password)
}
