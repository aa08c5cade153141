package steps

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// registerClientAppSteps registers the steps that drive the reference client
// application in the browser.
func (s *scenario) registerClientAppSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the browser opens the client application$`, s.openClientApp)
	sc.Step(`^the page says "([^"]*)"$`, s.pageSays)
	sc.Step(`^the user clicks "([^"]*)"$`, s.userClicks)
	sc.Step(`^the user logs in and approves in the browser$`, s.userLogsInInBrowser)
	sc.Step(`^the page element "([^"]*)" says "([^"]*)"$`, s.pageElementSays)
	sc.Step(`^the page element "([^"]*)" is not empty$`, s.pageElementNotEmpty)
}

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

// errorGrace is how long a page may show the application's error marker
// before a wait for other text gives up: long enough for a page that
// updates itself, far shorter than the browser timeout.
const errorGrace = 2 * time.Second

// waitForText polls the page until selector's text contains want. Once the
// page shows the application's error marker without want, it waits only
// errorGrace more.
func (s *scenario) waitForText(selector, want string) error {
	sess, err := s.session()
	if err != nil {
		return err
	}
	marker := "[Error]"
	if app := s.run.cfg.ClientApp; app != nil {
		marker = app.ErrorMarker()
	}
	deadline := time.Now().Add(s.run.cfg.Timeouts.Browser)
	var errorSince time.Time
	last := ""
	for {
		if text, err := sess.Text(selector); err == nil {
			last = text
			if strings.Contains(text, want) {
				return nil
			}
			if errorSince.IsZero() && strings.Contains(text, marker) {
				errorSince = time.Now()
			}
		}
		if !errorSince.IsZero() && time.Since(errorSince) >= errorGrace {
			return fmt.Errorf("%s does not say %q: the page shows an error (%q)", selector, want, truncateText(last, 300))
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
