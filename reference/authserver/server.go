// Package authserver is the reference authorization server: fosite wired
// to the store, the key ring, the login and consent pages and the hooks
// that mirror the IRIS customisation classes. It serves the IRIS paths
// under <public-url>/authserver/oauth2.
package authserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/keyring"
)

// IssuerPath is where the issuer lives below the public URL, as in IRIS.
const IssuerPath = "/authserver/oauth2"

// Registration modes for the RFC 7591 endpoint.
const (
	RegistrationOff   = "off"
	RegistrationOpen  = "open"
	RegistrationToken = "token" // an initial access token is required
)

// Config configures the authorization server. Zero values get defaults.
type Config struct {
	// PublicURL is the front's external base URL, e.g. https://webserver.
	PublicURL string
	// GlobalSecret signs opaque codes and refresh tokens; at least 32 bytes.
	GlobalSecret []byte

	AccessTokenLifespan   time.Duration // default 1 h (IRIS default)
	IDTokenLifespan       time.Duration // default 1 h
	AuthorizeCodeLifespan time.Duration // default 60 s (IRIS default)
	RefreshTokenLifespan  time.Duration // default 24 h
	LoginSessionLifespan  time.Duration // default 24 h

	// EnablePKCEPlain allows code_challenge_method=plain (RFC 7636 §4.2);
	// off by default, as RFC 9700 §2.1.1 advises.
	EnablePKCEPlain bool
	// Registration is off, open, or token (InitialAccessToken required).
	Registration       string
	InitialAccessToken string
	// RegistrationPolicy bounds what a dynamically registered client may
	// obtain; the zero value is DefaultRegistrationPolicy.
	RegistrationPolicy RegistrationPolicy

	// Interactions bounds the pending login and consent forms.
	Interactions InteractionLimits
	// LoginThrottle slows down password guessing.
	LoginThrottle ThrottlePolicy

	Hooks  Hooks
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.PublicURL == "" {
		return errors.New("authserver: PublicURL is required")
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if len(c.GlobalSecret) < 32 {
		return errors.New("authserver: GlobalSecret must be at least 32 bytes")
	}
	setDuration(&c.AccessTokenLifespan, time.Hour)
	setDuration(&c.IDTokenLifespan, time.Hour)
	setDuration(&c.AuthorizeCodeLifespan, time.Minute)
	setDuration(&c.RefreshTokenLifespan, 24*time.Hour)
	setDuration(&c.LoginSessionLifespan, 24*time.Hour)
	switch c.Registration {
	case "":
		c.Registration = RegistrationOpen
	case RegistrationOff, RegistrationOpen:
	case RegistrationToken:
		if c.InitialAccessToken == "" {
			return errors.New("authserver: registration mode token needs an InitialAccessToken")
		}
	default:
		return fmt.Errorf("authserver: unknown registration mode %q (off, open, token)", c.Registration)
	}
	if err := c.RegistrationPolicy.defaults(); err != nil {
		return err
	}
	c.Interactions.defaults()
	c.LoginThrottle.defaults()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Server is the authorization server's HTTP handler.
type Server struct {
	cfg      Config
	issuer   string
	store    Storage
	keys     *keyring.Ring
	provider fosite.OAuth2Provider
	strategy *accessTokenStrategy
	hooks    Hooks
	pages    *Pages
	log      *slog.Logger

	interactions *interactions
	throttle     *throttle
	browsers     browserCookies
	mux          *http.ServeMux
}

// New builds the server over a store and a key ring.
func New(cfg Config, st Storage, keys *keyring.Ring) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	pages, err := NewPages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:          cfg,
		issuer:       cfg.PublicURL + IssuerPath,
		store:        st,
		keys:         keys,
		pages:        pages,
		log:          cfg.Logger,
		interactions: newInteractions(cfg.Interactions),
		throttle:     newThrottle(cfg.LoginThrottle),
		browsers:     browserCookies{key: deriveKey(cfg.GlobalSecret, "browser cookie")},
	}
	s.hooks = cfg.Hooks.withDefaults(st, pages)
	s.provider, s.strategy = s.compose()
	s.routes()
	return s, nil
}

// Issuer is the issuer identifier, <public-url>/authserver/oauth2.
func (s *Server) Issuer() string { return s.issuer }

func (s *Server) endpoint(name string) string { return s.issuer + "/" + name }

func (s *Server) compose() (fosite.OAuth2Provider, *accessTokenStrategy) {
	idTokenLifespan := s.cfg.IDTokenLifespan
	if fault.On("idt-expired-at-issue") {
		idTokenLifespan = -time.Minute
	}
	cfg := &fosite.Config{
		AccessTokenLifespan:   s.cfg.AccessTokenLifespan,
		RefreshTokenLifespan:  s.cfg.RefreshTokenLifespan,
		AuthorizeCodeLifespan: s.cfg.AuthorizeCodeLifespan,
		IDTokenLifespan:       idTokenLifespan,
		IDTokenIssuer:         s.issuer,
		AccessTokenIssuer:     s.issuer,
		TokenURL:              s.endpoint("token"),
		GlobalSecret:          s.cfg.GlobalSecret,
		JWTScopeClaimKey:      jwt.JWTScopeFieldString,
		// Set the lazily defaulted fields now: their getters write the
		// config on first use, which races under load.
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.DefaultAudienceMatchingStrategy,
		ClientSecretsHasher:            NewSecretHasher(),
		EnforcePKCEForPublicClients:    !fault.On("pkce-public-client-optional"),
		EnablePKCEPlainChallengeMethod: s.cfg.EnablePKCEPlain || fault.On("pkce-plain-accepted"),
		// Refresh tokens only for offline_access (OIDC Core §11).
		RefreshTokenScopes: []string{"offline_access"},
		// A one-character state or nonce is legal: the specs set no minimum.
		MinParameterEntropy:        1,
		AllowedPromptValues:        []string{"none", "login", "consent"},
		SendDebugMessagesToClients: false,
		RedirectSecureChecker:      fosite.IsRedirectURISecureStrict,
	}
	signer := s.keys.Signer()
	hmacStrategy := compose.NewOAuth2HMACStrategy(cfg)
	at := &accessTokenStrategy{
		DefaultJWTStrategy: &oauth2.DefaultJWTStrategy{Signer: signer, HMACSHAStrategy: hmacStrategy, Config: cfg},
	}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               at,
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: signer, Config: cfg},
		Signer:                     signer,
	}
	provider := compose.Compose(cfg, s.store, strategy,
		authorizeCodeFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	return provider, at
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	p := IssuerPath
	mux.HandleFunc("GET "+p+"/.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server"+p, s.handleDiscovery)
	mux.HandleFunc("GET "+p+"/.well-known/oauth-authorization-server", s.handleDiscovery)
	mux.HandleFunc("GET "+p+"/jwks", s.handleJWKS)
	mux.HandleFunc(p+"/authorize", s.handleAuthorize)
	mux.HandleFunc("POST "+p+"/authorize/login", s.handleLogin)
	mux.HandleFunc("POST "+p+"/authorize/consent", s.handleConsent)
	mux.HandleFunc(p+"/token", s.handleToken)
	mux.HandleFunc(p+"/userinfo", s.handleUserinfo)
	mux.HandleFunc(p+"/introspection", s.handleIntrospection)
	mux.HandleFunc(p+"/revocation", s.handleRevocation)
	mux.HandleFunc(p+"/register", s.handleRegister)
	mux.HandleFunc(p+"/logout", s.handleLogout)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	s.mux = mux
}

// ServeHTTP serves requests with their full path (/authserver/oauth2/...).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}
