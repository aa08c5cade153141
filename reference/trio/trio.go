// Package trio assembles the reference trio — authorization server,
// resource server and web client — behind the one HTTPS front, the way the
// IRIS workshop's web server fronts its three instances.
package trio

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/client"
	"github.com/oauthtrio/oauthtrio/reference/fixture"
	"github.com/oauthtrio/oauthtrio/reference/front"
	"github.com/oauthtrio/oauthtrio/reference/keyring"
	"github.com/oauthtrio/oauthtrio/reference/resserver"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// OpenRegistration is a registration policy for throw-away test trios:
// any kind of client may register, still with no audience, so no
// self-registered token opens the protected API.
func OpenRegistration() authserver.RegistrationPolicy {
	return authserver.RegistrationPolicy{
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"},
		Scopes:     []string{"openid", "profile", "email", "offline_access", "my/scope"},
	}
}

// Config configures the trio. Zero values get defaults.
type Config struct {
	// Addr is the listen address; default 127.0.0.1:8443. Port 0 picks a
	// free port.
	Addr string
	// PublicURL is the external base URL; default https://localhost:<port>.
	PublicURL string
	// StateDir keeps the database, keys, secret and certificate; empty
	// with InMemory set keeps everything in memory and a temporary dir.
	StateDir string
	// InMemory makes a throw-away test trio.
	InMemory bool
	// CertFile and KeyFile replace the generated certificate.
	CertFile, KeyFile string
	// Fixtures is a fixtures file; empty means the shipped trio.yaml.
	Fixtures string
	// SigningAlgorithm is RS256 (default), PS256 or ES256.
	SigningAlgorithm string
	// RotateKey adds a new signing key at start; the previous one stays
	// published for KeyOverlap (default: the access token lifespan + 1 h).
	RotateKey bool

	// PurgeInterval is how often expired grants and unused registrations
	// are deleted and the WAL is checkpointed; default 10 minutes.
	PurgeInterval time.Duration
	// UnusedClientAge is how long a dynamically registered client that
	// holds no grant or consent is kept; default 24 hours.
	UnusedClientAge time.Duration

	// FixtureHashCost is the bcrypt cost of the fixtures' passwords and
	// secrets; zero means authserver.SecretCost. A throw-away test trio,
	// whose fixtures are public anyway, may go lower to save CPU.
	FixtureHashCost int

	// AuthServer tunes the authorization server; PublicURL, GlobalSecret
	// and Hooks are filled in here.
	AuthServer authserver.Config
	// Hooks default to the IRIS workshop's customisation.
	Hooks *authserver.Hooks
	// Wrap, when set, wraps each part's handler; tests use it to inject
	// faults through middleware.
	Wrap func(part string, h http.Handler) http.Handler
	// WrapStorage, when set, wraps the authorization server's storage;
	// tests use it to inject faults into what the server keeps.
	WrapStorage func(authserver.Storage) authserver.Storage

	// ResourceServer and WebClient point the resource server and the web
	// client at another issuer (a real IRIS, say) instead of the trio's
	// own authorization server.
	ResourceServer ExternalResourceServer
	WebClient      ExternalWebClient

	Logger *slog.Logger
}

// ExternalResourceServer configures the resource server for an issuer
// other than the trio's. Issuer empty means the trio's own.
type ExternalResourceServer struct {
	Issuer string
	// Audience is the resource server's identifier in tokens; default
	// <public-url>/resserver.
	Audience string
	// ClientID and ClientSecret authenticate at the introspection endpoint.
	ClientID, ClientSecret string
	// RequiredScope defaults to my/scope.
	RequiredScope string
	// CAFile is trusted, beside the system roots, to reach the issuer.
	CAFile string
}

// ExternalWebClient configures the web client for an issuer other than
// the trio's. Issuer empty means the trio's own.
type ExternalWebClient struct {
	Issuer                 string
	ClientID, ClientSecret string
	Scopes                 []string
	// RedirectURL defaults to <public-url>/client/application/callback; it
	// must be registered at the issuer.
	RedirectURL string
	CAFile      string
}

// externalClient reaches another issuer: the system roots plus caFile.
func externalClient(caFile string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("trio: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("trio: %s holds no PEM certificate", caFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}, nil
}

// Trio is a running trio.
type Trio struct {
	Front    *front.Server
	Auth     *authserver.Server
	Resource *resserver.Server
	Client   *client.App
	Store    *store.Store
	Keys     *keyring.Ring

	CertFile string
	// Fixtures are the users and clients the trio was started with.
	Fixtures *fixture.File
	stateDir string
	tempDir  string
	http     *http.Client
	unlock   func()
	log      *slog.Logger

	stopPurge context.CancelFunc
	purging   sync.WaitGroup
}

// lockFileName is the state directory's lock; it holds the owner's PID.
const lockFileName = "lock"

// StateInUseError reports that another process serves from the state
// directory.
type StateInUseError struct {
	Dir string
	PID int // 0 when the lock file names none
}

func (e *StateInUseError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = fmt.Sprintf("process %d", e.PID)
	}
	return fmt.Sprintf("state directory %s is in use by %s (lock file %s); stop it or pass another -state",
		e.Dir, holder, filepath.Join(e.Dir, lockFileName))
}

