// Package issuer is the suite's view of the issuer under test: its
// configuration (which issuer, which clients and users), what its discovery
// document says, the capabilities the scenarios need, the failures it is
// expected to have, and the clients the suite registers at it.
package issuer

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Role names what a client is for in the scenarios.
type Role string

// The client roles a target configuration can fill.
const (
	// RoleWeb is the confidential web client of the authorization code flow.
	RoleWeb Role = "web"
	// RolePublic is a public client (no secret) that must use PKCE.
	RolePublic Role = "public"
	// RoleService is a client of the client_credentials grant.
	RoleService Role = "service"
	// RoleIntrospector authenticates to the introspection endpoint, as a
	// resource server does.
	RoleIntrospector Role = "introspector"
	// RoleOther is a second confidential client, for checks that one client
	// cannot use what was issued to another.
	RoleOther Role = "other"
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleWeb, RolePublic, RoleService, RoleIntrospector, RoleOther}

// Assignments choose which configured client plays a part in the
// introspection and revocation scenarios. Providers differ here, within
// the RFCs: RFC 7662 §2.2 lets an introspection endpoint answer
// "active": false to a caller that may not see a token, and RFC 7009 §2.1
// has a client revoke only its own tokens.
type Assignments struct {
	// Introspected is the client whose client-credentials token the
	// introspector is asked about: service (default) where the
	// introspector may see other clients' tokens, introspector where it
	// may see only its own.
	Introspected Role `yaml:"introspected"`
	// Revoker is the client that gets a client-credentials token and
	// revokes it (default service).
	Revoker Role `yaml:"revoker"`
	// CodeExpiry is the client whose code the expired-code scenario lets
	// expire (default web): waits.code_expiry is that client's code
	// lifetime plus a margin, so an issuer can give one client short-lived
	// codes without shortening every other flow.
	CodeExpiry Role `yaml:"code_expiry"`
}

// assignable are the roles that can get a token from the client
// credentials grant, which the introspection and revocation scenarios use.
var assignable = []Role{RoleService, RoleIntrospector}

// Token endpoint authentication methods (RFC 7591 §2, OIDC Core §9).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthClientSecretJWT   = "client_secret_jwt"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthNone              = "none"
)

var authMethods = []string{AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT, AuthPrivateKeyJWT, AuthNone}

// Defaults applied by LoadConfig.
const (
	DefaultHTTPTimeout    = 10 * time.Second
	DefaultBrowserTimeout = 15 * time.Second
	// ProfileAuto asks the browser driver to recognise the login pages.
	ProfileAuto = "auto"
)

// Config is one target: an issuer plus what the suite needs to exercise it.
type Config struct {
	// Issuer is the issuer identifier exactly as the issuer states it.
	Issuer       string           `yaml:"issuer"`
	TLS          TLS              `yaml:"tls"`
	Clients      map[Role]*Client `yaml:"clients"`
	Registration Registration     `yaml:"registration"`
	Users        Users            `yaml:"users"`
	// Profile names the login profile, or "auto".
	Profile        string          `yaml:"profile"`
	ResourceServer *ResourceServer `yaml:"resource_server"`
	// Assign chooses the clients of the introspection and revocation
	// scenarios.
	Assign Assignments `yaml:"assign"`
	// Concurrency is how many scenarios run at once (default 4); some
	// issuers' development stores do not tolerate parallel sessions.
	Concurrency int `yaml:"concurrency"`
	// ClientApp is a client application that uses the issuer, for the
	// scenarios that drive a sign-in through it.
	ClientApp *ClientApp `yaml:"client_app"`
	// ExpectedFailuresFile is the OIDF-shaped list of known failures,
	// relative to the configuration file.
	ExpectedFailuresFile string `yaml:"expected_failures"`
	// Endpoints overrides or adds endpoints the discovery document lacks or
	// gets wrong (introspection on an admin port, say), keyed by the
	// discovery member name, e.g. introspection_endpoint.
	Endpoints map[string]string `yaml:"endpoints"`
	Timeouts  Timeouts          `yaml:"timeouts"`
	Waits     Waits             `yaml:"waits"`
	// Workshop says the issuer carries the IRIS OAuth2 workshop's
	// customisations (its custom claims and hooks), which some scenarios
	// check.
	Workshop bool `yaml:"workshop"`

	// TestOP, Resource and RelyingParty configure the other two roles'
	// checks (oauthtrio check --resource, --client), where the suite's own
	// OpenID provider is the issuer; see roles.go.
	TestOP       TestOP        `yaml:"test_op"`
	Resource     *Resource     `yaml:"resource"`
	RelyingParty *RelyingParty `yaml:"client"`

	// ExpectedFailures is the loaded ExpectedFailuresFile (empty without one).
	ExpectedFailures *ExpectedFailures `yaml:"-"`
	// Path is the file the configuration came from.
	Path string `yaml:"-"`
}

