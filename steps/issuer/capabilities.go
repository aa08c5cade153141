package issuer

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// NeedsTagPrefix starts the tags of scenarios that need a capability:
// @needs:client_credentials runs only when the target has it.
const NeedsTagPrefix = "@needs:"

// A capability is decided by one of these sources.
const (
	SourceDiscovery   = "discovery"   // the issuer's discovery document
	SourceConfig      = "config"      // the target configuration
	SourceEnvironment = "environment" // the machine running the suite
	SourceObserved    = "observed"    // what the issuer was seen to do
)

// need is one row of the capability table: how the capability is decided
// and, when missing, the reason a reader sees.
type need struct {
	name   string // a name, or a family prefix ending in ':'
	source string
	// has decides a discovery capability; arg is the part after the prefix
	// for a family. nil for capabilities set from outside.
	has func(m *Metadata, arg string) bool
	// why explains the absence; it may quote the document.
	why func(m *Metadata, arg string) string
}

// needs is the single table of capability names, what decides them and why
// they can be missing. Scenario tags, WhyMissing and the report all use it.
var needs = []need{
	{"discovery", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m != nil },
		func(*Metadata, string) string { return "the issuer's discovery document could not be fetched" }},
	{"openid", SourceDiscovery,
		func(m *Metadata, _ string) bool { return isOpenIDProvider(m) },
		func(*Metadata, string) string {
			return "the issuer does not look like an OpenID provider: no openid in scopes_supported and no id_token_signing_alg_values_supported"
		}},
	{"authorization_code", SourceDiscovery,
		func(m *Metadata, _ string) bool {
			return m.AuthorizationEndpoint != "" && m.TokenEndpoint != "" && slices.Contains(m.GrantTypes(), "authorization_code") && slices.Contains(m.ResponseTypesSupported, "code")
		},
		func(m *Metadata, _ string) string {
			switch {
			case m.AuthorizationEndpoint == "" || m.TokenEndpoint == "":
				return "the issuer's discovery document lacks authorization_endpoint or token_endpoint"
			case !slices.Contains(m.ResponseTypesSupported, "code"):
				return "the issuer's discovery document does not list code in response_types_supported" + listed(m.ResponseTypesSupported)
			}
			return "the issuer's discovery document does not list authorization_code in grant_types_supported" + listed(m.GrantTypesSupported)
		}},
	{"implicit", SourceDiscovery,
		func(m *Metadata, _ string) bool { return slices.Contains(m.GrantTypes(), "implicit") },
		grantWhy("implicit")},
	{"client_credentials", SourceDiscovery,
		func(m *Metadata, _ string) bool {
			return m.TokenEndpoint != "" && slices.Contains(m.GrantTypes(), "client_credentials")
		},
		grantWhy("client_credentials")},
	{"refresh_token", SourceDiscovery,
		func(m *Metadata, _ string) bool { return slices.Contains(m.GrantTypes(), "refresh_token") },
		grantWhy("refresh_token")},
	{"pkce_s256", SourceDiscovery,
		func(m *Metadata, _ string) bool { return slices.Contains(m.CodeChallengeMethodsSupported, "S256") },
		func(m *Metadata, _ string) string {
			return "the issuer's discovery document does not list S256 in code_challenge_methods_supported" + listed(m.CodeChallengeMethodsSupported)
		}},
	{"pkce_plain", SourceDiscovery,
		func(m *Metadata, _ string) bool { return slices.Contains(m.CodeChallengeMethodsSupported, "plain") },
		func(m *Metadata, _ string) string {
			return "the issuer's discovery document does not list plain in code_challenge_methods_supported" + listed(m.CodeChallengeMethodsSupported)
		}},
	{"introspection", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.IntrospectionEndpoint != "" },
		endpointWhy("introspection_endpoint")},
	{"revocation", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.RevocationEndpoint != "" },
		endpointWhy("revocation_endpoint")},
	{"registration", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.RegistrationEndpoint != "" },
		endpointWhy("registration_endpoint")},
	{"userinfo", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.UserinfoEndpoint != "" },
		endpointWhy("userinfo_endpoint")},
	{"end_session", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.EndSessionEndpoint != "" },
		endpointWhy("end_session_endpoint")},
	{"jwks", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.JWKSURI != "" },
		endpointWhy("jwks_uri")},
	{"par", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.PushedAuthorizationRequestEndpoint != "" },
		endpointWhy("pushed_authorization_request_endpoint")},
	{"device_code", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.DeviceAuthorizationEndpoint != "" },
		endpointWhy("device_authorization_endpoint")},
	{"iss_parameter", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.AuthorizationResponseIssParameterSupported },
		func(*Metadata, string) string {
			return "the issuer's discovery document does not set authorization_response_iss_parameter_supported to true (RFC 9207 §3)"
		}},
	{"offline_access", SourceDiscovery,
		func(m *Metadata, _ string) bool { return slices.Contains(m.ScopesSupported, "offline_access") },
		func(m *Metadata, _ string) string {
			return "the issuer's discovery document does not list offline_access in scopes_supported" + listed(m.ScopesSupported)
		}},
	{"prompt_none", SourceDiscovery,
		func(m *Metadata, _ string) bool {
			// OIDC Core §3.1.2.1 defines prompt=none for every OpenID
			// provider; prompt_values_supported, when present, narrows it.
			if m.Has("prompt_values_supported") {
				return slices.Contains(m.PromptValuesSupported, "none")
			}
			return isOpenIDProvider(m)
		},
		func(m *Metadata, _ string) string {
			if m.Has("prompt_values_supported") {
				return "the issuer's discovery document does not list none in prompt_values_supported" + listed(m.PromptValuesSupported)
			}
			return "prompt=none is an OpenID Connect feature and the issuer does not look like an OpenID provider"
		}},
	{"request_object", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.RequestParameterSupported },
		func(*Metadata, string) string {
			return "the issuer's discovery document does not set request_parameter_supported to true (OIDC Discovery §3)"
		}},
	{"claims_parameter", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.ClaimsParameterSupported },
		func(*Metadata, string) string {
			return "the issuer's discovery document does not set claims_parameter_supported to true (OIDC Discovery §3)"
		}},
	{"wait:", SourceConfig, nil, func(_ *Metadata, which string) string {
		return "the target configuration sets no waits." + which + " (how long to wait for it)"
	}},
	{"rfc8414", SourceDiscovery,
		func(m *Metadata, _ string) bool { return m.OAuthServer != nil },
		func(m *Metadata, _ string) string {
			// RFC 8414 §5: OpenID Connect discovery may stand in for it.
			const optional = " (optional for a provider serving OpenID Connect discovery, RFC 8414 §5)"
			if m.OAuthServerErr != nil {
				return "the issuer serves no RFC 8414 metadata at the path-inserted URL: " + m.OAuthServerErr.Error() + optional
			}
			return "the issuer serves no RFC 8414 authorization server metadata" + optional
		}},
	{"scope:", SourceDiscovery,
		func(m *Metadata, s string) bool { return slices.Contains(m.ScopesSupported, s) },
		func(m *Metadata, s string) string {
			return fmt.Sprintf("the issuer's discovery document does not list %s in scopes_supported%s and no configured client asks for it", s, listed(m.ScopesSupported))
		}},
	{"response_type:", SourceDiscovery,
		func(m *Metadata, s string) bool { return slices.Contains(m.ResponseTypesSupported, s) },
		func(m *Metadata, s string) string {
			return fmt.Sprintf("the issuer's discovery document does not list %q in response_types_supported%s", s, listed(m.ResponseTypesSupported))
		}},
	{"response_mode:", SourceDiscovery,
		func(m *Metadata, s string) bool { return slices.Contains(m.ResponseModes(), s) },
		func(m *Metadata, s string) string {
			return fmt.Sprintf("the issuer's discovery document does not list %s in response_modes_supported%s", s, listed(m.ResponseModesSupported))
		}},
	{"auth_method:", SourceDiscovery,
		func(m *Metadata, s string) bool { return slices.Contains(m.TokenEndpointAuthMethods(), s) },
		func(m *Metadata, s string) string {
			return fmt.Sprintf("the issuer's discovery document does not list %s in token_endpoint_auth_methods_supported%s", s, listed(m.TokenEndpointAuthMethodsSupported))
		}},
	{"grant:", SourceDiscovery,
		func(m *Metadata, s string) bool { return slices.Contains(m.GrantTypes(), s) },
		func(m *Metadata, s string) string { return grantWhy(s)(m, s) }},
	{"signing_alg:", SourceDiscovery,
		func(m *Metadata, s string) bool { return slices.Contains(m.IDTokenSigningAlgValuesSupported, s) },
		func(m *Metadata, s string) string {
			return fmt.Sprintf("the issuer's discovery document does not list %s in id_token_signing_alg_values_supported%s", s, listed(m.IDTokenSigningAlgValuesSupported))
		}},

	{"client:", SourceConfig, nil, func(_ *Metadata, role string) string {
		return fmt.Sprintf("the target configuration has no %s client (clients.%s) and none could be registered", role, role)
	}},
	{"user:", SourceConfig, nil, func(_ *Metadata, which string) string {
		return fmt.Sprintf("the target configuration has no %s user (users.%s)", which, which)
	}},
	{"resource_server", SourceConfig, nil, func(*Metadata, string) string {
		return "the target configuration has no resource_server"
	}},
	{"dynamic_registration", SourceConfig, nil, func(m *Metadata, _ string) string {
		if m == nil || m.RegistrationEndpoint == "" {
			return "the issuer advertises no registration_endpoint"
		}
		return "registration.enabled is false in the target configuration, so the suite registers no clients"
	}},
	{"workshop", SourceConfig, nil, func(*Metadata, string) string {
		return "the target is not configured with the IRIS workshop customisation (set workshop: true in the target configuration)"
	}},
	{"https", SourceConfig, nil, func(*Metadata, string) string {
		return "the issuer is served over plain http, so there is no TLS to check"
	}},
	{"client_app", SourceConfig, nil, func(*Metadata, string) string {
		return "the target configuration has no client_app.url (a client application that signs users in at the issuer)"
	}},
	{"browser", SourceEnvironment, nil, func(*Metadata, string) string {
		return "Chromium is not installed on this machine (apt-get install -y chromium)"
	}},
	{"docker", SourceEnvironment, nil, func(*Metadata, string) string {
		return "no Docker engine is reachable from this machine"
	}},
	{"login_failure", SourceObserved, nil, func(*Metadata, string) string {
		return "the login profile cannot recognise a refused login (the provider accepts any password or shows no error marker)"
	}},
	{"jwt_access_tokens", SourceObserved, nil, func(*Metadata, string) string {
		return "no access token from this issuer has been seen to be a JWT (discovery cannot advertise it; it is decided by looking at a token)"
	}},
}