// deferred lets the front start (and so learn its port) before the parts
// that need the public URL are built.
type deferred struct{ h atomic.Pointer[http.Handler] }

func (d *deferred) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := d.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	http.Error(w, `{"error":"temporarily_unavailable"}`, http.StatusServiceUnavailable)
}

func (d *deferred) set(h http.Handler) { d.h.Store(&h) }

// Start builds and starts the trio. Close stops it.
func Start(ctx context.Context, cfg Config) (_ *Trio, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Addr == "" {
		cfg.Addr = front.DefaultAddr
	}
	if cfg.SigningAlgorithm == "" {
		cfg.SigningAlgorithm = "RS256"
	}
	if cfg.PurgeInterval <= 0 {
		cfg.PurgeInterval = 10 * time.Minute
	}
	if cfg.UnusedClientAge <= 0 {
		cfg.UnusedClientAge = 24 * time.Hour
	}
	t := &Trio{log: cfg.Logger}
	defer func() {
		if err != nil {
			t.Close(context.Background())
		}
	}()
	if err := t.prepareState(&cfg); err != nil {
		return nil, err
	}

	certFile, keyFile := cfg.CertFile, cfg.KeyFile
	if certFile == "" || keyFile == "" {
		status, err := front.LoadOrCreateCertificate(t.stateDir)
		if err != nil {
			return nil, fmt.Errorf("trio: certificate: %w", err)
		}
		certFile, keyFile = status.CertFile, status.KeyFile
		if status.Generated && !cfg.InMemory {
			cfg.Logger.Info("generated a self-signed certificate", "file", certFile, "reason", status.Reason)
		}
	}
	t.CertFile = certFile

	auth, res, cli, wk := &deferred{}, &deferred{}, &deferred{}, &deferred{}
	wrap := func(part string, h http.Handler) http.Handler {
		if cfg.Wrap != nil {
			return cfg.Wrap(part, h)
		}
		return h
	}
	t.Front, err = front.New(front.Config{
		Addr: cfg.Addr, PublicURL: cfg.PublicURL, CertFile: certFile, KeyFile: keyFile, Logger: cfg.Logger,
		Routes: []front.Route{
			{Prefix: "/authserver", Name: "authorization server", Handler: auth, Links: []front.Link{
				{Label: "issuer", Path: authserver.IssuerPath},
				{Label: "discovery", Path: authserver.IssuerPath + "/.well-known/openid-configuration"},
			}},
			{Prefix: "/resserver", Name: "resource server", Handler: res, Links: []front.Link{
				{Label: "protected resource", Path: "/resserver/protected-resources/"},
				{Label: "delegated resource", Path: "/resserver/protected-resources-delegated/"},
			}},
			{Prefix: "/client", Name: "client application", Handler: cli, Links: []front.Link{
				{Label: "client application", Path: "/client/application/"},
			}},
			// RFC 8414 §3.1 puts the metadata at the root, the issuer's
			// path appended.
			{Prefix: "/.well-known", Name: "RFC 8414 metadata", Handler: wk, Links: []front.Link{
				{Label: "RFC 8414 metadata", Path: "/.well-known/oauth-authorization-server" + authserver.IssuerPath},
			}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("trio: front: %w", err)
	}
	if err := t.Front.Start(); err != nil {
		return nil, fmt.Errorf("trio: %w", err)
	}
	publicURL := t.Front.URL()
	t.http, err = t.selfClient(publicURL)
	if err != nil {
		return nil, err
	}

	if err := t.openStore(ctx, cfg, publicURL); err != nil {
		return nil, err
	}
	keep := cfg.AuthServer.AccessTokenLifespan
	if keep <= 0 {
		keep = time.Hour
	}
	t.Keys, err = keyring.Open(ctx, t.Store, cfg.SigningAlgorithm, keep+time.Hour)
	if err != nil {
		return nil, err
	}
	if cfg.RotateKey {
		if err := t.Keys.Rotate(ctx, cfg.SigningAlgorithm, keep+time.Hour); err != nil {
			return nil, err
		}
	}

	secret, err := t.globalSecret(cfg.InMemory)
	if err != nil {
		return nil, err
	}
	ac := cfg.AuthServer
	ac.PublicURL = publicURL
	ac.GlobalSecret = secret
	ac.Logger = cfg.Logger
	audience := make([]string, len(ac.RegistrationPolicy.Audience))
	for i, a := range ac.RegistrationPolicy.Audience {
		audience[i] = strings.ReplaceAll(a, "{public_url}", publicURL)
	}
	ac.RegistrationPolicy.Audience = audience
	if cfg.Hooks != nil {
		ac.Hooks = *cfg.Hooks
	} else {
		ac.Hooks = authserver.WorkshopHooks(t.Store)
	}
	var st authserver.Storage = t.Store
	if cfg.WrapStorage != nil {
		st = cfg.WrapStorage(st)
	}
	t.Auth, err = authserver.New(ac, st, t.Keys)
	if err != nil {
		return nil, err
	}
	resClient, _ := t.Fixtures.ClientFor(fixture.RoleResourceServer)
	webClient, _ := t.Fixtures.ClientFor(fixture.RoleWebClient)
	rc := resserver.Config{
		Issuer: t.Auth.Issuer(), Audience: publicURL + "/resserver",
		ClientID: resClient.ID, ClientSecret: resClient.Secret,
		HTTPClient: t.http, AllowedOrigins: []string{"http://localhost:8080", "http://localhost:4200"},
		RequiredScope: cfg.ResourceServer.RequiredScope,
		Logger:        cfg.Logger,
	}
	if rs := cfg.ResourceServer; rs.Issuer != "" {
		rc.Issuer, rc.ClientID, rc.ClientSecret = rs.Issuer, rs.ClientID, rs.ClientSecret
		if rs.Audience != "" {
			rc.Audience = rs.Audience
		}
		if rc.HTTPClient, err = externalClient(rs.CAFile); err != nil {
			return nil, err
		}
	}
	if t.Resource, err = resserver.New(rc); err != nil {
		return nil, err
	}
	cc := client.Config{
		Issuer: t.Auth.Issuer(), ClientID: webClient.ID, ClientSecret: webClient.Secret,
		PublicURL: publicURL, HTTPClient: t.http, Logger: cfg.Logger,
		Scopes: cfg.WebClient.Scopes, RedirectURL: cfg.WebClient.RedirectURL,
	}
	if wc := cfg.WebClient; wc.Issuer != "" {
		cc.Issuer, cc.ClientID, cc.ClientSecret = wc.Issuer, wc.ClientID, wc.ClientSecret
		if cc.HTTPClient, err = externalClient(wc.CAFile); err != nil {
			return nil, err
		}
	}
	if t.Client, err = client.New(ctx, cc); err != nil {
		return nil, err
	}
	auth.set(wrap("authserver", t.Auth))
	wk.set(wrap("authserver", t.Auth))
	res.set(wrap("resserver", t.Resource))
	cli.set(wrap("client", t.Client))
	t.startPurging(cfg.PurgeInterval, cfg.UnusedClientAge)
	return t, nil
}

// startPurging deletes expired grants and unused registrations and bounds
// the WAL, once at start and then every interval, until Close.
func (t *Trio) startPurging(interval, unusedClientAge time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	t.stopPurge = cancel
	t.purging.Add(1)
	go func() {
		defer t.purging.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			t.purge(ctx, unusedClientAge)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

// purge runs one purge pass. A failure, a full disk say, is logged and
// retried on the next pass.
func (t *Trio) purge(ctx context.Context, unusedClientAge time.Duration) {
	now := time.Now()
	if n, err := t.Store.PurgeExpired(ctx, now); err != nil {
		t.log.Warn("purge expired grants", "error", err)
	} else if n > 0 {
		t.log.Info("purged expired grants", "rows", n)
	}
	if n, err := t.Store.PurgeUnusedClients(ctx, now.Add(-unusedClientAge)); err != nil {
		t.log.Warn("purge unused clients", "error", err)
	} else if n > 0 {
		t.log.Info("purged unused registrations", "clients", n)
	}
	if err := t.Store.Checkpoint(ctx); err != nil {
		t.log.Warn("checkpoint", "error", err)
	}
}

func (t *Trio) prepareState(cfg *Config) error {
	if cfg.InMemory {
		dir, err := os.MkdirTemp("", "oauthtrio-")
		if err != nil {
			return fmt.Errorf("trio: %w", err)
		}
		t.tempDir, t.stateDir = dir, dir
		return nil
	}
	dir := cfg.StateDir
	if dir == "" {
		var err error
		if dir, err = front.DefaultStateDir(); err != nil {
			return fmt.Errorf("trio: state directory: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("trio: state directory: %w", err)
	}
	if err := checkPrivate(dir); err != nil {
		return err
	}
	unlock, err := lockState(dir)
	if err != nil {
		return err
	}
	t.stateDir, t.unlock = dir, unlock
	return nil
}

// checkPrivate refuses a state directory other users can enter: it holds
// the private signing keys, the global secret and the TLS key.
func checkPrivate(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // mode bits mean nothing there; ACLs decide
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("trio: state directory: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("state directory %s is open to other users (mode %#o) and holds private keys; run: chmod 700 %s", dir, perm, dir)
	}
	return nil
}

func (t *Trio) openStore(ctx context.Context, cfg Config, publicURL string) error {
	var err error
	if cfg.InMemory {
		t.Store, err = store.OpenMemory(func() fosite.Session { return authserver.NewSession() })
	} else {
		t.Store, err = store.Open(filepath.Join(t.stateDir, "oauthtrio.db"), func() fosite.Session { return authserver.NewSession() })
	}
	if err != nil {
		return fmt.Errorf("trio: store: %w", err)
	}
	var f *fixture.File
	if cfg.Fixtures != "" {
		f, err = fixture.Load(cfg.Fixtures)
	} else {
		f, err = fixture.Parse(fixtures.Trio)
	}
	if err != nil {
		return err
	}
	for _, role := range []string{fixture.RoleWebClient, fixture.RoleResourceServer} {
		if _, ok := f.ClientFor(role); !ok {
			return fmt.Errorf("trio: the fixtures name no client with role: %s, which the trio's own %s signs in with", role, strings.ReplaceAll(role, "_", " "))
		}
	}
	t.Fixtures = f
	cost := cfg.FixtureHashCost
	if cost <= 0 {
		cost = authserver.SecretCost
	}
	return f.Apply(ctx, t.Store, publicURL, func(secret string) ([]byte, error) {
		return authserver.HashSecretCost(secret, cost)
	})
}

// globalSecret is kept in the state directory so codes and refresh tokens
// survive a restart.
func (t *Trio) globalSecret(inMemory bool) ([]byte, error) {
	path := filepath.Join(t.stateDir, "global.secret")
	if !inMemory {
		if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
			return b, os.Chmod(path, 0o600)
		}
	}
	b := make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("trio: %w", err)
	}
	return b, nil
}

// selfClient reaches the trio's own public URL: it trusts the front's
// certificate and dials the listener whatever the public host name is, so
// --public-url https://webserver works without a hosts entry for the
// trio's internal calls.
func (t *Trio) selfClient(publicURL string) (*http.Client, error) {
	pool, err := front.CertPool(t.CertFile)
	if err != nil {
		return nil, fmt.Errorf("trio: %w", err)
	}
	u, err := url.Parse(publicURL)
	if err != nil {
		return nil, err
	}
	publicHost := u.Host
	if u.Port() == "" {
		publicHost = net.JoinHostPort(u.Hostname(), "443")
	}
	listen := t.Front.Addr()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == publicHost {
			addr = listen
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}, nil
}

// HTTPClient returns a client that trusts the trio's certificate.
func (t *Trio) HTTPClient() *http.Client { return t.http }

// URL is the public URL.
func (t *Trio) URL() string { return t.Front.URL() }

// Issuer is the authorization server's issuer.
func (t *Trio) Issuer() string { return t.Auth.Issuer() }

// StateDir is where the trio keeps its state.
func (t *Trio) StateDir() string { return t.stateDir }

// Close stops the front and releases the store.
func (t *Trio) Close(ctx context.Context) error {
	var errs []error
	if t.Front != nil {
		if err := t.Front.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if t.stopPurge != nil {
		t.stopPurge()
		t.purging.Wait()
	}
	if t.Store != nil {
		errs = append(errs, t.Store.Close())
	}
	if t.unlock != nil {
		t.unlock()
	}
	if t.tempDir != "" {
		errs = append(errs, os.RemoveAll(t.tempDir))
	}
	return errors.Join(errs...)
}

// RotateKey adds a new active signing key to a state directory and
// returns its kid. The previous key stays published for keepPrevious.
func RotateKey(ctx context.Context, stateDir, alg string, keepPrevious time.Duration) (string, error) {
	if stateDir == "" {
		var err error
		if stateDir, err = front.DefaultStateDir(); err != nil {
			return "", err
		}
	}
	if err := checkPrivate(stateDir); err != nil {
		return "", err
	}
	// A running server would keep publishing its own key set.
	unlock, err := lockState(stateDir)
	if err != nil {
		return "", err
	}
	defer unlock()
	st, err := store.Open(filepath.Join(stateDir, "oauthtrio.db"), func() fosite.Session { return authserver.NewSession() })
	if err != nil {
		return "", fmt.Errorf("trio: store: %w", err)
	}
	defer st.Close()
	ring, err := keyring.Open(ctx, st, alg, keepPrevious)
	if err != nil {
		return "", err
	}
	if err := ring.Rotate(ctx, alg, keepPrevious); err != nil {
		return "", err
	}
	return ring.Active().KeyID, nil
}
