package authserver

import (
	"net/http"
	"slices"
	"strings"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// Metadata is the discovery document (OIDC Discovery §3, RFC 8414 §2). It
// lists exactly what this server implements.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// Metadata returns the discovery document.
func (s *Server) Metadata() Metadata {
	m := Metadata{
		Issuer:                            s.issuer,
		AuthorizationEndpoint:             s.endpoint("authorize"),
		TokenEndpoint:                     s.endpoint("token"),
		UserinfoEndpoint:                  s.endpoint("userinfo"),
		JWKSURI:                           s.endpoint("jwks"),
		IntrospectionEndpoint:             s.endpoint("introspection"),
		RevocationEndpoint:                s.endpoint("revocation"),
		EndSessionEndpoint:                s.endpoint("logout"),
		ScopesSupported:                   scopeNames(),
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		GrantTypesSupported:               slices.Clone(grantTypes),
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{s.keys.Algorithm()},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		// fosite authenticates introspection callers with HTTP Basic only.
		IntrospectionEndpointAuthMethodsSupported:  []string{"client_secret_basic"},
		RevocationEndpointAuthMethodsSupported:     []string{"client_secret_basic", "client_secret_post", "none"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		ClaimsSupported:                            slices.Clone(claimsSupported),
		PromptValuesSupported:                      []string{"none", "login", "consent"},
		AuthorizationResponseIssParameterSupported: true,
	}
	if fault.On("disc-issuer-trailing-slash") {
		m.Issuer += "/"
	}
	if fault.On("disc-jwks-uri-missing") {
		m.JWKSURI = ""
	}
	if fault.On("disc-userinfo-http") {
		m.UserinfoEndpoint = "http" + strings.TrimPrefix(m.UserinfoEndpoint, "https")
	}
	if fault.On("disc-rs256-missing") {
		m.IDTokenSigningAlgValuesSupported = []string{"PS256"}
	}
	if fault.On("disc-openid-scope-missing") {
		m.ScopesSupported = slices.DeleteFunc(m.ScopesSupported, func(s string) bool { return s == "openid" })
	}
	if s.cfg.EnablePKCEPlain {
		m.CodeChallengeMethodsSupported = append(m.CodeChallengeMethodsSupported, "plain")
	}
	if s.cfg.Registration != RegistrationOff {
		m.RegistrationEndpoint = s.endpoint("register")
	}
	return m
}

func (s *Server) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeCacheableJSON(w, s.Metadata())
}

// handleJWKS publishes the public signing keys (RFC 7517), including a
// rotated-out key until the tokens it signed expire.
func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	set := s.keys.PublicJWKS()
	if fault.On("jwks-private-key") {
		set.Keys[0] = *s.keys.Active()
	}
	if fault.On("jwks-duplicate-key") {
		set.Keys = append(set.Keys, set.Keys...)
	}
	writeCacheableJSON(w, set)
}

func writeCacheableJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = jsonEncoder(w).Encode(v)
}
