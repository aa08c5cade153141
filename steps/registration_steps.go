package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// registerRegistrationSteps registers the dynamic client registration steps
// (RFC 7591).
func (s *scenario) registerRegistrationSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the suite registers a client with redirect URI "([^"]*)"$`, s.registerClient)
	sc.Step(`^the suite registers a client for the client credentials grant$`, s.registerServiceClient)
	sc.Step(`^the registered client requests a token with the client credentials grant$`, s.registeredClientCredentials)
	sc.Step(`^the suite registers a copy of the client with token_endpoint_auth_method "([^"]*)"$`, s.registerCopyWithAuthMethod)
	sc.Step(`^the suite registers a copy of the client with "([^"]*)" set to "([^"]*)"$`, s.registerCopy)
	sc.Step(`^the suite registers a copy of the client with a second redirect URI$`, s.registerCopyWithSecondRedirect)
	sc.Step(`^the suite registers a client with redirect URI "([^"]*)" and the metadata "([^"]*)" set to "([^"]*)"$`, s.registerClientWithMember)
}

// register posts RFC 7591 §3.1 client metadata.
func (s *scenario) register(metadata map[string]any) error {
	endpoint := s.run.meta.RegistrationEndpoint
	if endpoint == "" {
		return errors.New("the discovery document has no registration_endpoint")
	}
	body, err := json.Marshal(metadata)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if t := s.run.cfg.Registration.InitialAccessToken; t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	r, err := s.do(req)
	if err != nil {
		return err
	}
	if r.status == http.StatusCreated && r.json != nil {
		c := &issuer.Client{AuthMethod: issuer.AuthClientSecretBasic}
		c.ID, _ = r.json["client_id"].(string)
		c.Secret, _ = r.json["client_secret"].(string)
		if m, _ := r.json["token_endpoint_auth_method"].(string); m != "" {
			c.AuthMethod = m
		}
		s.run.rep.AddSecrets(c.Secret)
		s.registered = c
	}
	return nil
}

func (s *scenario) registerClient(redirectURI string) error {
	return s.register(codeClientMetadata(redirectURI))
}

func codeClientMetadata(redirectURI string) map[string]any {
	return map[string]any{
		"client_name":    "oauthtrio conformance suite",
		"redirect_uris":  []string{redirectURI},
		"grant_types":    []string{"authorization_code"},
		"response_types": []string{"code"},
	}
}

// registerClientWithMember adds a metadata member to the registration
// (RFC 7591 §2: one the server does not understand is ignored).
func (s *scenario) registerClientWithMember(redirectURI, member, value string) error {
	md := codeClientMetadata(redirectURI)
	md[member] = value
	return s.register(md)
}

func (s *scenario) registerServiceClient() error {
	md := map[string]any{
		"client_name":                "oauthtrio conformance suite (service)",
		"grant_types":                []string{"client_credentials"},
		"response_types":             []string{},
		"token_endpoint_auth_method": issuer.AuthClientSecretBasic,
	}
	if svc, ok := s.run.cfg.Client(issuer.RoleService); ok && len(svc.Scopes) > 0 {
		md["scope"] = svc.Scopes.String()
	}
	if err := s.register(md); err != nil {
		return err
	}
	// RFC 7591 §2, §3.2.2: a server may refuse metadata its policy does not
	// allow, e.g. anonymous clients of the client credentials grant.
	if s.resp.status == http.StatusBadRequest && s.resp.json["error"] == "invalid_client_metadata" {
		return s.notApplicable("the issuer's registration policy refuses a client of the client credentials grant (%v), which RFC 7591 §2 allows", s.resp.json["error_description"])
	}
	return nil
}

func (s *scenario) registeredClientCredentials() error {
	if s.registered == nil || s.registered.ID == "" {
		return fmt.Errorf("no client was registered: %s", s.resp)
	}
	s.client = s.registered
	_, err := s.tokenRequest(s.clientCredentialsForm(""), s.registered)
	return err
}

// registerCopyWithAuthMethod registers a client like the current one but
// authenticating with method, and makes it the scenario's client.
func (s *scenario) registerCopyWithAuthMethod(method string) error {
	return s.registerCopy("token_endpoint_auth_method", method)
}

// registerCopy registers a client like the current one with one metadata
// member set (RFC 7591 §2), and makes it the scenario's client.
func (s *scenario) registerCopy(member, value string) error {
	return s.registerCopyWith(func(md map[string]any) { md[member] = value }, member+" "+value)
}

// registerCopyWithSecondRedirect registers a client like the current one
// with a second redirect URI beside its own, on the same listener (RFC 6749
// §3.1.2.3: the request must then name one).
func (s *scenario) registerCopyWithSecondRedirect() error {
	if err := s.needClient(); err != nil {
		return err
	}
	second := strings.TrimSuffix(s.client.RedirectURI, "/") + "/second"
	return s.registerCopyWith(func(md map[string]any) {
		md["redirect_uris"] = []string{s.client.RedirectURI, second}
	}, "two redirect URIs")
}

// registerCopyWith registers a client like the current one, changed by
// change, and makes it the scenario's client.
func (s *scenario) registerCopyWith(change func(map[string]any), what string) error {
	if err := s.needClient(); err != nil {
		return err
	}
	if s.run.meta.RegistrationEndpoint == "" || !s.run.cfg.Registration.Enabled {
		return s.notApplicable("dynamic registration is not enabled for this target")
	}
	method := s.client.AuthMethod
	if method == "" {
		method = issuer.AuthClientSecretBasic
	}
	md := map[string]any{
		"client_name":                "oauthtrio conformance suite (" + what + ")",
		"redirect_uris":              []string{s.client.RedirectURI},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": method,
	}
	change(md)
	if m, ok := md["token_endpoint_auth_method"].(string); ok {
		method = m
	}
	if len(s.client.Scopes) > 0 {
		md["scope"] = s.client.Scopes.String()
	}
	if err := s.register(md); err != nil {
		return err
	}
	if s.registered == nil {
		return fmt.Errorf("the registration failed: %s", s.resp)
	}
	c := *s.registered
	c.AuthMethod = method
	c.RedirectURI = s.client.RedirectURI
	c.Scopes = s.client.Scopes
	s.client = &c
	return nil
}
