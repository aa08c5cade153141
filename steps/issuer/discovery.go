package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxDiscoveryBytes bounds a discovery document; real ones are a few KB.
const maxDiscoveryBytes = 1 << 20

// Metadata is an issuer's discovery document: OpenID Connect Discovery 1.0
// §3 and RFC 8414 §2 members, plus the raw JSON for anything else.
type Metadata struct {
	Issuer string `json:"issuer"`

	AuthorizationEndpoint              string `json:"authorization_endpoint"`
	TokenEndpoint                      string `json:"token_endpoint"`
	UserinfoEndpoint                   string `json:"userinfo_endpoint"`
	JWKSURI                            string `json:"jwks_uri"`
	RegistrationEndpoint               string `json:"registration_endpoint"`
	IntrospectionEndpoint              string `json:"introspection_endpoint"`
	RevocationEndpoint                 string `json:"revocation_endpoint"`
	EndSessionEndpoint                 string `json:"end_session_endpoint"`
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint"`
	DeviceAuthorizationEndpoint        string `json:"device_authorization_endpoint"`
	CheckSessionIframe                 string `json:"check_session_iframe"`

	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	ACRValuesSupported                         []string `json:"acr_values_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	IDTokenEncryptionAlgValuesSupported        []string `json:"id_token_encryption_alg_values_supported"`
	IDTokenEncryptionEncValuesSupported        []string `json:"id_token_encryption_enc_values_supported"`
	UserinfoSigningAlgValuesSupported          []string `json:"userinfo_signing_alg_values_supported"`
	RequestObjectSigningAlgValuesSupported     []string `json:"request_object_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	DisplayValuesSupported                     []string `json:"display_values_supported"`
	ClaimTypesSupported                        []string `json:"claim_types_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	ClaimsLocalesSupported                     []string `json:"claims_locales_supported"`
	UILocalesSupported                         []string `json:"ui_locales_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported"`

	// Booleans whose absence means true are pointers, so "absent" and
	// "false" stay distinct (OIDC Discovery §3).
	ClaimsParameterSupported                   bool  `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool  `json:"request_parameter_supported"`
	RequestURIParameterSupported               *bool `json:"request_uri_parameter_supported"`
	RequireRequestURIRegistration              bool  `json:"require_request_uri_registration"`
	AuthorizationResponseIssParameterSupported bool  `json:"authorization_response_iss_parameter_supported"`
	FrontchannelLogoutSupported                bool  `json:"frontchannel_logout_supported"`
	BackchannelLogoutSupported                 bool  `json:"backchannel_logout_supported"`
	RequirePushedAuthorizationRequests         bool  `json:"require_pushed_authorization_requests"`
	TLSClientCertificateBoundAccessTokens      bool  `json:"tls_client_certificate_bound_access_tokens"`

	ServiceDocumentation string `json:"service_documentation"`
	OPPolicyURI          string `json:"op_policy_uri"`
	OPTosURI             string `json:"op_tos_uri"`

	// Raw is the document as served; Members is it decoded, for members
	// this struct does not name.
	Raw     json.RawMessage `json:"-"`
	Members map[string]any  `json:"-"`
	// URL is where the document was fetched, ContentType how it was served.
	URL         string `json:"-"`
	ContentType string `json:"-"`
	// ConfiguredIssuer is the issuer as configured, byte for byte.
	ConfiguredIssuer string `json:"-"`

	// OAuthServer is the RFC 8414 document at the path-inserted well-known
	// URL, nil when the issuer serves none (OAuthServerErr says why).
	OAuthServer    *Metadata `json:"-"`
	OAuthServerURL string    `json:"-"`
	OAuthServerErr error     `json:"-"`

	// overrides are endpoints the target configuration set.
	overrides map[string]string
}

// OpenIDConfigurationURL is where OIDC Discovery §4 puts the document: the
// issuer without its trailing slash, then the well-known suffix. A naive
// join would give "//.well-known", which some servers refuse.
func OpenIDConfigurationURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// OAuthServerMetadataURL is the RFC 8414 §3.1 location: the well-known
// segment inserted between the host and the issuer's path.
func OAuthServerMetadataURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path, nil
}