// TLS says how to trust the issuer.
type TLS struct {
	// CAFile is a PEM bundle of CAs (or the self-signed certificate) to trust
	// besides the system roots, relative to the configuration file.
	CAFile string `yaml:"ca_file"`
	// Insecure disables certificate checks. For throw-away test issuers only.
	Insecure bool `yaml:"insecure"`
}

// Client is a registered client.
type Client struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
	// AuthMethod is the token endpoint auth method; the default is
	// client_secret_basic, or none for the public role.
	AuthMethod  string `yaml:"auth_method"`
	RedirectURI string `yaml:"redirect_uri"`
	Scopes      Scopes `yaml:"scopes"`
	// PostLogoutRedirectURI is a post_logout_redirect_uri registered for
	// the client (RP-Initiated Logout 1.0 §2), for the logout scenarios.
	PostLogoutRedirectURI string `yaml:"post_logout_redirect_uri"`
}

// Scopes is a scope list, written in YAML as a list or as one
// space-separated string (the form scope takes on the wire).
type Scopes []string

// UnmarshalYAML accepts "openid profile" as well as [openid, profile].
func (s *Scopes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = strings.Fields(n.Value)
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

// String joins the scopes as the scope parameter expects.
func (s Scopes) String() string { return strings.Join(s, " ") }

// Registration configures dynamic client registration (RFC 7591).
type Registration struct {
	// Enabled allows registering a client for each role left unconfigured,
	// when the issuer advertises registration_endpoint.
	Enabled            bool   `yaml:"enabled"`
	InitialAccessToken string `yaml:"initial_access_token"`
}

// Users are the accounts used at the login page.
type Users struct {
	Valid   *User `yaml:"valid"`
	Invalid *User `yaml:"invalid"`
}

// User is one account. Claims holds what the issuer should say about the
// user (name, email…), compared with ID tokens and userinfo.
type User struct {
	Username string         `yaml:"username"`
	Password string         `yaml:"password"`
	Claims   map[string]any `yaml:"claims"`
}

// ClientApp is a web application that signs its users in at the issuer,
// like the IRIS workshop's client.
type ClientApp struct {
	// URL is the page from which a user starts the sign-in.
	URL string `yaml:"url"`
	// RedirectURI is the application's redirect URI registered at the
	// issuer: where the flow comes back to it.
	RedirectURI string `yaml:"redirect_uri"`
	// ErrorText marks an error the application shows (default "[Error]",
	// as the IRIS workshop's page and the reference's write them): a step
	// waiting for other text stops soon after it appears.
	ErrorText string `yaml:"error_text"`
}

// ErrorMarker is ErrorText or its default.
func (a *ClientApp) ErrorMarker() string {
	if a.ErrorText == "" {
		return "[Error]"
	}
	return a.ErrorText
}

// ResourceServer is a protected resource that accepts the issuer's tokens.
type ResourceServer struct {
	URL   string `yaml:"url"`
	Scope string `yaml:"scope"`
}

// Timeouts bound HTTP calls and browser actions.
// Waits are delays some scenarios need to let time pass at the issuer;
// zero means the default (CodeReuse) or that the scenario cannot run
// (CodeExpiry).
type Waits struct {
	// CodeReuse is how long to wait before reusing a code (OIDF waits
	// 30 s in oidcc-codereuse-30seconds); default 5 s.
	CodeReuse time.Duration `yaml:"code_reuse"`
	// CodeExpiry is how long a code takes to expire at the issuer, plus a
	// margin; the expired-code scenario runs only when it is set.
	CodeExpiry time.Duration `yaml:"code_expiry"`
}

// DefaultCodeReuseWait is Waits.CodeReuse when unset.
const DefaultCodeReuseWait = 5 * time.Second

type Timeouts struct {
	HTTP    time.Duration `yaml:"http"`
	Browser time.Duration `yaml:"browser"`
}

// Clone returns a copy that can be changed (clients registered, profile
// overridden) without touching c.
func (c *Config) Clone() *Config {
	out := *c
	out.Clients = make(map[Role]*Client, len(c.Clients))
	for role, cl := range c.Clients {
		if cl != nil {
			copied := *cl
			copied.Scopes = slices.Clone(cl.Scopes)
			cl = &copied
		}
		out.Clients[role] = cl
	}
	out.Endpoints = maps.Clone(c.Endpoints)
	if c.Resource != nil {
		r := *c.Resource
		out.Resource = &r
	}
	if c.RelyingParty != nil {
		rp := *c.RelyingParty
		out.RelyingParty = &rp
	}
	return &out
}

// Client returns the client configured for role.
func (c *Config) Client(role Role) (*Client, bool) {
	cl, ok := c.Clients[role]
	return cl, ok && cl != nil
}

// SetClient fills a role, typically with a dynamically registered client.
func (c *Config) SetClient(role Role, cl *Client) {
	if c.Clients == nil {
		c.Clients = map[Role]*Client{}
	}
	c.Clients[role] = cl
}

// RedirectURIs returns the distinct redirect URIs of the configured clients,
// sorted: the listeners the run must open.
func (c *Config) RedirectURIs() []string {
	var out []string
	for _, cl := range c.Clients {
		if cl != nil && cl.RedirectURI != "" && !slices.Contains(out, cl.RedirectURI) {
			out = append(out, cl.RedirectURI)
		}
	}
	sort.Strings(out)
	return out
}

// LoadConfig reads a target configuration, expands ${ENV} references,
// applies defaults and validates it. Relative paths are resolved against the
// file's directory. The expected-failures file, when named, is loaded too.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("target config: %w", err)
	}
	cfg, err := ParseConfig(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("target config %s: %w", path, err)
	}
	cfg.Path = path
	return cfg, nil
}

