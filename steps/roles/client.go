package roles

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"gopkg.in/yaml.v3"

	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/internal/selfsigned"
	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/report"
	"github.com/oauthtrio/oauthtrio/steps/testop"
)

// ClientProfile says how a client application starts a login and shows
// its outcome (fixtures/client-profiles/README.md).
type ClientProfile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Start is a selector on the client's URL whose click starts the
	// login; empty when loading the URL starts it.
	Start    string         `yaml:"start"`
	SignedIn browser.Marker `yaml:"signed_in"`
	Refused  browser.Marker `yaml:"refused"`
}

// LoadClientProfile reads a shipped profile by name or a profile file.
func LoadClientProfile(ref string) (*ClientProfile, error) {
	var data []byte
	var err error
	if issuer.ProfileIsFile(ref) {
		data, err = os.ReadFile(ref)
	} else {
		data, err = fs.ReadFile(fixtures.ClientProfiles, "client-profiles/"+ref+".yaml")
		if errors.Is(err, fs.ErrNotExist) {
			names, _ := fs.Glob(fixtures.ClientProfiles, "client-profiles/*.yaml")
			for i, n := range names {
				names[i] = strings.TrimSuffix(strings.TrimPrefix(n, "client-profiles/"), ".yaml")
			}
			return nil, fmt.Errorf("client.profile: no client profile named %q (have: %s; or give a profile file's path)", ref, strings.Join(names, ", "))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("client.profile: %w", err)
	}
	var p ClientProfile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("client.profile %s: %w", ref, err)
	}
	if p.SignedIn == (browser.Marker{}) {
		return nil, fmt.Errorf("client.profile %s: signed_in is required: how the client shows a signed-in user", ref)
	}
	return &p, nil
}

// BrowserOptions are those of a browser that trusts the test OP's
// certificate and the client's (tls.ca_file, or any with tls.insecure).
func BrowserOptions(cfg *issuer.Config, op *testop.OP, chromium string) (browser.Options, error) {
	bo := browser.Options{
		ExecPath:         chromium,
		ActionTimeout:    cfg.Timeouts.Browser,
		TrustSPKI:        []string{selfsigned.SPKIHash(op.Certificate())},
		IgnoreCertErrors: cfg.TLS.Insecure,
	}
	if cfg.TLS.CAFile != "" {
		certs, _, err := selfsigned.ReadFile(cfg.TLS.CAFile)
		if err != nil {
			return bo, fmt.Errorf("tls.ca_file: %w", err)
		}
		for _, c := range certs {
			bo.TrustSPKI = append(bo.TrustSPKI, selfsigned.SPKIHash(c))
		}
	}
	return bo, nil
}

// RunClient checks the client cfg.RelyingParty describes, whose issuer is
// op, by driving its login in Chromium.
func RunClient(ctx context.Context, cfg *issuer.Config, op *testop.OP, opts Options) (*steps.Result, error) {
	rp := cfg.RelyingParty
	if rp == nil || rp.Registration == nil || rp.URL == "" {
		return nil, errors.New("no client to check: give a client section with its registration, and --client URL or client.url")
	}
	profile, err := LoadClientProfile(rp.Profile)
	if err != nil {
		return nil, err
	}
	b := opts.Browser
	if b == nil {
		bo, err := BrowserOptions(cfg, op, opts.ChromiumPath)
		if err != nil {
			return nil, err
		}
		if opts.ReportDir != "" {
			bo.ArtifactsDir = filepath.Join(opts.ReportDir, "artifacts")
		}
		if b, err = browser.Start(ctx, bo); err != nil {
			return nil, fmt.Errorf("the browser could not start: %w", err)
		}
		defer b.Close()
	}

	s := suite{
		title:   "oauthtrio client report",
		target:  rp.URL + " (issuer: the test OP at " + op.Issuer() + ")",
		dir:     "client",
		secrets: []string{rp.Registration.Secret},
		caps:    capabilities(clientNeeds(rp)),
		init: func(sc *godog.ScenarioContext, rep *report.Report) {
			rep.Attach(sc)
			c := &clientScenario{cfg: rp, op: op, browser: b, profile: profile}
			sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
				c.ctx = ctx
				op.SetBend(testop.Bend{})
				return ctx, nil
			})
			sc.After(func(ctx context.Context, _ *godog.Scenario, _ error) (context.Context, error) {
				op.SetBend(testop.Bend{})
				return ctx, nil
			})
			c.register(sc)
		},
	}
	return s.run(ctx, opts)
}

// clientNeeds decides the @needs: tags of the client features.
func clientNeeds(rp *issuer.RelyingParty) map[string]capability {
	return map[string]capability{
		"rp_iss_parameter": {rp.SupportsIssParameter, "client.supports_iss_parameter is false: the client does not claim to check the authorization response's iss (RFC 9207)"},
	}
}

