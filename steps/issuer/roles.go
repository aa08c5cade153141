package issuer

import (
	"net"
	"net/url"
	"os"
)

// TestOP says where the suite's own OpenID provider (package testop)
// listens when it plays the issuer for a resource server or a client under
// test. Those are configured in advance to trust it, so its address and
// certificate can be fixed.
type TestOP struct {
	// Addr is the listen address, e.g. 127.0.0.1:9443; default a free
	// loopback port, which only a server started after the suite can use.
	Addr string `yaml:"addr"`
	// Host is the host name of its issuer URL; default the address's IP.
	Host string `yaml:"host"`
	// CertFile and KeyFile are a certificate and key (PEM) it serves;
	// default a fresh self-signed certificate per run.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// CAOut is where the run writes the certificate it serves (PEM), for
	// the server under test to trust.
	CAOut string `yaml:"ca_out"`
}

// Resource is a resource server under test (oauthtrio check --resource):
// it must trust the test OP as its issuer.
type Resource struct {
	// URL is a protected resource; a GET with a valid token answers 2xx.
	// oauthtrio check --resource URL overrides it.
	URL string `yaml:"url"`
	// Audience is the resource server's identifier, which the tokens'
	// "aud" names (RFC 9068 §3).
	Audience string `yaml:"audience"`
	// Scope is the scope the resource requires; a token without it must be
	// refused with insufficient_scope.
	Scope string `yaml:"scope"`
	// RequiresATJWT says the resource server takes only RFC 9068 tokens
	// ("typ": "at+jwt"); the typ scenarios run only then.
	RequiresATJWT bool `yaml:"requires_at_jwt"`
	// Introspects says the resource server asks the issuer's introspection
	// endpoint (RFC 7662); the revoked-token scenario runs only then.
	Introspects bool `yaml:"introspects"`
	// Introspector is the client the resource server introspects as,
	// registered at the test OP.
	Introspector *Client `yaml:"introspector"`
	// ClientID is the client_id the tokens carry; default oauthtrio-client.
	ClientID string `yaml:"client_id"`
}

// RelyingParty is a client application under test (oauthtrio check
// --client): it must use the test OP as its issuer.
type RelyingParty struct {
	// URL is the page where a login starts; oauthtrio check --client URL
	// overrides it.
	URL string `yaml:"url"`
	// Profile is a client profile: a shipped name (fixtures/client-profiles)
	// or a YAML file, saying how a login starts and how success and errors
	// show.
	Profile string `yaml:"profile"`
	// Registration is the client's registration at the test OP.
	Registration *Client `yaml:"registration"`
	// SupportsIssParameter says the client checks the authorization
	// response's iss (RFC 9207); the mix-up scenario runs only then.
	SupportsIssParameter bool `yaml:"supports_iss_parameter"`
}

// Resource and client mode defaults.
const (
	DefaultResourceClientID = "oauthtrio-client"
	DefaultTestOPAddr       = "127.0.0.1:0"
)

// applyRoleDefaults is ApplyDefaults for the resource and client sections.
func (c *Config) applyRoleDefaults() {
	if c.TestOP.Addr == "" {
		c.TestOP.Addr = DefaultTestOPAddr
	}
	if r := c.Resource; r != nil {
		if r.ClientID == "" {
			r.ClientID = DefaultResourceClientID
		}
		if r.Audience == "" {
			r.Audience = r.URL
		}
	}
}

// resolveRolePaths makes the role sections' file paths relative to the
// configuration file.
func (c *Config) resolveRolePaths(resolve func(string) string) {
	c.TestOP.CertFile = resolve(c.TestOP.CertFile)
	c.TestOP.KeyFile = resolve(c.TestOP.KeyFile)
	c.TestOP.CAOut = resolve(c.TestOP.CAOut)
	if rp := c.RelyingParty; rp != nil && ProfileIsFile(rp.Profile) {
		rp.Profile = resolve(rp.Profile)
	}
}

// rolesOnly reports whether the configuration tests a resource server or
// a client only, with the test OP as the issuer: then issuer may be empty.
func (c *Config) rolesOnly() bool {
	return c.Issuer == "" && (c.Resource != nil || c.RelyingParty != nil)
}

// validateRoles checks the test_op, resource and client sections.
func (c *Config) validateRoles(bad func(field, format string, args ...any)) {
	if _, _, err := net.SplitHostPort(c.TestOP.Addr); c.TestOP.Addr != "" && err != nil {
		bad("test_op.addr", "%q is not host:port: %v", c.TestOP.Addr, err)
	}
	if (c.TestOP.CertFile == "") != (c.TestOP.KeyFile == "") {
		bad("test_op.cert_file", "cert_file and key_file go together")
	}
	for _, f := range []struct{ field, path string }{{"test_op.cert_file", c.TestOP.CertFile}, {"test_op.key_file", c.TestOP.KeyFile}} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				bad(f.field, "%v", err)
			}
		}
	}
	absolute := func(field, v string) {
		if u, err := url.Parse(v); v == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			bad(field, "%q is not an absolute http(s) URL", v)
		}
	}
	// An empty url may come from the command line (--resource, --client);
	// the run refuses to start without one.
	if r := c.Resource; r != nil && r.URL != "" {
		absolute("resource.url", r.URL)
	}
	if r := c.Resource; r != nil {
		if r.Scope != "" && !isScopeToken(r.Scope) {
			bad("resource.scope", "%q is not one scope token", r.Scope)
		}
		if r.Introspector == nil || r.Introspector.ID == "" || r.Introspector.Secret == "" {
			if r.Introspects {
				bad("resource.introspector", "introspects is true: give the id and secret the resource server introspects with")
			}
		}
	}
	if rp := c.RelyingParty; rp != nil {
		if rp.URL != "" {
			absolute("client.url", rp.URL)
		}
		switch reg := rp.Registration; {
		case reg == nil || reg.ID == "":
			bad("client.registration.id", "is required: the client's id at the test OP")
		case reg.RedirectURI == "":
			bad("client.registration.redirect_uri", "is required: the client's redirect URI, registered at the test OP")
		default:
			absolute("client.registration.redirect_uri", reg.RedirectURI)
		}
		if rp.Profile == "" {
			bad("client.profile", "is required: a client profile's name or file")
		}
	}
}

// isScopeToken reports whether s is one RFC 6749 §3.3 scope-token.
func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return s != ""
}