// ParseConfig is LoadConfig for YAML already in memory; relative paths are
// resolved against dir.
func ParseConfig(data []byte, dir string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	// Unknown keys first, all of them, in the file's own words; then the
	// environment, every missing variable at once.
	lines := map[int]string{}
	if bad := configKeys(&root, reflect.TypeFor[Config](), "", lines); len(bad) > 0 {
		return nil, errors.New(strings.Join(bad, "\n"))
	}
	var missing []string
	expandEnv(&root, "", &missing)
	if len(missing) > 0 {
		return nil, errors.New(strings.Join(missing, "\n"))
	}
	var cfg Config
	// Decoding from the node tree again (re-encoding first) keeps the strict
	// unknown-field check, which catches misspelt keys.
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, friendlyTypeError(err, lines)
	}
	cfg.resolvePaths(dir)
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ExpectedFailuresFile != "" {
		ef, err := LoadExpectedFailures(cfg.ExpectedFailuresFile)
		if err != nil {
			return nil, fmt.Errorf("expected_failures: %w", err)
		}
		cfg.ExpectedFailures = ef
	} else {
		cfg.ExpectedFailures = &ExpectedFailures{}
	}
	return &cfg, nil
}

// ProfileIsFile reports whether a profile reference names a YAML file
// rather than a shipped profile: it has a path separator or a YAML
// extension.
func ProfileIsFile(ref string) bool {
	return strings.ContainsAny(ref, `/\`) || strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml")
}

// ApplyDefaults fills what the configuration leaves unset: the login
// profile (auto), the timeouts and each client's authentication method. It
// is the one place defaults are decided; loading applies it, and Clone
// keeps it.
func (c *Config) ApplyDefaults() {
	if c.Profile == "" {
		c.Profile = ProfileAuto
	}
	if c.Timeouts.HTTP == 0 {
		c.Timeouts.HTTP = DefaultHTTPTimeout
	}
	if c.Timeouts.Browser == 0 {
		c.Timeouts.Browser = DefaultBrowserTimeout
	}
	for role, cl := range c.Clients {
		if cl == nil || cl.AuthMethod != "" {
			continue
		}
		if role == RolePublic {
			cl.AuthMethod = AuthNone
		} else {
			cl.AuthMethod = AuthClientSecretBasic
		}
	}
	if c.Waits.CodeReuse <= 0 {
		c.Waits.CodeReuse = DefaultCodeReuseWait
	}
	if c.Assign.Introspected == "" {
		c.Assign.Introspected = RoleService
	}
	if c.Assign.Revoker == "" {
		c.Assign.Revoker = RoleService
	}
	if c.Assign.CodeExpiry == "" {
		c.Assign.CodeExpiry = RoleWeb
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	c.applyRoleDefaults()
}

// DefaultConcurrency is how many scenarios run at once unless the
// configuration or the command line says otherwise.
const DefaultConcurrency = 4

// resolvePaths makes the configuration's file paths relative to dir.
func (c *Config) resolvePaths(dir string) {
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) || dir == "" {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.TLS.CAFile = resolve(c.TLS.CAFile)
	if ProfileIsFile(c.Profile) {
		c.Profile = resolve(c.Profile)
	}
	c.ExpectedFailuresFile = resolve(c.ExpectedFailuresFile)
	c.resolveRolePaths(resolve)
}

// Validate reports every problem of the configuration, each prefixed with
// the field it concerns.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}

	switch u, err := url.Parse(c.Issuer); {
	case c.rolesOnly():
	case c.Issuer == "":
		bad("issuer", "is required")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		bad("issuer", "%q is not an absolute http(s) URL", c.Issuer)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(c.Issuer, "#"):
		// OIDC Discovery §3, RFC 8414 §2: no query or fragment.
		bad("issuer", "%q must not have a query or fragment", c.Issuer)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		bad("issuer", "%q uses http on a host that is not loopback; issuers must use https", c.Issuer)
	}

	if c.TLS.CAFile != "" {
		if _, err := os.Stat(c.TLS.CAFile); err != nil {
			bad("tls.ca_file", "%v", err)
		}
	}

	for role, cl := range c.Clients {
		field := "clients." + string(role)
		if !slices.Contains(Roles, role) {
			bad(field, "unknown role (want one of %s)", joinRoles())
			continue
		}
		if cl == nil {
			bad(field, "is empty; remove it or give the client")
			continue
		}
		cl.validate(field, role, bad)
	}

	if u := c.Users.Valid; u != nil {
		if u.Username == "" {
			bad("users.valid.username", "is required")
		}
		if u.Password == "" {
			bad("users.valid.password", "is required")
		}
	}
	if u := c.Users.Invalid; u != nil && u.Username == "" {
		bad("users.invalid.username", "is required")
	}
	if !ProfileIsFile(c.Profile) && !regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`).MatchString(c.Profile) {
		bad("profile", "%q is neither a shipped profile's name nor a .yaml file", c.Profile)
	}
	if rs := c.ResourceServer; rs != nil {
		if u, err := url.Parse(rs.URL); rs.URL == "" || err != nil || u.Host == "" {
			bad("resource_server.url", "%q is not an absolute URL", rs.URL)
		}
	}
	for _, a := range []struct {
		field string
		role  Role
	}{{"assign.introspected", c.Assign.Introspected}, {"assign.revoker", c.Assign.Revoker}} {
		if a.role != "" && !slices.Contains(assignable, a.role) {
			bad(a.field, "%q must be service or introspector (a client of the client credentials grant)", a.role)
		}
	}
	if r := c.Assign.CodeExpiry; r != "" && r != RoleWeb && r != RoleOther {
		bad("assign.code_expiry", "%q must be web or other (a confidential client of the authorization code flow)", r)
	}
	if c.Concurrency < 0 {
		bad("concurrency", "must be positive")
	}
	if app := c.ClientApp; app != nil {
		for _, f := range []struct{ field, value string }{{"client_app.url", app.URL}, {"client_app.redirect_uri", app.RedirectURI}} {
			if u, err := url.Parse(f.value); f.value == "" || err != nil || u.Host == "" {
				bad(f.field, "%q is not an absolute URL", f.value)
			}
		}
	}
	for name, v := range c.Endpoints {
		if !strings.HasSuffix(name, "_endpoint") && name != "jwks_uri" {
			bad("endpoints."+name, "not an endpoint member name (e.g. introspection_endpoint)")
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" {
			bad("endpoints."+name, "%q is not an absolute URL", v)
		}
	}
	if c.Timeouts.HTTP < 0 {
		bad("timeouts.http", "must be positive")
	}
	if c.Timeouts.Browser < 0 {
		bad("timeouts.browser", "must be positive")
	}
	if c.Registration.InitialAccessToken != "" && !c.Registration.Enabled {
		bad("registration.initial_access_token", "is set but registration.enabled is false")
	}
	c.validateRoles(bad)

	if len(errs) == 0 {
		return nil
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

func (cl *Client) validate(field string, role Role, bad func(field, format string, args ...any)) {
	if cl.ID == "" {
		bad(field+".id", "is required")
	}
	if !slices.Contains(authMethods, cl.AuthMethod) {
		bad(field+".auth_method", "%q is not one of %s", cl.AuthMethod, strings.Join(authMethods, ", "))
	}
	switch {
	case role == RolePublic && cl.AuthMethod != AuthNone:
		bad(field+".auth_method", "a public client authenticates with none, not %s", cl.AuthMethod)
	case role == RolePublic && cl.Secret != "":
		bad(field+".secret", "a public client has no secret")
	case role != RolePublic && cl.AuthMethod == AuthNone:
		bad(field+".auth_method", "the %s role needs a confidential client", role)
	case strings.HasPrefix(cl.AuthMethod, "client_secret_") && cl.Secret == "":
		bad(field+".secret", "is required for %s", cl.AuthMethod)
	}
	needsRedirect := role == RoleWeb || role == RolePublic
	if cl.RedirectURI == "" && needsRedirect {
		bad(field+".redirect_uri", "is required for the %s role", role)
	}
	if cl.RedirectURI != "" {
		u, err := url.Parse(cl.RedirectURI)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "":
			bad(field+".redirect_uri", "%q is not an absolute URL", cl.RedirectURI)
		case u.Fragment != "" || strings.Contains(cl.RedirectURI, "#"):
			// RFC 6749 §3.1.2: the redirection endpoint has no fragment.
			bad(field+".redirect_uri", "%q must not have a fragment", cl.RedirectURI)
		case !isLoopback(u.Hostname()):
			bad(field+".redirect_uri", "%q must point at this machine (127.0.0.1, ::1 or localhost), where the suite listens", cl.RedirectURI)
		}
	}
}

func joinRoles() string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandEnv replaces ${NAME} and ${NAME:-default} in scalar values. Working
// on the parsed tree, not the raw text, means a secret containing YAML
// syntax cannot change the document's structure.
func expandEnv(n *yaml.Node, path string, missingAll *[]string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			expandEnv(c, p, missingAll)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			p := key
			if path != "" {
				p = path + "." + key
			}
			expandEnv(n.Content[i+1], p, missingAll)
		}
	case yaml.ScalarNode:
		var missing []string
		out := envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			if v, ok := os.LookupEnv(m[1]); ok && v != "" {
				return v
			}
			if m[2] != "" {
				return m[3]
			}
			missing = append(missing, m[1])
			return ""
		})
		if len(missing) > 0 {
			*missingAll = append(*missingAll, fmt.Sprintf("%s: environment variable %s is not set", path, strings.Join(missing, ", ")))
			return
		}
		if out != n.Value {
			n.Value = out
			// Let the expanded text resolve again, so insecure: ${INSECURE}
			// can give a boolean; string fields take any scalar as text.
			// Only null is kept out: it would empty a string field.
			n.Tag, n.Style = "", 0
			var probe any
			if yaml.Unmarshal([]byte(out), &probe) != nil || probe == nil || strings.ContainsAny(out, "\n:#{}[],&*!|>'\"%@`") {
				n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
			}
		}
	}
}