func isOpenIDProvider(m *Metadata) bool {
	return slices.Contains(m.ScopesSupported, "openid") || len(m.IDTokenSigningAlgValuesSupported) > 0
}

func listed(values []string) string {
	if len(values) == 0 {
		return " (it lists none)"
	}
	return " (it lists " + strings.Join(values, ", ") + ")"
}

func grantWhy(grant string) func(*Metadata, string) string {
	return func(m *Metadata, _ string) string {
		if !m.Has("grant_types_supported") {
			return fmt.Sprintf("the issuer's discovery document has no grant_types_supported, whose default (authorization_code, implicit) lacks %s", grant)
		}
		return fmt.Sprintf("the issuer's discovery document does not list %s in grant_types_supported%s", grant, listed(m.GrantTypesSupported))
	}
}

func endpointWhy(member string) func(*Metadata, string) string {
	return func(*Metadata, string) string {
		return fmt.Sprintf("the issuer's discovery document has no %s (and the target configuration sets none under endpoints)", member)
	}
}

func lookupNeed(name string) (need, string, bool) {
	for _, n := range needs {
		if !strings.HasSuffix(n.name, ":") {
			if n.name == name {
				return n, "", true
			}
			continue
		}
		if arg, ok := strings.CutPrefix(name, n.name); ok && arg != "" {
			return n, arg, true
		}
	}
	return need{}, "", false
}

