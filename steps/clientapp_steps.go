package steps

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
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
	if s.appRequests == nil {
		list, stop, err := sess.RecordRequests()
		if err != nil {
			return err
		}
		s.appRequests, s.stopAppRequests = list, stop
	}
	return sess.Navigate(app.URL)
}

// calledBack reports whether the browser has brought an authorization
// response to redirectURI since the client page was opened. The
// application may answer it with a redirect to its page at once, too fast
// for the URL to be seen there; the request is seen all the same.
func (s *scenario) calledBack(redirectURI string) bool {
	if s.appRequests == nil {
		return false
	}
	for _, raw := range s.appRequests() {
		if strings.HasPrefix(raw, redirectURI) && isAuthorizationResponse(raw) {
			return true
		}
	}
	return false
}

// isAuthorizationResponse reports whether raw carries the parameters of an
// authorization response (RFC 6749 §4.1.2, §4.1.2.1), in its query or, for
// a fragment response mode, in its fragment.
func isAuthorizationResponse(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	params := u.Query()
	if frag, err := url.ParseQuery(u.Fragment); err == nil {
		maps.Copy(params, frag)
	}
	return params.Has("code") || params.Has("error")
}

// errorGrace is how long a page may show the application's error marker
// before a wait for other text gives up: long enough for a page that
// updates itself, far shorter than the browser timeout.
const errorGrace = 2 * time.Second

// waitForText waits until selector's text contains want.
func (s *scenario) waitForText(selector, want string) error {
	return s.waitForPage(selector, fmt.Sprintf("say %q", want), func(text string) bool { return strings.Contains(text, want) })
}

// waitForPage polls the page until selector's text satisfies done, for up
// to the browser timeout. Once the page shows the application's error
// marker, it waits only errorGrace more.
func (s *scenario) waitForPage(selector, what string, done func(text string) bool) error {
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
	last, page := "", ""
	for {
		// Exists does not wait, so an element the page lacks costs one
		// poll, not the browser timeout.
		if sess.Exists(selector) {
			if text, err := sess.Text(selector); err == nil {
				last = text
				if done(text) {
					return nil
				}
			}
		}
		if body, err := sess.Text("body"); err == nil {
			page = body
			if errorSince.IsZero() && strings.Contains(body, marker) {
				errorSince = time.Now()
			}
		}
		if !errorSince.IsZero() && time.Since(errorSince) >= errorGrace {
			return fmt.Errorf("%s does not %s: the page shows an error (%q)", selector, what, truncateText(linesWith(page, marker), 300))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not %s within %s (it says %q)", selector, what, s.run.cfg.Timeouts.Browser, truncateText(last, 200))
		}
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// linesWith returns the lines of text that contain marker.
func linesWith(text, marker string) string {
	var found []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, marker) {
			found = append(found, strings.TrimSpace(line))
		}
	}
	return strings.Join(found, " | ")
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
	if err := s.signInStarted(app); err != nil {
		return err
	}
	// The flow ends at the application's redirect URI, which then shows
	// its page.
	arrived := func(at string) bool {
		return strings.HasPrefix(at, app.RedirectURI) || s.calledBack(app.RedirectURI)
	}
	if _, err := s.browser.Login(p, arrived, u.Username, u.Password); err != nil {
		return err
	}
	if _, err := s.browser.Consent(p, arrived, true); err != nil {
		return err
	}
	_, err = s.browser.WaitForURLPrefix(app.URL)
	return err
}

// signInStarted waits until the browser has left the client page for the
// provider, or has already come back with an authorization response. An
// application that cannot start the sign-in (its discovery or its
// configuration refused) shows its error marker instead, and the wait
// then ends errorGrace later with that error.
func (s *scenario) signInStarted(app *issuer.ClientApp) error {
	if strings.HasPrefix(s.run.cfg.Issuer, app.URL) {
		// The provider's own pages would pass for the application's.
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	return s.waitForPage("body", "give way to the provider's pages (the sign-in did not start)", func(string) bool {
		at, err := sess.CurrentURL()
		return err == nil && !strings.HasPrefix(at, app.URL) || s.calledBack(app.RedirectURI)
	})
}

func (s *scenario) pageElementSays(selector, text string) error {
	return s.waitForText(selector, text)
}

func (s *scenario) pageElementNotEmpty(selector string) error {
	return s.waitForPage(selector, "show any text", func(text string) bool { return strings.TrimSpace(text) != "" })
}