// Discover fetches the issuer's OpenID configuration and, when it is there,
// its RFC 8414 authorization server metadata. A missing RFC 8414 document is
// not an error: many OpenID providers serve only the OIDC one.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	md, err := fetchMetadata(ctx, hc, OpenIDConfigurationURL(issuer))
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	md.ConfiguredIssuer = issuer

	if u, err := OAuthServerMetadataURL(issuer); err == nil {
		md.OAuthServerURL = u
		if as, err := fetchMetadata(ctx, hc, u); err != nil {
			md.OAuthServerErr = err
		} else {
			as.ConfiguredIssuer = issuer
			md.OAuthServer = as
		}
	}
	return md, nil
}

func fetchMetadata(ctx context.Context, hc *http.Client, u string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d, want 200", u, resp.StatusCode)
	}
	if len(body) > maxDiscoveryBytes {
		return nil, fmt.Errorf("GET %s: document larger than %d bytes", u, maxDiscoveryBytes)
	}
	// The content type is kept, not enforced: a scenario asserts it, while
	// the rest of the suite can still use a document served as text/plain.
	var md Metadata
	md.ContentType = resp.Header.Get("Content-Type")
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("GET %s: not a JSON metadata object: %w", u, err)
	}
	if err := json.Unmarshal(body, &md.Members); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	md.Raw = append(json.RawMessage(nil), body...)
	md.URL = u
	return &md, nil
}

// IssuerMatches reports whether the document's issuer is the configured one
// exactly (OIDC Discovery §4.3; RFC 8414 §3.3). A trailing slash counts.
func (m *Metadata) IssuerMatches() bool {
	return m.Issuer != "" && m.Issuer == m.ConfiguredIssuer
}

// ApplyOverrides replaces or adds endpoints from the target configuration,
// keyed by member name. Capabilities then see them as advertised.
func (m *Metadata) ApplyOverrides(endpoints map[string]string) error {
	var errs []error
	for name, v := range endpoints {
		p := m.endpointField(name)
		if p == nil {
			errs = append(errs, fmt.Errorf("endpoints.%s: unknown endpoint member", name))
			continue
		}
		*p = v
		if m.overrides == nil {
			m.overrides = map[string]string{}
		}
		m.overrides[name] = v
	}
	return errors.Join(errs...)
}

// Overridden reports whether the configuration set the endpoint member.
func (m *Metadata) Overridden(name string) bool {
	_, ok := m.overrides[name]
	return ok
}

// Endpoint returns an endpoint by its member name.
func (m *Metadata) Endpoint(name string) string {
	if p := m.endpointField(name); p != nil {
		return *p
	}
	if s, ok := m.Members[name].(string); ok {
		return s
	}
	return ""
}

func (m *Metadata) endpointField(name string) *string {
	switch name {
	case "authorization_endpoint":
		return &m.AuthorizationEndpoint
	case "token_endpoint":
		return &m.TokenEndpoint
	case "userinfo_endpoint":
		return &m.UserinfoEndpoint
	case "jwks_uri":
		return &m.JWKSURI
	case "registration_endpoint":
		return &m.RegistrationEndpoint
	case "introspection_endpoint":
		return &m.IntrospectionEndpoint
	case "revocation_endpoint":
		return &m.RevocationEndpoint
	case "end_session_endpoint":
		return &m.EndSessionEndpoint
	case "pushed_authorization_request_endpoint":
		return &m.PushedAuthorizationRequestEndpoint
	case "device_authorization_endpoint":
		return &m.DeviceAuthorizationEndpoint
	}
	return nil
}

// Has reports whether the document contains the member at all, whatever
// its value: "absent" and "empty" differ for several members.
func (m *Metadata) Has(member string) bool {
	_, ok := m.Members[member]
	return ok
}

// GrantTypes returns grant_types_supported, or RFC 8414 §2's default
// (authorization_code and implicit) when the member is absent.
func (m *Metadata) GrantTypes() []string {
	if !m.Has("grant_types_supported") {
		return []string{"authorization_code", "implicit"}
	}
	return m.GrantTypesSupported
}

// TokenEndpointAuthMethods returns token_endpoint_auth_methods_supported, or
// the default client_secret_basic when absent (RFC 8414 §2).
func (m *Metadata) TokenEndpointAuthMethods() []string {
	if !m.Has("token_endpoint_auth_methods_supported") {
		return []string{AuthClientSecretBasic}
	}
	return m.TokenEndpointAuthMethodsSupported
}

// ResponseModes returns response_modes_supported, or the default query and
// fragment when absent (OIDC Discovery §3).
func (m *Metadata) ResponseModes() []string {
	if !m.Has("response_modes_supported") {
		return []string{"query", "fragment"}
	}
	return m.ResponseModesSupported
}
