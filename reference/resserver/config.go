// Package resserver is the reference resource server: the protected API of
// the IRIS OAuth2 workshop, re-created with the checks the workshop leaves
// out. A bearer access token is accepted only when its signature, issuer,
// audience, lifetime, type and scope are right and the authorization server
// still reports it active, so a revoked token stops working at once.
package resserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by New and NewVerifier to zero-valued Config fields.
const (
	DefaultRequiredScope = "my/scope"
	DefaultLeeway        = 30 * time.Second
	DefaultRealm         = "resserver"
	DefaultPathPrefix    = "/resserver"
)

// DefaultDelegatedRoles are the roles the workshop's ZAUTHENTICATE hook gives
// the OAuth2<sub> account.
var DefaultDelegatedRoles = []string{"%DB_DEFAULT", "%Operator"}

// issuerSuffix is the issuer path behind the front; the public URL, and so
// the default audience, is the issuer without it.
const issuerSuffix = "/authserver/oauth2"

// Config configures a Server or a Verifier.
type Config struct {
	// Issuer is the exact "iss" every access token must carry, e.g.
	// https://webserver/authserver/oauth2.
	Issuer string
	// JWKSURL and IntrospectionURL, when empty, are read from the issuer's
	// discovery document on first use.
	JWKSURL          string
	IntrospectionURL string
	// Audience is this resource server's identifier, which must be in a
	// JWT's "aud". Defaults to <public-url>/resserver, the public URL being
	// the Issuer without /authserver/oauth2.
	Audience string
	// RequiredScope must be one of the token's scopes. Defaults to my/scope.
	RequiredScope string
	// ClientID and ClientSecret authenticate this resource server at the
	// introspection endpoint (client_secret_basic).
	ClientID     string
	ClientSecret string
	// HTTPClient reaches the authorization server; its transport carries
	// the TLS trust for the issuer. Defaults to a client with a 10 s timeout.
	HTTPClient *http.Client
	// AllowedOrigins lists the exact origins (scheme://host[:port]) that may
	// call the API from a browser.
	AllowedOrigins []string
	// Leeway is the clock skew tolerated on exp, nbf and iat. Defaults to 30 s.
	Leeway time.Duration
	// Realm is the realm of the Bearer challenge. Defaults to "resserver".
	Realm string
	// DelegatedRoles are the roles reported for the delegated identity.
	// Defaults to DefaultDelegatedRoles.
	DelegatedRoles []string
	// Logger receives validation failures; tokens are never logged.
	// Defaults to a logger that discards everything.
	Logger *slog.Logger
	// Now replaces the clock in tests. Defaults to time.Now.
	Now func() time.Time
	// PathPrefix is the prefix the front routes to this server; the handler
	// sees full paths such as /resserver/protected-resources/. Defaults to
	// /resserver; "/" means no prefix.
	PathPrefix string
}

// withDefaults returns a copy of c with defaults applied and checks it.
func (c Config) withDefaults() (Config, error) {
	if c.Issuer == "" {
		return c, errors.New("resserver: Issuer is required")
	}
	iss, err := url.Parse(c.Issuer)
	if err != nil || iss.Host == "" || (iss.Scheme != "https" && iss.Scheme != "http") {
		return c, fmt.Errorf("resserver: Issuer %q is not an absolute http(s) URL", c.Issuer)
	}
	if c.ClientID == "" {
		return c, errors.New("resserver: ClientID is required for introspection")
	}
	if c.PathPrefix == "" {
		c.PathPrefix = DefaultPathPrefix
	}
	c.PathPrefix = strings.TrimSuffix(c.PathPrefix, "/")
	if c.PathPrefix != "" && !strings.HasPrefix(c.PathPrefix, "/") {
		return c, fmt.Errorf("resserver: PathPrefix %q must start with /", c.PathPrefix)
	}
	if c.Audience == "" {
		base, ok := strings.CutSuffix(c.Issuer, issuerSuffix)
		if !ok {
			return c, fmt.Errorf("resserver: Audience is required when the issuer does not end in %s", issuerSuffix)
		}
		c.Audience = base + DefaultPathPrefix
	}
	if c.RequiredScope == "" {
		c.RequiredScope = DefaultRequiredScope
	}
	// RFC 6749 §3.3: scope-token = 1*NQCHAR; it is also echoed in the
	// challenge's scope attribute, so it must not need quoting.
	for _, s := range strings.Split(c.RequiredScope, " ") {
		if s == "" || !isNQCHARs(s) {
			return c, fmt.Errorf("resserver: RequiredScope %q is not a valid scope", c.RequiredScope)
		}
	}
	if c.Leeway < 0 {
		return c, errors.New("resserver: Leeway must not be negative")
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.DelegatedRoles == nil {
		c.DelegatedRoles = DefaultDelegatedRoles
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// isNQCHARs reports whether s has only NQCHAR (RFC 6749 Appendix A:
// %x21 / %x23-5B / %x5D-7E).
func isNQCHARs(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}