// KnownCapability reports whether name is in the table, so a feature's
// @needs tag can be checked for typos before the run.
func KnownCapability(name string) bool {
	_, _, ok := lookupNeed(name)
	return ok
}

// Capabilities is what the target can do, as far as the suite knows. It is
// safe for concurrent use: scenarios record observations as they run.
type Capabilities struct {
	mu  sync.Mutex
	md  *Metadata
	set map[string]setting
}

type setting struct {
	ok     bool
	reason string
}

// Capabilities evaluates the discovery document; configuration, environment
// and observations are added with ApplyConfig and Set.
func (m *Metadata) Capabilities() *Capabilities {
	return &Capabilities{md: m, set: map[string]setting{}}
}

// NoDiscovery returns the capabilities of a target whose discovery failed:
// everything decided by discovery is missing, with err as the reason.
func NoDiscovery(err error) *Capabilities {
	c := &Capabilities{set: map[string]setting{}}
	c.set["discovery"] = setting{false, "the issuer's discovery document could not be fetched: " + err.Error()}
	return c
}

// ApplyConfig records what the target configuration provides: clients by
// role, users, the resource server, registration, and the scopes the
// configured clients ask for (issuers often omit custom scopes from
// scopes_supported although they grant them).
func (c *Capabilities) ApplyConfig(cfg *Config) {
	for _, r := range Roles {
		_, ok := cfg.Client(r)
		c.Set("client:"+string(r), ok, "")
	}
	for name, r := range map[string]Role{"introspected": cfg.Assign.Introspected, "revoker": cfg.Assign.Revoker, "code_expiry": cfg.Assign.CodeExpiry} {
		_, ok := cfg.Client(r)
		c.Set("client:"+name, ok, fmt.Sprintf("no %s client is configured, and assign.%s names it", r, name))
	}
	c.Set("user:valid", cfg.Users.Valid != nil, "")
	c.Set("user:invalid", cfg.Users.Invalid != nil, "")
	c.Set("resource_server", cfg.ResourceServer != nil, "")
	c.Set("client_app", cfg.ClientApp != nil && cfg.ClientApp.URL != "", "")
	c.Set("https", strings.HasPrefix(cfg.Issuer, "https://"), "")
	c.Set("workshop", cfg.Workshop, "")
	c.Set("wait:code_expiry", cfg.Waits.CodeExpiry > 0, "")
	c.Set("dynamic_registration", cfg.Registration.Enabled && c.md != nil && c.md.RegistrationEndpoint != "", "")
	for _, r := range Roles {
		if cl, ok := cfg.Client(r); ok {
			for _, s := range cl.Scopes {
				if !c.Has("scope:" + s) {
					c.Set("scope:"+s, true, "")
				}
			}
		}
	}
}

