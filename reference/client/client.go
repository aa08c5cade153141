// Package client is the reference confidential web client: the Go counterpart
// of the IRIS workshop's "simple web page" (client.SimpleWebPage). It runs the
// OpenID Connect authorization code flow with PKCE against any issuer, then
// shows what it received and what the resource server answers with it.
//
// The handler expects the full request path, /client/application/... by
// default, so the front mounts it under its prefix without stripping it.
package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults taken from the workshop (iris-workshop.md §2.3, §5.3); the client
// adds offline_access so that the page can demonstrate refresh.
const (
	DefaultPathPrefix = "/client"
	DefaultScopes     = "openid profile email my/scope offline_access"
)

// Config configures the client. Zero fields take the defaults documented on
// each field.
type Config struct {
	// Issuer is the OpenID Provider's issuer identifier; discovery is read
	// from Issuer + "/.well-known/openid-configuration".
	// Default: PublicURL + "/authserver/oauth2".
	Issuer string
	// ClientID and ClientSecret identify this confidential client; the
	// secret is sent with client_secret_basic (RFC 6749 §2.3.1).
	ClientID     string
	ClientSecret string
	// Scopes requested at the authorization endpoint. Default: DefaultScopes.
	Scopes []string
	// PublicURL is the scheme and authority the browser uses to reach the
	// front, e.g. https://webserver. It is needed only for the defaults.
	PublicURL string
	// PathPrefix is the path under which the front serves this client; the
	// requests reaching the handler keep it. Default: DefaultPathPrefix.
	PathPrefix string
	// RedirectURL is the registered redirect URI; its path must lie under
	// PathPrefix + "/application/".
	// Default: PublicURL + PathPrefix + "/application/callback".
	RedirectURL string
	// PostLogoutRedirectURL is sent to the end-session endpoint.
	// Default: PublicURL + PathPrefix + "/application/".
	PostLogoutRedirectURL string
	// ResourceURLs are the resource server endpoints called with the access
	// token. Default: PublicURL + "/resserver/protected-resources/" and
	// PublicURL + "/resserver/protected-resources-delegated/".
	ResourceURLs ResourceURLs
	// HTTPClient makes every back-channel call (discovery, JWKS, token,
	// introspection, userinfo, resources); give it the trust anchors of the
	// issuer's certificate. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// SessionLifetime is how long a browser session lasts without use.
	// Default: one hour.
	SessionLifetime time.Duration
	// Logger receives one line per failed step; never tokens or secrets.
	// Default: discard.
	Logger *slog.Logger
}

// ResourceURLs are the two protected resources the page calls
// (iris-workshop.md §6).
type ResourceURLs struct {
	Protected string
	Delegated string
}

// App is the web client. It is an http.Handler serving
//
//	GET  <prefix>/application/          the page
//	GET  <prefix>/application/login     starts the authorization request
//	GET  <redirect path>                the authorization response
//	POST <prefix>/application/refresh   refresh grant (CSRF-protected)
//	POST <prefix>/application/logout    local and RP-initiated logout (CSRF-protected)
type App struct {
	cfg      Config
	paths    paths
	cookie   cookieSpec
	sessions *sessionStore
	log      *slog.Logger
	mux      *http.ServeMux

	// The issuer is discovered on first use and the result kept; a failure
	// is not kept, so a later request tries again (the trio starts the
	// authorization server in the same process, possibly after the client).
	discoveryMu sync.Mutex
	discovered  *discovery
}

type paths struct {
	page, login, callback, refresh, logout string
}

// New checks cfg and returns the client. It makes no network call: the issuer
// need not be reachable yet.
func New(ctx context.Context, cfg Config) (*App, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("client config: %w", err)
	}
	app := &App{
		cfg:      cfg,
		sessions: newSessionStore(cfg.SessionLifetime, time.Now),
		log:      cfg.Logger,
	}
	base := cfg.PathPrefix + "/application/"
	redirect, _ := url.Parse(cfg.RedirectURL) // checked by setDefaults
	app.paths = paths{
		page:     base,
		login:    base + "login",
		callback: redirect.Path,
		refresh:  base + "refresh",
		logout:   base + "logout",
	}
	app.cookie = cookieSpec{name: sessionCookieName, path: cfg.PathPrefix + "/"}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"{$}", app.servePage)
	mux.HandleFunc("GET "+app.paths.login, app.serveLogin)
	if app.paths.callback != app.paths.page {
		mux.HandleFunc("GET "+app.paths.callback, app.serveCallback)
	}
	mux.HandleFunc("POST "+app.paths.refresh, app.serveRefresh)
	mux.HandleFunc("POST "+app.paths.logout, app.serveLogout)
	app.mux = mux
	return app, nil
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The page shows tokens: keep it out of caches and referrers, and allow
	// neither scripts nor framing.
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	a.mux.ServeHTTP(w, r)
}

func (c *Config) setDefaults() error {
	if c.ClientID == "" {
		return errors.New("ClientID is required")
	}
	if c.PathPrefix == "" {
		c.PathPrefix = DefaultPathPrefix
	}
	if !strings.HasPrefix(c.PathPrefix, "/") || strings.HasSuffix(c.PathPrefix, "/") {
		return fmt.Errorf("PathPrefix %q must start with / and not end with /", c.PathPrefix)
	}
	public := strings.TrimSuffix(c.PublicURL, "/")
	derive := func(field *string, name, suffix string) error {
		if *field != "" {
			return nil
		}
		if public == "" {
			return fmt.Errorf("%s or PublicURL is required", name)
		}
		*field = public + suffix
		return nil
	}
	app := c.PathPrefix + "/application/"
	for _, d := range []struct {
		field        *string
		name, suffix string
	}{
		{&c.Issuer, "Issuer", "/authserver/oauth2"},
		{&c.RedirectURL, "RedirectURL", app + "callback"},
		{&c.PostLogoutRedirectURL, "PostLogoutRedirectURL", app},
		{&c.ResourceURLs.Protected, "ResourceURLs.Protected", "/resserver/protected-resources/"},
		{&c.ResourceURLs.Delegated, "ResourceURLs.Delegated", "/resserver/protected-resources-delegated/"},
	} {
		if err := derive(d.field, d.name, d.suffix); err != nil {
			return err
		}
	}
	redirect, err := url.Parse(c.RedirectURL)
	if err != nil || !redirect.IsAbs() || redirect.Fragment != "" {
		// RFC 6749 §3.1.2: an absolute URI without a fragment.
		return fmt.Errorf("RedirectURL %q must be an absolute URL without a fragment", c.RedirectURL)
	}
	if !strings.HasPrefix(redirect.Path, app) {
		return fmt.Errorf("RedirectURL path %q must lie under %s", redirect.Path, app)
	}
	if len(c.Scopes) == 0 {
		c.Scopes = strings.Fields(DefaultScopes)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.SessionLifetime <= 0 {
		c.SessionLifetime = time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