// clientScenario is one scenario's state.
type clientScenario struct {
	cfg     *issuer.RelyingParty
	op      *testop.OP
	browser *browser.Browser
	profile *ClientProfile
	ctx     context.Context

	// Of the latest login.
	login *loginOutcome
	// correct is the login of the premise, with a correct test OP.
	correct *loginOutcome
}

// loginOutcome is what one login at the client came to.
type loginOutcome struct {
	signedIn bool
	how      string // what the page showed
	page     string // its HTML
	urls     []string
	requests []testop.AuthorizationRequest // the test OP saw during it
}

// The other user the test OP's UserInfo answers about when bent.
const (
	otherName = "Mallory Another-User"
	otherSub  = "oauthtrio-another-user"
)

// idTokenBends are the ID tokens the features name, for a client id.
func idTokenBends(clientID string) map[string]testop.TokenBend {
	return map[string]testop.TokenBend{
		"a signature by a key its JWKS does not list": {Key: testop.KeyForeign},
		"alg none":                     {AlgNone: true},
		"a kid its JWKS does not list": {Key: testop.KeyUnknownKID},
		"another issuer":               {Set: map[string]any{"iss": "https://issuer.invalid"}},
		"another audience":             {Set: map[string]any{"aud": "another-client"}, Drop: []string{"azp"}},
		"an exp an hour ago":           {Exp: testop.In(-time.Hour), Iat: testop.In(-2 * time.Hour)},
		"another nonce":                {Set: map[string]any{"nonce": "oauthtrio-another-nonce"}},
		"no nonce":                     {Drop: []string{"nonce"}},
		"no iat":                       {Drop: []string{"iat"}},
		"no sub":                       {Drop: []string{"sub"}},
		"a second audience and no azp": {Set: map[string]any{"aud": []string{clientID, "another-client"}}, Drop: []string{"azp"}},
		"an iat a day from now":        {Iat: testop.In(24 * time.Hour)},
		"a wrong at_hash":              {Set: map[string]any{"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}},
	}
}

// authorizationResponseBends are the authorization responses the features
// name.
var authorizationResponseBends = map[string]testop.Bend{
	"another iss":   {AuthzIss: "https://issuer.invalid"},
	"no iss":        {OmitAuthzIss: true},
	"another state": {AuthzState: "oauthtrio-another-state"},
}

func (c *clientScenario) register(sc *godog.ScenarioContext) {
	sc.Step(`^the client signs the user in with a correct test OP$`, func() error {
		if err := c.signIn(testop.Bend{}); err != nil {
			return err
		}
		if !c.login.signedIn {
			return fmt.Errorf("the premise fails, so a refusal would prove nothing: with a correct test OP the client did not sign the user in (%s)", c.login.how)
		}
		c.correct = c.login
		return nil
	})
	sc.Step(`^the user signs in at the client while the test OP sends an ID token with (.+)$`, func(what string) error {
		b, ok := idTokenBends(c.cfg.Registration.ID)[what]
		if !ok {
			return fmt.Errorf("no ID token bend named %q", what)
		}
		return c.signIn(testop.Bend{IDToken: b})
	})
	sc.Step(`^the user signs in at the client while the test OP sends an authorization response with (.+)$`, func(what string) error {
		b, ok := authorizationResponseBends[what]
		if !ok {
			return fmt.Errorf("no authorization response bend named %q", what)
		}
		return c.signIn(b)
	})
	sc.Step(`^the user signs in at the client while the test OP answers UserInfo about another user$`, func() error {
		return c.signIn(testop.Bend{UserinfoSub: otherSub, UserinfoClaims: map[string]any{"name": otherName}})
	})
	sc.Step(`^the user signs in at the client$`, func() error { return c.signIn(testop.Bend{}) })
	sc.Step(`^the test OP rotates its signing key$`, func() error {
		_, err := c.op.RotateKey()
		return err
	})
	sc.Step(`^the client does not sign the user in$`, func() error {
		if c.login.signedIn {
			return fmt.Errorf("the client signed the user in (%s)", c.login.how)
		}
		return nil
	})
	sc.Step(`^the client signs the user in$`, func() error {
		if !c.login.signedIn {
			return fmt.Errorf("the client did not sign the user in (%s)", c.login.how)
		}
		return nil
	})
	sc.Step(`^the client shows the user's UserInfo claims$`, func() error {
		if !strings.Contains(c.correct.page, testop.DefaultUserName) {
			return report.NotApplicable(c.ctx, fmt.Sprintf("the signed-in page does not show the user's name %q, which only UserInfo answers: the client shows nothing of UserInfo", testop.DefaultUserName))
		}
		return nil
	})
	sc.Step(`^the page shows nothing of the other user's UserInfo$`, func() error {
		if strings.Contains(c.login.page, otherName) {
			return fmt.Errorf("the page shows %q, from a UserInfo response whose sub %q is not the ID token's", otherName, otherSub)
		}
		return nil
	})
	sc.Step(`^the authorization request carried a PKCE challenge redeemed with its verifier, or a nonce$`, func() error {
		req, err := c.correct.request()
		if err != nil {
			return err
		}
		if req.Nonce == "" && (req.Exchange == nil || !req.Exchange.PKCEVerified) {
			return errors.New("the authorization request had neither a code_challenge (redeemed with its code_verifier) nor a nonce: nothing binds the code to this browser's session")
		}
		return nil
	})
	sc.Step(`^the authorization request carried a PKCE challenge of method S256, redeemed with its verifier$`, func() error {
		req, err := c.correct.request()
		if err != nil {
			return err
		}
		switch {
		case req.CodeChallenge == "":
			return errors.New("the authorization request had no code_challenge")
		case req.CodeChallengeMethod != "S256":
			return fmt.Errorf("code_challenge_method %q, not S256", req.CodeChallengeMethod)
		case req.Exchange == nil || !req.Exchange.PKCEVerified:
			return errors.New("the code exchange did not send the matching code_verifier")
		}
		return nil
	})
	sc.Step(`^the authorization request carried a state$`, func() error {
		req, err := c.correct.request()
		if err != nil {
			return err
		}
		if req.State == "" {
			return errors.New("the authorization request had no state")
		}
		return nil
	})
	sc.Step(`^the authorization request and the code exchange named the registered redirect URI$`, func() error {
		req, err := c.correct.request()
		if err != nil {
			return err
		}
		want := c.cfg.Registration.RedirectURI
		switch {
		case req.RedirectURI != want:
			return fmt.Errorf("the authorization request's redirect_uri is %q, not the registered %q", req.RedirectURI, want)
		case req.Exchange == nil:
			return errors.New("the client never redeemed the code")
		case req.Exchange.RedirectURI != want:
			return fmt.Errorf("the code exchange's redirect_uri is %q, not the registered %q", req.Exchange.RedirectURI, want)
		}
		return nil
	})
	sc.Step(`^no URL the browser requested carried a token the test OP issued$`, func() error {
		req, err := c.correct.request()
		if err != nil {
			return err
		}
		if req.Exchange == nil || len(req.Exchange.Tokens) == 0 {
			return errors.New("the client never redeemed the code")
		}
		for _, u := range c.correct.urls {
			for _, tok := range req.Exchange.Tokens {
				if strings.Contains(u, tok) {
					return fmt.Errorf("the browser requested a URL carrying a token: %s", report.RedactURL(u))
				}
			}
		}
		return nil
	})
}

// request is the authorization request of the login, the last the test OP
// saw during it.
func (l *loginOutcome) request() (testop.AuthorizationRequest, error) {
	if len(l.requests) == 0 {
		return testop.AuthorizationRequest{}, errors.New("the client sent no authorization request to the test OP")
	}
	return l.requests[len(l.requests)-1], nil
}

// signIn starts a login at the client in a fresh browser context, with
// the test OP bent as b, and records its outcome.
func (c *clientScenario) signIn(b testop.Bend) error {
	c.op.SetBend(b)
	defer c.op.SetBend(testop.Bend{})
	sess, closeSession, err := c.browser.NewSession(c.ctx)
	if err != nil {
		return err
	}
	defer closeSession()
	urls, stopRecording, err := sess.RecordRequests()
	if err != nil {
		return err
	}
	defer stopRecording()
	before := len(c.op.AuthorizationRequests())
	if err := sess.Navigate(c.cfg.URL); err != nil {
		return fmt.Errorf("client.url: %w", err)
	}
	if c.profile.Start != "" {
		if err := sess.Click(c.profile.Start); err != nil {
			return fmt.Errorf("client profile %s, start: %w", c.profile.Name, err)
		}
	}
	markers := []browser.Marker{c.profile.SignedIn}
	if c.profile.Refused != (browser.Marker{}) {
		markers = append(markers, c.profile.Refused)
	}
	out := &loginOutcome{}
	i, waitErr := sess.WaitForMarker(markers...)
	switch {
	case i == 0:
		out.signedIn, out.how = true, "the page shows "+c.profile.SignedIn.String()
	case i == 1:
		out.how = "the page shows " + c.profile.Refused.String()
	default:
		out.how = fmt.Sprintf("the page never showed the signed-in marker: %v", waitErr)
	}
	if rec := report.FromContext(c.ctx); rec != nil {
		if cur, err := sess.CurrentURL(); err == nil {
			rec.Note("login at the client ended on %s: %s", report.RedactURL(cur), out.how)
		}
	}
	out.page, _ = sess.HTML()
	out.urls = urls()
	out.requests = slices.Clone(c.op.AuthorizationRequests()[before:])
	c.login = out
	return nil
}
