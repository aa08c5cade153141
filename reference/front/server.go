// Package front is the single HTTPS listener of the reference trio. It routes
// by the path prefixes of the InterSystems IRIS OAuth2 workshop (/authserver,
// /resserver, /client) to the authorization server, the resource server and
// the client, handing each the full path so they can build absolute URLs from
// the public URL. It also owns the self-signed certificate the listener
// presents and the middleware every part shares.
package front

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// DefaultAddr is where the front listens when Config.Addr is empty. It is a
// loopback address because the certificate is self-signed and the trio holds
// test users' passwords: exposing it is a deliberate choice of the caller.
const DefaultAddr = "127.0.0.1:8443"

// Config describes the front. Zero values of optional fields get defaults.
type Config struct {
	// Addr is the TCP address to listen on; port 0 picks a free port.
	Addr string
	// PublicURL is the scheme and host clients use, e.g. https://webserver.
	// Empty means PublicURLDefault of the listening address.
	PublicURL string
	// CertFile and KeyFile are the PEM certificate pair the listener
	// presents, usually from LoadOrCreateCertificate.
	CertFile, KeyFile string
	Routes            []Route
	// Logger receives the access log and panics; nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Route sends every request under Prefix to Handler.
type Route struct {
	// Prefix is a path such as /authserver. It matches the prefix itself
	// followed by "/" and anything below; /authserverX does not match, and
	// /authserver is redirected to /authserver/.
	Prefix string
	// Name labels the route on the index page and in the banner.
	Name    string
	Handler http.Handler
	// Links are the URLs of this route worth announcing, such as the issuer
	// and the discovery document. Without any, the route's root is shown.
	Links []Link
}

// Link is a named URL, given as a path below the public URL.
type Link struct {
	Label string
	Path  string
}

// Server is the HTTPS front. Create it with New, then Start it.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	tlsCert tls.Certificate
	routes  []Route
	handler http.Handler

	mu        sync.Mutex
	http      *http.Server
	addr      string
	publicURL string
	done      chan struct{}
	serveErr  error
}

// prefixPattern keeps prefixes to plain path segments, so they are valid
// http.ServeMux patterns with no wildcards.
var prefixPattern = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// New checks cfg and loads the certificate pair; it does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.CertFile == "" || cfg.KeyFile == "" {
		return nil, errors.New("front: CertFile and KeyFile are required")
	}
	tlsCert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("front: load certificate: %w", err)
	}
	publicURL := ""
	if cfg.PublicURL != "" {
		if publicURL, err = normalizePublicURL(cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:       cfg,
		logger:    logger,
		tlsCert:   tlsCert,
		addr:      cfg.Addr,
		publicURL: publicURL,
	}
	mux := http.NewServeMux()
	seen := map[string]bool{}
	for _, rt := range cfg.Routes {
		rt.Prefix = strings.TrimSuffix(rt.Prefix, "/")
		switch {
		case !prefixPattern.MatchString(rt.Prefix):
			return nil, fmt.Errorf("front: route %q: prefix %q must be a path such as /authserver", rt.Name, rt.Prefix)
		case seen[rt.Prefix]:
			return nil, fmt.Errorf("front: route %q: prefix %s is used twice", rt.Name, rt.Prefix)
		case rt.Handler == nil:
			return nil, fmt.Errorf("front: route %q: no handler", rt.Name)
		}
		seen[rt.Prefix] = true
		if rt.Name == "" {
			rt.Name = strings.TrimPrefix(rt.Prefix, "/")
		}
		// A pattern ending in "/" matches the whole subtree and redirects
		// the bare prefix to it; ServeMux also redirects unclean paths
		// (/client/../authserver/…) so a route never sees another's path.
		mux.Handle(rt.Prefix+"/", rt.Handler)
		s.routes = append(s.routes, rt)
	}
	mux.HandleFunc("/{$}", s.serveIndex)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found")
	})
	// AccessLog is outermost so it records the 500 Recover writes.
	s.handler = AccessLog(logger)(Recover(logger)(SecurityHeaders(LimitBody(cfg.MaxBodyBytes)(mux))))
	return s, nil
}

// normalizePublicURL checks a public URL and drops what would make the URLs
// built from it differ from what clients expect: a trailing slash and the
// scheme's default port (https://webserver:443 is https://webserver).
func normalizePublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("front: public URL: %w", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("front: public URL %q: scheme must be https (or http behind a proxy)", raw)
	case u.Host == "":
		return "", fmt.Errorf("front: public URL %q: no host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("front: public URL %q: only scheme, host and port are allowed", raw)
	case strings.Trim(u.Path, "/") != "":
		// Routes sit at the root of the host; a path here would give the
		// sub-servers URLs the front does not route.
		return "", fmt.Errorf("front: public URL %q: must not have a path", raw)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return u.Scheme + "://" + host, nil
}

// PublicURLDefault is the public URL for a front listening on addr:
// https://localhost with the port, which the certificate names, and without
// the port when it is 443.
func PublicURLDefault(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "443" {
		return "https://localhost"
	}
	return "https://localhost:" + port
}

// Start listens on the configured address and serves in the background.
// Once it returns, Addr and URL are final.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.http != nil {
		return errors.New("front: already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("front: listen: %w", err)
	}
	s.addr = ln.Addr().String()
	if s.publicURL == "" {
		s.publicURL = PublicURLDefault(s.addr)
	}
	s.http = &http.Server{
		Handler:   s.handler,
		TLSConfig: TLSConfig(s.tlsCert),
		// Slow or idle clients must not hold connections open forever.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// Handshake failures from browsers that do not trust the
		// self-signed certificate yet are routine, hence Info.
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelInfo),
	}
	s.done = make(chan struct{})
	srv, done := s.http, s.done
	go func() {
		// ServeTLS, unlike a bare tls.Listener, also enables HTTP/2.
		err := srv.ServeTLS(ln, "", "")
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.mu.Lock()
		s.serveErr = err
		s.mu.Unlock()
		close(done)
	}()
	return nil
}

// TLSConfig is the front's TLS policy (BCP 195, RFC 9325 §4.2): TLS 1.2
// and 1.3 only, and TLS 1.2 limited to forward-secret AEAD cipher suites.
// TLS 1.3 suites are all AEAD and not configurable in Go.
func TLSConfig(cert tls.Certificate) *tls.Config {
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
	// TLS 1.0 and 1.1 know no AEAD suite: a server that lets old clients
	// in takes CBC suites back with them, or the handshakes still fail.
	if fault.On("tls-legacy-versions") {
		c.MinVersion = tls.VersionTLS10
	}
	if fault.On("tls-legacy-versions") || fault.On("tls-cbc-suites") {
		c.CipherSuites = append(c.CipherSuites, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)
	}
	return c
}

// Done is closed when the server has stopped serving, after Shutdown or on
// a listener failure; Shutdown then reports the failure. It is nil before
// Start.
func (s *Server) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Shutdown stops accepting connections and waits, within ctx, for active
// requests to finish. It returns the error that stopped serving, if any;
// calling it again, or before Start, does nothing.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, done := s.http, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("front: shutdown: %w", err)
	}
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serveErr != nil {
		return fmt.Errorf("front: serve: %w", s.serveErr)
	}
	return nil
}

// Addr is the listening address: the real one after Start, the configured
// one before.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the public URL without a trailing slash, such as
// https://localhost:8443; route paths are appended to it. Before Start, with
// no PublicURL configured, it is derived from the configured address.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.publicURL == "" {
		return PublicURLDefault(s.addr)
	}
	return s.publicURL
}