// Set records a capability decided outside discovery (configuration,
// environment, observation), or overrides one. reason explains an absence;
// empty means the table's reason.
func (c *Capabilities) Set(name string, ok bool, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set[name] = setting{ok, reason}
}

// Has reports whether the target has the capability. Unknown names are
// never had.
func (c *Capabilities) Has(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.has(name)
}

func (c *Capabilities) has(name string) bool {
	if s, ok := c.set[name]; ok {
		return s.ok
	}
	n, arg, ok := lookupNeed(name)
	if !ok || n.has == nil || c.md == nil {
		return false
	}
	return n.has(c.md, arg)
}

// WhyMissing explains in one sentence why the target lacks the capability,
// or returns "" when it has it.
func (c *Capabilities) WhyMissing(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.has(name) {
		return ""
	}
	if s, ok := c.set[name]; ok && s.reason != "" {
		return s.reason
	}
	n, arg, ok := lookupNeed(name)
	if !ok {
		return fmt.Sprintf("%q is not a capability the suite knows", name)
	}
	if n.source == SourceDiscovery && c.md == nil {
		if s, ok := c.set["discovery"]; ok && s.reason != "" {
			return s.reason
		}
		return "the issuer's discovery document could not be fetched"
	}
	return n.why(c.md, arg)
}

// Names lists the capabilities the target has among the table's fixed
// names, the family members the document lists, and those set explicitly.
func (c *Capabilities) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for _, n := range needs {
		if !strings.HasSuffix(n.name, ":") && c.has(n.name) {
			seen[n.name] = true
		}
	}
	if m := c.md; m != nil {
		for prefix, values := range map[string][]string{
			"scope:": m.ScopesSupported, "response_type:": m.ResponseTypesSupported, "response_mode:": m.ResponseModes(),
			"auth_method:": m.TokenEndpointAuthMethods(), "grant:": m.GrantTypes(), "signing_alg:": m.IDTokenSigningAlgValuesSupported,
		} {
			for _, v := range values {
				seen[prefix+v] = true
			}
		}
	}
	for name, s := range c.set {
		seen[name] = s.ok
	}
	var out []string
	for n, ok := range seen {
		if ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// NotApplicable checks a scenario's tags. When some @needs: capability is
// missing it returns the reasons, one per missing capability, in tag order.
func (c *Capabilities) NotApplicable(tags []string) (reasons []string) {
	for _, t := range tags {
		name, ok := strings.CutPrefix(t, NeedsTagPrefix)
		if !ok {
			continue
		}
		if why := c.WhyMissing(name); why != "" {
			reasons = append(reasons, name+": "+why)
		}
	}
	return reasons
}

// ExcludeExpression returns a godog tag expression that leaves out the
// scenarios needing a missing capability, given the tags the features use
// ("" when nothing is missing). Combine it with other filters using "&&".
func (c *Capabilities) ExcludeExpression(usedTags []string) string {
	var parts []string
	seen := map[string]bool{}
	for _, t := range usedTags {
		name, ok := strings.CutPrefix(t, NeedsTagPrefix)
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		if !c.Has(name) {
			parts = append(parts, "~"+t)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " && ")
}
