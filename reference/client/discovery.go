package client

import (
	"context"
	"fmt"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discovery is what the client learnt from the issuer's metadata.
type discovery struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth2   *oauth2.Config
	meta     providerMetadata
	// staticKeys serves FaultStaticJWKS only.
	staticKeys staticKeys
}

// providerMetadata holds the discovery members go-oidc does not expose.
type providerMetadata struct {
	// RFC 7662 §4 via RFC 8414 §2.
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	// OpenID Connect RP-Initiated Logout 1.0 §2.1.
	EndSessionEndpoint string `json:"end_session_endpoint"`
	// RFC 9207 §3.
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	// OIDC Discovery §3; absent means client_secret_basic.
	TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
}

// discover returns the issuer's metadata, fetching it on first use. A failure
// is returned but not remembered, so the next request retries.
func (a *App) discover(ctx context.Context) (*discovery, error) {
	a.discoveryMu.Lock()
	defer a.discoveryMu.Unlock()
	if a.discovered != nil {
		return a.discovered, nil
	}
	// go-oidc keeps this client for the JWKS fetches made while verifying.
	provider, err := oidc.NewProvider(a.clientContext(ctx), a.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer %s: %w", a.cfg.Issuer, err)
	}
	var meta providerMetadata
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("issuer %s: metadata: %w", a.cfg.Issuer, err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = authStyle(meta.TokenEndpointAuthMethods)
	a.discovered = &discovery{
		provider: provider,
		verifier: provider.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}),
		oauth2: &oauth2.Config{
			ClientID:     a.cfg.ClientID,
			ClientSecret: a.cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  a.cfg.RedirectURL,
			Scopes:       a.cfg.Scopes,
		},
		meta: meta,
	}
	return a.discovered, nil
}

// authStyle picks client_secret_basic, the default of OIDC Discovery §3 and
// RFC 8414 §2, unless the issuer offers only client_secret_post. Fixing the
// style avoids x/oauth2's guess, which sends a failed request first.
func authStyle(methods []string) oauth2.AuthStyle {
	if len(methods) == 0 || slices.Contains(methods, "client_secret_basic") {
		return oauth2.AuthStyleInHeader
	}
	if slices.Contains(methods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// clientContext makes go-oidc and x/oauth2 use the configured HTTP client.
func (a *App) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, a.cfg.HTTPClient)
}
