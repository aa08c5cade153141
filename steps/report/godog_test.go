package report

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/fstest"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hooksFeature = `Feature: Token endpoint

  @MUST @RFC6749-5.1
  Scenario: Tokens come back
    Given a client
    When it asks for a token
    Then it gets one

  @MUST
  Scenario: Codes are single-use
    Given a client
    When it reuses a code
    Then it is refused

  @should
  Scenario: Responses are not cached
    Given a client
    Then the response is not cacheable

  @needs:jwt_access_tokens
  Scenario: Access tokens are JWTs
    Given a client
    Then the access token is a JWT
    And it names the client
`

// Attach records a real godog run: keywords, statuses, reasons.
func TestAttachRecordsGodogRun(t *testing.T) {
	r := New("hooks", "")
	features := fstest.MapFS{"token.feature": {Data: []byte(hooksFeature)}}
	r.FeatureFS = features
	suite := godog.TestSuite{
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			r.Attach(sc)
			sc.Given(`^a client$`, func(ctx context.Context) error {
				if FromContext(ctx) == nil {
					return errors.New("no scenario in the context")
				}
				return nil
			})
			sc.When(`^it asks for a token$`, func() error { return nil })
			sc.Then(`^it gets one$`, func() error { return nil })
			sc.When(`^it reuses a code$`, func() error { return nil })
			sc.Then(`^it is refused$`, func() error { return errors.New("the reused code was accepted") })
			sc.Then(`^the response is not cacheable$`, func() error { return errors.New("no Cache-Control") })
			sc.Then(`^the access token is a JWT$`, func(ctx context.Context) error {
				return NotApplicable(ctx, "the access token is opaque")
			})
			sc.Then(`^it names the client$`, func() error { return nil })
		},
		Options: &godog.Options{
			Format:   "progress",
			Output:   io.Discard,
			NoColors: true,
			FS:       features,
			Paths:    []string{"token.feature"},
		},
	}
	suite.Run()

	byName := map[string]ScenarioRecord{}
	for _, s := range r.Scenarios() {
		byName[s.Name] = s
	}
	require.Len(t, byName, 4)

	ok := byName["Tokens come back"]
	assert.Equal(t, StatusPassed, ok.Status)
	assert.Equal(t, "token.feature", ok.FeatureURI)
	assert.Equal(t, "Token endpoint", ok.Feature)
	require.Len(t, ok.Steps, 3)
	assert.Equal(t, []string{"Given", "When", "Then"}, []string{ok.Steps[0].Keyword, ok.Steps[1].Keyword, ok.Steps[2].Keyword})

	bad := byName["Codes are single-use"]
	assert.Equal(t, StatusFailed, bad.Status)
	assert.Contains(t, bad.Error, "the reused code was accepted")
	assert.Equal(t, StepFailed, bad.Steps[2].Status)

	assert.Equal(t, StatusWarning, byName["Responses are not cached"].Status)

	na := byName["Access tokens are JWTs"]
	assert.Equal(t, StatusNotApplicable, na.Status)
	assert.Equal(t, "the access token is opaque", na.Reason)
	assert.True(t, r.Failed())
}
