// Package testop is the suite's own OpenID provider, for checking the
// other two roles of the trio: relying parties and resource servers. It
// serves discovery, JWKS, an authorization endpoint that signs its one
// user in at once (no pages), token, UserInfo and introspection over HTTPS
// with a self-signed certificate, and issues tokens a scenario bends
// (Bend) to see whether the client or resource server refuses them.
package testop

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/oauthtrio/oauthtrio/internal/selfsigned"
)

// The test OP's one user, unless Options say otherwise.
const (
	DefaultSubject  = "oauthtrio-test-user"
	DefaultUserName = "oauthtrio test user"
)

// Client is a client registered at the test OP.
type Client struct {
	ID string
	// Secret authenticates it (client_secret_basic or client_secret_post).
	Secret string
	// RedirectURIs are compared exactly (RFC 9700 §2.1).
	RedirectURIs []string
}

// Options configure the test OP.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:0 (a free port). A
	// resource server or client configured in advance needs a fixed one.
	Addr string
	// Host is the host name of the issuer URL; default the listen IP.
	Host string
	// Certificate replaces the generated self-signed one, so that a server
	// configured in advance keeps trusting the same certificate.
	Certificate *tls.Certificate
	// Clients are the registered clients; introspection accepts any of
	// them.
	Clients []Client
	// Subject is the signed-in user's "sub"; default DefaultSubject.
	Subject string
	// Claims are the user's other claims, answered by UserInfo only (the
	// ID token carries the standard claims), so a client showing them
	// shows that it used UserInfo. Default: name DefaultUserName.
	Claims map[string]any
	// TokenLifetime is the lifetime of the tokens it issues; default 10 minutes.
	TokenLifetime time.Duration
}

// OP is a running test OP.
type OP struct {
	opts   Options
	issuer string
	cert   *x509.Certificate
	pem    []byte
	keys   *keyring
	srv    *http.Server
	ln     net.Listener

	mu      sync.Mutex
	bend    Bend
	codes   map[string]*grant
	tokens  map[string]*grant // by access token
	revoked map[string]bool
	seen    []AuthorizationRequest
}

// grant is what an authorization code, and the tokens issued for it, stand
// for.
type grant struct {
	req      AuthorizationRequest
	seen     int // index of req in OP.seen
	scope    string
	clientID string
	sub      string
	bend     Bend
}

// Start starts the test OP; Close stops it.
func Start(opts Options) (*OP, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Subject == "" {
		opts.Subject = DefaultSubject
	}
	if opts.Claims == nil {
		opts.Claims = map[string]any{"name": DefaultUserName, "email": "test-user@oauthtrio.test"}
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 10 * time.Minute
	}
	keys, err := newKeyring()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("test OP: listen on %s: %w", opts.Addr, err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if opts.Host != "" {
		host = opts.Host
	}
	cert := opts.Certificate
	if cert == nil {
		c, err := selfsigned.New(selfsigned.Options{CommonName: "oauthtrio test OP", Hosts: []string{host, "localhost", "127.0.0.1", "::1"}})
		if err != nil {
			ln.Close()
			return nil, err
		}
		cert = &c.TLS
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("test OP: certificate: %w", err)
	}
	op := &OP{
		opts:    opts,
		issuer:  "https://" + net.JoinHostPort(host, port),
		cert:    leaf,
		pem:     pemOf(leaf),
		keys:    keys,
		ln:      ln,
		codes:   map[string]*grant{},
		tokens:  map[string]*grant{},
		revoked: map[string]bool{},
	}
	op.srv = &http.Server{
		Handler:           op.routes(),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = op.srv.ServeTLS(ln, "", "") }()
	return op, nil
}

// Issuer is the issuer identifier, https://host:port.
func (op *OP) Issuer() string { return op.issuer }

// Certificate is the TLS certificate, its own CA.
func (op *OP) Certificate() *x509.Certificate { return op.cert }

// CertificatePEM is the certificate in PEM, for a server's CA file.
func (op *OP) CertificatePEM() []byte { return op.pem }

// HTTPClient trusts the test OP's certificate.
func (op *OP) HTTPClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(op.cert)
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
}

// Close stops the server.
func (op *OP) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return op.srv.Shutdown(ctx)
}

// SetBend makes the flows that start from now on bent as b says; the zero
// Bend makes the OP correct again. A flow keeps the bend it started with.
func (op *OP) SetBend(b Bend) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.bend = b
}

// RotateKey replaces the signing key by a new one under a new kid; the JWKS
// then publishes only the new key.
func (op *OP) RotateKey() (string, error) { return op.keys.rotate() }

// AccessTokenSpec is an access token to mint directly, as if issued to
// ClientID by the client credentials or code grant.
type AccessTokenSpec struct {
	ClientID string
	Audience []string
	Scope    string
	Subject  string // default the OP's user
}

// AccessToken mints an RFC 9068 JWT access token, bent by b; the token is
// known to introspection (active unless b.Revoked) and UserInfo.
func (op *OP) AccessToken(spec AccessTokenSpec, b Bend) (string, error) {
	g := &grant{clientID: spec.ClientID, scope: spec.Scope, sub: spec.Subject, bend: b}
	if g.sub == "" {
		g.sub = op.opts.Subject
	}
	return op.issueAccessToken(g, spec.Audience)
}

func (op *OP) issueAccessToken(g *grant, aud []string) (string, error) {
	now := time.Now()
	claims := map[string]any{
		"iss":       op.issuer,
		"sub":       g.sub,
		"client_id": g.clientID,
		"iat":       now.Unix(),
		"exp":       now.Add(op.opts.TokenLifetime).Unix(),
		"jti":       random(12),
		"scope":     g.scope,
	}
	// RFC 9068 §2.2: aud is required; one value is written as a string.
	switch len(aud) {
	case 0:
	case 1:
		claims["aud"] = aud[0]
	default:
		claims["aud"] = aud
	}
	tok, err := op.keys.sign(claims, "at+jwt", g.bend.AccessToken)
	if err != nil {
		return "", err
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	op.tokens[tok] = g
	if g.bend.Revoked {
		op.revoked[tok] = true
	}
	return tok, nil
}

// Register adds a client, for one whose redirect URI is known only once
// it runs.
func (op *OP) Register(c Client) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.opts.Clients = append(op.opts.Clients, c)
}

func (op *OP) client(id string) (Client, bool) {
	op.mu.Lock()
	defer op.mu.Unlock()
	for _, c := range op.opts.Clients {
		if c.ID == id {
			return c, true
		}
	}
	return Client{}, false
}

// random is n random bytes in hex.
func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}

func pemOf(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}
