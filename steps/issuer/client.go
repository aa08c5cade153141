package issuer

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// HTTPClient returns a client that trusts the issuer as the configuration
// says (system roots plus tls.ca_file, or nothing checked when insecure) and
// gives up after timeouts.http. Wrap its Transport to record exchanges.
func (c *Config) HTTPClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", c.TLS.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	if c.TLS.Insecure {
		tlsCfg.InsecureSkipVerify = true
	}
	tr.TLSClientConfig = tlsCfg
	return &http.Client{
		Transport: tr,
		Timeout:   c.Timeouts.HTTP,
		// Redirects are part of what the suite checks (an error must not be
		// redirected to an unregistered URI), so they are never followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// ClientRegistration is the client metadata sent to a registration endpoint
// (RFC 7591 §2).
type ClientRegistration struct {
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// RegistrationFor returns the metadata that registers a client fit for role.
func RegistrationFor(role Role, redirectURI string, scopes Scopes) ClientRegistration {
	r := ClientRegistration{
		ClientName:              "oauthtrio " + string(role),
		TokenEndpointAuthMethod: AuthClientSecretBasic,
		Scope:                   scopes.String(),
	}
	switch role {
	case RoleWeb, RoleOther:
		r.RedirectURIs = []string{redirectURI}
		r.GrantTypes = []string{"authorization_code", "refresh_token"}
		r.ResponseTypes = []string{"code"}
	case RolePublic:
		r.RedirectURIs = []string{redirectURI}
		r.GrantTypes = []string{"authorization_code", "refresh_token"}
		r.ResponseTypes = []string{"code"}
		r.TokenEndpointAuthMethod = AuthNone
	case RoleService:
		r.GrantTypes = []string{"client_credentials"}
	case RoleIntrospector:
		r.GrantTypes = []string{"client_credentials"}
	}
	return r
}

// Register registers a client at the issuer's registration endpoint (RFC
// 7591 §3), with the initial access token when one is configured.
func Register(ctx context.Context, hc *http.Client, md *Metadata, reg Registration, req ClientRegistration) (*Client, error) {
	if md == nil || md.RegistrationEndpoint == "" {
		return nil, errors.New("registration: the issuer advertises no registration_endpoint")
	}
	if !reg.Enabled {
		return nil, errors.New("registration: registration.enabled is false in the target configuration")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, md.RegistrationEndpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if reg.InitialAccessToken != "" {
		hr.Header.Set("Authorization", "Bearer "+reg.InitialAccessToken)
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("registration: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("registration: status %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
	}
	var out struct {
		ClientID                string   `json:"client_id"`
		ClientSecret            string   `json:"client_secret"`
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
		RedirectURIs            []string `json:"redirect_uris"`
		Scope                   string   `json:"scope"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("registration: response is not JSON: %w", err)
	}
	if out.ClientID == "" {
		return nil, errors.New("registration: response has no client_id")
	}
	cl := &Client{ID: out.ClientID, Secret: out.ClientSecret, AuthMethod: out.TokenEndpointAuthMethod}
	if cl.AuthMethod == "" {
		// RFC 7591 §2: the default is client_secret_basic.
		cl.AuthMethod = req.TokenEndpointAuthMethod
		if cl.AuthMethod == "" {
			cl.AuthMethod = AuthClientSecretBasic
		}
	}
	if len(out.RedirectURIs) > 0 {
		cl.RedirectURI = out.RedirectURIs[0]
	} else if len(req.RedirectURIs) > 0 {
		cl.RedirectURI = req.RedirectURIs[0]
	}
	scope := out.Scope
	if scope == "" {
		scope = req.Scope
	}
	cl.Scopes = strings.Fields(scope)
	return cl, nil
}
