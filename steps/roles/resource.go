package roles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/report"
	"github.com/oauthtrio/oauthtrio/steps/testop"
)

// RunResource checks the resource server cfg.Resource describes, whose
// issuer is op.
func RunResource(ctx context.Context, cfg *issuer.Config, op *testop.OP, opts Options) (*steps.Result, error) {
	r := cfg.Resource
	if r == nil || r.URL == "" {
		return nil, errors.New("no protected resource to check: give --resource URL or resource.url")
	}
	hc, err := cfg.HTTPClient()
	if err != nil {
		return nil, err
	}
	hc.Transport = &report.Transport{Base: hc.Transport}
	var secrets []string
	if r.Introspector != nil {
		secrets = append(secrets, r.Introspector.Secret)
	}
	s := suite{
		title:   "oauthtrio resource server report",
		target:  r.URL + " (issuer: the test OP at " + op.Issuer() + ")",
		dir:     "resource-server",
		secrets: secrets,
		caps:    capabilities(resourceNeeds(r)),
		init: func(sc *godog.ScenarioContext, rep *report.Report) {
			rep.Attach(sc)
			rs := &resourceScenario{cfg: r, op: op, http: hc, timeout: cfg.Timeouts.HTTP}
			sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
				rs.ctx = ctx
				return ctx, nil
			})
			rs.register(sc)
		},
	}
	return s.run(ctx, opts)
}

// resourceNeeds decides the @needs: tags of the resource-server features.
func resourceNeeds(r *issuer.Resource) map[string]capability {
	return map[string]capability{
		"rs_requires_at_jwt": {r.RequiresATJWT, "resource.requires_at_jwt is false: the resource server may take JWTs of other types"},
		"rs_introspects":     {r.Introspects, "resource.introspects is false: the resource server does not ask the issuer whether a token is still active"},
	}
}

// resourceScenario is one scenario's state.
type resourceScenario struct {
	cfg     *issuer.Resource
	op      *testop.OP
	http    *http.Client
	timeout time.Duration
	ctx     context.Context

	token string
	resp  *http.Response
	body  string
}

// accessTokenBends are the tokens the features name, each bent one way.
// The resource server's own checks are what refuses them: the test OP's
// introspection vouches for every token it minted unless revoked.
var accessTokenBends = map[string]testop.Bend{
	"a signature by a key its JWKS does not list": {AccessToken: testop.TokenBend{Key: testop.KeyForeign}},
	"a kid its JWKS does not list":                {AccessToken: testop.TokenBend{Key: testop.KeyUnknownKID}},
	"alg none":                                    {AccessToken: testop.TokenBend{AlgNone: true}},
	"typ JWT":                                     {AccessToken: testop.TokenBend{Typ: "JWT"}},
	"no typ":                                      {AccessToken: testop.TokenBend{Typ: "-"}},
	"another issuer":                              {AccessToken: testop.TokenBend{Set: map[string]any{"iss": "https://issuer.invalid"}}},
	"another audience":                            {AccessToken: testop.TokenBend{Set: map[string]any{"aud": "https://another-resource.invalid"}}},
	"no audience":                                 {AccessToken: testop.TokenBend{Drop: []string{"aud"}}},
	// An hour is beyond any clock-skew allowance a server may make.
	"an exp an hour ago":                  {AccessToken: testop.TokenBend{Exp: testop.In(-time.Hour), Iat: testop.In(-2 * time.Hour)}},
	"an nbf an hour from now":             {AccessToken: testop.TokenBend{Nbf: testop.In(time.Hour)}},
	"introspection saying it is inactive": {Revoked: true},
}

func (s *resourceScenario) register(sc *godog.ScenarioContext) {
	sc.Step(`^the test OP mints a correct access token$`, func() error { return s.mint(s.cfg.Scope, testop.Bend{}) })
	sc.Step(`^the test OP mints an access token with (.+)$`, func(what string) error {
		b, ok := accessTokenBends[what]
		if !ok {
			return fmt.Errorf("no token bend named %q", what)
		}
		return s.mint(s.cfg.Scope, b)
	})
	sc.Step(`^the test OP mints an access token without the required scope$`, func() error {
		if s.cfg.Scope == "" {
			return report.NotApplicable(s.ctx, "resource.scope is not set: the suite does not know which scope the resource requires")
		}
		return s.mint("oauthtrio-other-scope", testop.Bend{})
	})
	sc.Step(`^the suite calls the protected resource with it$`, s.call)
	sc.Step(`^the resource server accepts a correct access token from the test OP$`, func() error {
		if err := s.mint(s.cfg.Scope, testop.Bend{}); err != nil {
			return err
		}
		if err := s.call(); err != nil {
			return err
		}
		if err := s.accepted(); err != nil {
			return fmt.Errorf("the premise fails, so a refusal would prove nothing: %w", err)
		}
		return nil
	})
	sc.Step(`^the resource server accepts the token$`, s.accepted)
	sc.Step(`^the resource server refuses the token$`, func() error {
		if s.resp.StatusCode/100 == 2 {
			return fmt.Errorf("the resource server accepted the token: %s %s", s.resp.Status, short(s.body))
		}
		return nil
	})
	sc.Step(`^the refusal carries a Bearer challenge$`, func() error {
		// RFC 6750 §3: a request whose token does not grant access gets a
		// WWW-Authenticate challenge with the Bearer scheme.
		for _, v := range s.resp.Header.Values("WWW-Authenticate") {
			if scheme, _, _ := strings.Cut(strings.TrimSpace(v), " "); strings.EqualFold(scheme, "Bearer") {
				return nil
			}
		}
		return fmt.Errorf("status %d without a WWW-Authenticate Bearer challenge (got %q)", s.resp.StatusCode, s.resp.Header.Values("WWW-Authenticate"))
	})
	sc.Step(`^the response is (\d+) with the Bearer error "([^"]+)"$`, func(status int, code string) error {
		got := bearerError(s.resp.Header.Values("WWW-Authenticate"))
		if s.resp.StatusCode != status || got != code {
			return fmt.Errorf("status %d and error %q, want %d and %q", s.resp.StatusCode, got, status, code)
		}
		return nil
	})
}

func (s *resourceScenario) mint(scope string, b testop.Bend) error {
	tok, err := s.op.AccessToken(testop.AccessTokenSpec{
		ClientID: s.cfg.ClientID,
		Audience: []string{s.cfg.Audience},
		Scope:    scope,
	}, b)
	s.token = tok
	return err
}

func (s *resourceScenario) call() error {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling the protected resource (resource.url): %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	s.resp, s.body = resp, string(body)
	return nil
}

func (s *resourceScenario) accepted() error {
	if s.resp.StatusCode/100 != 2 {
		return fmt.Errorf("a correct token was refused: %s, WWW-Authenticate %q, %s", s.resp.Status, s.resp.Header.Values("WWW-Authenticate"), short(s.body))
	}
	return nil
}

// bearerError is the error attribute of the Bearer challenge (RFC 6750 §3).
func bearerError(challenges []string) string {
	for _, v := range challenges {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		for p := range strings.SplitSeq(params, ",") {
			name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(name, "error") {
				return strings.Trim(value, `"`)
			}
		}
	}
	return ""
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
