package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/chromedp/cdproto/network"
	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// scenario is one scenario's state. godog builds a fresh one per scenario
// on the scenario's goroutine, so concurrent scenarios share nothing but
// the run.
type scenario struct {
	run *run
	ctx context.Context
	rec *report.Scenario

	role   issuer.Role
	client *issuer.Client

	// The authorization request being built or sent.
	auth *authRequest
	// The authorization response caught at the redirect URI.
	callback url.Values
	// What the browser went through.
	flow *browser.AuthorizeResult

	browser       *browser.Session
	closeBrowser  context.CancelFunc
	resp          *response
	tokens        *tokenSet // the latest tokens
	first         *tokenSet // the tokens of the first exchange
	previous      *tokenSet // the tokens before the latest refresh
	registered    *issuer.Client
	lastAuthState string
	tls           *tlsOutcome
	logoutURI     string            // the post_logout_redirect_uri of the logout request
	savedCookies  []*network.Cookie // the browser's cookies, as copied before a logout
	csrf          *formCSRF
	// appRequests lists the browser's requests since the client page was
	// opened; stopAppRequests ends the recording.
	appRequests     func() []string
	stopAppRequests func()
	shotTried       bool // a failing step's screenshot is in the report, or could not be taken
	// lastRequestedScope is the scope of the last token request that
	// named one.
	lastRequestedScope string
}

// authRequest is an authorization request under construction.
type authRequest struct {
	params   url.Values
	verifier string
	post     bool
	// expectAt, when set, is where the response must arrive instead of
	// the redirect_uri parameter.
	expectAt string
}

func (r *run) initializeScenario(sc *godog.ScenarioContext) {
	r.subtests.attachStart(sc)
	r.rep.Attach(sc)
	s := &scenario{run: r}
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		s.ctx = ctx
		s.rec = report.FromContext(ctx)
		return ctx, nil
	})
	// The browser is captured as the failing step leaves it: later steps
	// (and the scenario's end) may have moved it on.
	sc.StepContext().After(func(ctx context.Context, st *godog.Step, _ godog.StepResultStatus, err error) (context.Context, error) {
		if err != nil && !errors.Is(err, godog.ErrSkip) && s.browser != nil && s.rec != nil && !s.shotTried {
			s.shotTried = true
			if png, shotErr := s.browser.Screenshot(); shotErr == nil {
				s.rec.AddScreenshot("the browser after the failing step: "+st.Text, png)
			} else {
				s.rec.Note("no screenshot after the failing step: %v", shotErr)
			}
		}
		return ctx, nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if err != nil && s.browser != nil && s.rec != nil {
			if !s.shotTried {
				if png, shotErr := s.browser.Screenshot(); shotErr == nil {
					s.rec.AddScreenshot("the browser when the scenario failed", png)
				}
			}
			if s.run.artifacts != "" {
				if shot, html, saveErr := s.browser.SaveArtifacts(s.rec.Record().Name); saveErr == nil {
					s.rec.Note("artifacts: %s, %s", shot, html)
				}
			}
		}
		if s.stopAppRequests != nil {
			s.stopAppRequests()
		}
		if s.closeBrowser != nil {
			s.closeBrowser()
		}
		return ctx, nil
	})
	s.registerClientSteps(sc)
	s.registerDiscoverySteps(sc)
	s.registerAuthorizeSteps(sc)
	s.registerRequestObjectSteps(sc)
	s.registerAuthorizationPageSteps(sc)
	s.registerTokenSteps(sc)
	s.registerJWTSteps(sc)
	s.registerResourceSteps(sc)
	s.registerClientAppSteps(sc)
	s.registerRegistrationSteps(sc)
	s.registerWaitSteps(sc)
	s.registerTLSSteps(sc)
	s.registerLogoutSteps(sc)
	s.registerFormCSRFSteps(sc)
	s.registerAssertSteps(sc)
	r.subtests.attachVerdict(sc)
}

// notApplicable ends a scenario whose premise the target does not meet.
func (s *scenario) notApplicable(format string, args ...any) error {
	return report.NotApplicable(s.ctx, fmt.Sprintf(format, args...))
}
