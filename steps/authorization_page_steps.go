package steps

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"
)

// registerAuthorizationPageSteps registers the steps on the authorization page
// fetched without a browser.
func (s *scenario) registerAuthorizationPageSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the suite fetches the authorization request's page without a browser$`, s.fetchAuthorizationPage)
	sc.Step(`^the page forbids framing with X-Frame-Options or a CSP frame-ancestors directive$`, s.pageForbidsFraming)
}

// fetchAuthorizationPage follows the authorization request's redirects on
// the issuer's own origin, with a cookie store, to the page a user would see.
func (s *scenario) fetchAuthorizationPage() error {
	_, _, _, err := s.followAuthorizationRequest()
	return err
}

// followAuthorizationRequest sends the authorization request without a
// browser, in a cookie store of its own, and follows it on the issuer's
// origin to a page; it returns the store, the page and its URL.
func (s *scenario) followAuthorizationRequest() (*formVisit, *response, *url.URL, error) {
	authURL, err := s.authorizationURL()
	if err != nil {
		return nil, nil, nil, err
	}
	if s.auth.post {
		return nil, nil, nil, errors.New("a POST request cannot be fetched this way")
	}
	origin, err := url.Parse(authURL)
	if err != nil {
		return nil, nil, nil, err
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	v := &formVisit{origin: origin}
	r, at, err := s.follow(v, req, true)
	if err != nil {
		return nil, nil, nil, err
	}
	if r.status >= 300 && r.status < 400 {
		return nil, nil, nil, s.notApplicable("the authorization request left the issuer's origin (%s) without showing a page", at.Host)
	}
	return v, r, at, nil
}

// pageForbidsFraming: RFC 9700 §4.16, authorization pages must not be
// framed by other origins.
func (s *scenario) pageForbidsFraming() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return s.notApplicable("the authorization endpoint answered %d, not a page", r.status)
	}
	xfo := strings.ToUpper(r.header.Get("X-Frame-Options"))
	if xfo == "DENY" || xfo == "SAMEORIGIN" {
		return nil
	}
	for _, csp := range r.header.Values("Content-Security-Policy") {
		for _, directive := range strings.Split(csp, ";") {
			if f := strings.Fields(directive); len(f) > 0 && strings.EqualFold(f[0], "frame-ancestors") && !slices.Contains(f[1:], "*") {
				return nil
			}
		}
	}
	return fmt.Errorf("the page has neither X-Frame-Options DENY/SAMEORIGIN nor a CSP frame-ancestors directive (X-Frame-Options %q, CSP %q)", r.header.Get("X-Frame-Options"), r.header.Values("Content-Security-Policy"))
}
