package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// registerLogoutSteps registers the RP-initiated logout steps.
func (s *scenario) registerLogoutSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the provider has kept the user signed in$`, s.providerKeptSession)
	sc.Step(`^the browser opens the logout request (with the ID token|with a forged ID token|without a hint), (the registered|an unregistered) post-logout URI and state "([^"]*)"$`, s.openLogout)
	sc.Step(`^the browser is sent back to the post-logout URI with state "([^"]*)"$`, s.sentBackWithState)
	sc.Step(`^the browser is not sent to the post-logout URI$`, s.notSentToPostLogout)
	sc.Step(`^the browser's cookies are saved$`, s.saveCookies)
	sc.Step(`^the saved cookies are put back into the browser$`, s.restoreCookies)
}

// saveCookies keeps a copy of every cookie the browser holds, as another
// tab or a thief would have it.
func (s *scenario) saveCookies() error {
	sess, err := s.session()
	if err != nil {
		return err
	}
	cookies, err := sess.Cookies()
	if err != nil {
		return err
	}
	if len(cookies) == 0 {
		return s.notApplicable("the browser holds no cookie, so the provider keeps its session by other means")
	}
	s.savedCookies = cookies
	s.rec.Note("saved %d cookies", len(cookies))
	return nil
}

// restoreCookies puts the saved cookies back, over whatever the provider
// has set since.
func (s *scenario) restoreCookies() error {
	if s.savedCookies == nil {
		return errors.New("no cookies were saved (a step like \"the browser's cookies are saved\" is missing)")
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	return sess.SetCookies(s.savedCookies)
}

// logoutSettle is how long a browser is watched for a redirect that must
// not happen. Redirects by HTTP status happen before the page loads; this
// leaves time for a script or meta refresh as well.
const logoutSettle = 3 * time.Second

// providerKeptSession observes, rather than assumes, that the provider
// keeps a single-sign-on session after the login: a second authorization
// in the same browser must come back without the login page. Scenarios
// that need a session (prompt=none, id_token_hint, ending a session) are
// not applicable to a provider that keeps none; OIDC Core does not
// require one. The observation uses no prompt=none, so a provider that
// mishandles prompt=none still fails the scenarios about it.
func (s *scenario) providerKeptSession() error {
	if s.first == nil {
		return errors.New("no earlier authorization to have a session from (a step like \"Given the user has authorized the client\" is missing)")
	}
	if err := s.newAuthorizationRequest("openid"); err != nil {
		return err
	}
	if err := s.userContinues(); err != nil {
		return err
	}
	switch {
	case s.flow != nil && s.flow.LoginShown:
		return s.notApplicable("the provider keeps no session the suite can see: a second authorization in the same browser showed the login page again (pages: %s)", strings.Join(s.flow.Trace, " → "))
	case s.callback == nil || s.callback.Get("code") == "":
		return s.notApplicable("the provider keeps no session the suite can see: a second authorization in the same browser returned no code (%s)", redactCallback(s.callback))
	}
	// The second code is exchanged, so that the latest tokens are those of
	// the session as it is now (a logout hint, an id_token_hint).
	if err := s.exchangeCode(); err != nil {
		return err
	}
	if s.resp.status != 200 {
		return fmt.Errorf("the code of the second authorization was not exchanged: %s", s.resp)
	}
	return nil
}

// openLogout sends the browser to the end_session_endpoint (RP-Initiated
// Logout 1.0 §2).
func (s *scenario) openLogout(hint, which, state string) error {
	endpoint := s.run.meta.EndSessionEndpoint
	if endpoint == "" {
		return s.notApplicable("the issuer advertises no end_session_endpoint")
	}
	registered := s.client.PostLogoutRedirectURI
	if registered == "" {
		return s.notApplicable("the target configuration names no post_logout_redirect_uri for the %s client", s.role)
	}
	q := url.Values{"client_id": {s.client.ID}, "state": {state}}
	s.logoutURI = registered
	if which == "an unregistered" {
		s.logoutURI = strings.TrimRight(registered, "/") + "-unregistered"
	}
	q.Set("post_logout_redirect_uri", s.logoutURI)
	if hint != "without a hint" {
		if s.tokens == nil || s.tokens.id == "" {
			return errors.New("no ID token was issued to use as id_token_hint")
		}
		idToken := s.tokens.id
		if hint == "with a forged ID token" {
			// RP-Initiated Logout 1.0 §2: the OP validates that it issued
			// the hint; one whose signature no longer verifies proves nothing.
			forged, ok := alterSignature(idToken)
			if !ok {
				return s.notApplicable("the ID token is not a JWS, so it has no signature to alter")
			}
			idToken = forged
		}
		q.Set("id_token_hint", idToken)
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	return sess.Navigate(endpoint + "?" + q.Encode())
}

// sentBackWithState: RP-Initiated Logout 1.0 §2 has the OP pass state back
// when it redirects. The OP may instead ask the user to confirm (it SHOULD
// ask whether to log out of the OP) or end on its own page; that is not a
// failure, and the scenario is then not applicable.
func (s *scenario) sentBackWithState(state string) error {
	got, err := s.waitForURL(s.logoutURI, s.run.cfg.Timeouts.Browser)
	if err != nil {
		if s.onErrorPage() {
			return fmt.Errorf("the provider answered the logout request with an error page at %s", got)
		}
		return s.notApplicable("the provider did not redirect after the logout (it stays at %s, asking for confirmation or ending there), which RP-Initiated Logout allows", got)
	}
	u, err := url.Parse(got)
	if err != nil {
		return err
	}
	if u.Query().Get("state") != state {
		return fmt.Errorf("the post-logout redirect %s does not carry state %q", report.RedactURL(got), state)
	}
	return nil
}

// notSentToPostLogout: RP-Initiated Logout 1.0 §3: the OP MUST NOT redirect
// to an unregistered post_logout_redirect_uri, nor, without an
// id_token_hint, unless it confirms the target by other means. The suite
// never confirms anything, so reaching the URI means no one was asked.
func (s *scenario) notSentToPostLogout() error {
	got, err := s.waitForURL(s.logoutURI, logoutSettle)
	if err == nil {
		return fmt.Errorf("the provider redirected the browser to %s", report.RedactURL(got))
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	s.rec.Note("after %s the browser is at %s", logoutSettle, got)
	return nil
}

// waitForURL waits up to d for the browser to reach a URL starting with
// prefix; it returns the last URL seen either way.
func (s *scenario) waitForURL(prefix string, d time.Duration) (string, error) {
	sess, err := s.session()
	if err != nil {
		return "", err
	}
	prev := sess.ActionTimeout()
	sess.SetActionTimeout(d)
	defer sess.SetActionTimeout(prev)
	return sess.WaitForURLPrefix(prefix)
}
