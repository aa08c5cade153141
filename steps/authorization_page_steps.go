package steps

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
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
// the issuer's own origin, with a cookie jar, to the page a user would see.
func (s *scenario) fetchAuthorizationPage() error {
	authURL, err := s.authorizationURL()
	if err != nil {
		return err
	}
	if s.auth.post {
		return errors.New("a POST request cannot be fetched this way")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	origin, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	next := authURL
	for range 5 {
		u, err := url.Parse(next)
		if err != nil {
			return err
		}
		if u.Scheme != origin.Scheme || u.Host != origin.Host {
			return s.notApplicable("the authorization request left the issuer's origin (%s) without showing a page", u.Host)
		}
		req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, next, nil)
		if err != nil {
			return err
		}
		for _, c := range jar.Cookies(u) {
			req.AddCookie(c)
		}
		r, err := s.do(req)
		if err != nil {
			return err
		}
		jar.SetCookies(u, (&http.Response{Header: r.header}).Cookies())
		loc := r.header.Get("Location")
		if r.status < 300 || r.status >= 400 || loc == "" {
			return nil
		}
		ref, err := u.Parse(loc)
		if err != nil {
			return err
		}
		next = ref.String()
	}
	return errors.New("more than 5 redirects before a page")
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
