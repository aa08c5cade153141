package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// clientAppControls maps what the user clicks on the reference client page
// to the element; the step checks the element says it.
var clientAppControls = map[string]string{
	"Authorize using AuthServer": "#authorize",
}

func (s *scenario) clientApp() (*issuer.ClientApp, error) {
	app := s.run.cfg.ClientApp
	if app == nil || app.URL == "" {
		return nil, s.notApplicable("the target configuration has no client_app.url")
	}
	return app, nil
}

func (s *scenario) openClientApp() error {
	app, err := s.clientApp()
	if err != nil {
		return err
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	return sess.Navigate(app.URL)
}

// waitForText polls the page until selector's text contains want.
func (s *scenario) waitForText(selector, want string) error {
	sess, err := s.session()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(s.run.cfg.Timeouts.Browser)
	last := ""
	for {
		if text, err := sess.Text(selector); err == nil {
			last = text
			if strings.Contains(text, want) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not say %q within %s (it says %q)", selector, want, s.run.cfg.Timeouts.Browser, truncateText(last, 200))
		}
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func truncateText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (s *scenario) pageSays(text string) error { return s.waitForText("body", text) }

func (s *scenario) userClicks(text string) error {
	selector, ok := clientAppControls[text]
	if !ok {
		return fmt.Errorf("no control %q is known on the client page", text)
	}
	if err := s.waitForText(selector, text); err != nil {
		return err
	}
	return s.browser.Click(selector)
}

// userLogsInInBrowser answers the login and consent pages the browser is
// on, until the client page is back.
func (s *scenario) userLogsInInBrowser() error {
	u, err := s.validUser()
	if err != nil {
		return err
	}
	app, err := s.clientApp()
	if err != nil {
		return err
	}
	p := s.run.profile
	if p == nil {
		return errors.New("signing in through the client application needs a named login profile (profile: in the target configuration or --profile)")
	}
	// The flow ends at the application's redirect URI, which then shows
	// its page.
	if _, err := s.browser.Login(p, app.RedirectURI, u.Username, u.Password); err != nil {
		return err
	}
	if _, err := s.browser.Consent(p, app.RedirectURI, true); err != nil {
		return err
	}
	_, err = s.browser.WaitForURLPrefix(app.URL)
	return err
}

func (s *scenario) pageElementSays(selector, text string) error {
	return s.waitForText(selector, text)
}

func (s *scenario) pageElementNotEmpty(selector string) error {
	if err := s.browser.WaitFor(selector); err != nil {
		return err
	}
	text, err := s.browser.Text(selector)
	if err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%s is empty", selector)
	}
	return nil
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
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, endpoint, io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body))
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
	return s.register(map[string]any{
		"client_name":    "oauthtrio conformance suite",
		"redirect_uris":  []string{redirectURI},
		"grant_types":    []string{"authorization_code"},
		"response_types": []string{"code"},
	})
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
	return s.register(md)
}

func (s *scenario) registeredClientCredentials() error {
	if s.registered == nil || s.registered.ID == "" {
		return fmt.Errorf("no client was registered: %s", s.resp)
	}
	s.client = s.registered
	_, err := s.tokenRequest(s.clientCredentialsForm(""), s.registered)
	return err
}
