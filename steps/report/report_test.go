package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	clientSecret = "s3cr3t-client-secret-value"
	userPassword = "wonderland-password"
	accessToken  = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"
	refreshToken = "ory_rt_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// tinyPNG is a 1×1 PNG.
var tinyPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

// tokenServer answers like a token endpoint and echoes nothing secret back
// except what a careless server would.
func tokenServer(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=abcdef123456; Path=/; HttpOnly")
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"code already used"}`)
			return
		}
		io.WriteString(w, `{"access_token":"`+accessToken+`","token_type":"Bearer","refresh_token":"`+refreshToken+`","expires_in":3600}`)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// sampleReport builds a report with one scenario of every status.
func sampleReport(t *testing.T) *Report {
	t.Helper()
	r := New("oauthtrio conformance", "https://idp.example.org")
	r.AddSecrets(clientSecret, userPassword)
	r.ExpectedFailure = func(name string, tags []string) (string, bool) {
		switch name {
		case "Unknown grant type is refused":
			return "the issuer answers invalid_request", true
		case "State is echoed":
			return "stale entry", true
		}
		return "", false
	}
	ts := tokenServer(t)

	// Passed, with exchanges through the recording transport.
	s := r.Start("Code is exchanged for tokens", "Authorization code flow", []string{"@MUST", "@RFC6749-4.1.3", "@OIDCC-3.1.3.7", "@needs:authorization_code"})
	hc := &http.Client{Transport: &Transport{}}
	ctx := WithScenario(context.Background(), s)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"SplxlOBeZQQYbYS6WxSbIA"}, "client_secret": {clientSecret}, "code_verifier": {"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("web-client", clientSecret)
	resp, err := hc.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), accessToken, "the caller still gets the whole body")
	s.Step("Given", "the web client", StepPassed, nil, 2*time.Millisecond)
	s.Step("When", "the code is exchanged", StepPassed, nil, 40*time.Millisecond)
	s.Note("token_type was %q", "Bearer")
	s.Finish(nil)

	// Failed MUST, with a screenshot and a failing exchange.
	s = r.Start("A code cannot be used twice", "Authorization code flow", []string{"@MUST", "@RFC6749-4.1.2", "@oidf:oidcc-codereuse"})
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodPost, ts.URL+"/bad?password="+userPassword, strings.NewReader("code=abc"))
	resp, err = (&Transport{}).RoundTrip(req.WithContext(WithScenario(req.Context(), s)))
	require.NoError(t, err)
	resp.Body.Close()
	fail := errors.New("the second exchange answered 200, want 400 invalid_grant; the password was " + userPassword)
	s.Step("When", "the code is exchanged again", StepFailed, fail, time.Millisecond)
	s.Step("Then", "the token endpoint refuses it", StepSkipped, nil, 0)
	s.AddScreenshot("login page after the failure", tinyPNG)
	s.Finish(fail)

	// SHOULD-level failure: a warning.
	s = r.Start("Token response is not cached", "Token endpoint", []string{"@should", "@RFC6749-5.1"})
	s.Step("Then", "the response says Cache-Control: no-store", StepFailed, errors.New("Cache-Control is absent"), 0)
	s.Finish(errors.New("Cache-Control is absent"))

	// Expected failure.
	s = r.Start("Unknown grant type is refused", "Token endpoint", []string{"@MUST", "@RFC6749-5.2"})
	s.Step("Then", "the error is unsupported_grant_type", StepFailed, errors.New("got invalid_request"), 0)
	s.Finish(errors.New("got invalid_request"))

	// Listed as expected but passed.
	s = r.Start("State is echoed", "Authorization code flow", []string{"@MUST"})
	s.Step("Then", "state is echoed", StepPassed, nil, 0)
	s.Finish(nil)

	// Not applicable: before the run, and from a step.
	r.AddNotApplicable("Client credentials grant", "Client credentials", []string{"@needs:client_credentials"},
		"the issuer's discovery document does not list client_credentials in grant_types_supported")
	s = r.Start("Access token is a JWT", "Access tokens", []string{"@RFC9068-2.1"})
	ctx = WithScenario(context.Background(), s)
	err = NotApplicable(ctx, "the issuer's access tokens are opaque")
	require.ErrorIs(t, err, godog.ErrSkip)
	s.Step("Then", "the access token is a JWT", StepSkipped, err, 0)
	s.Finish(err)
	return r
}

func TestStatusesAndFailed(t *testing.T) {
	r := sampleReport(t)
	c := r.Counts()
	assert.Equal(t, Counts{Total: 7, Passed: 2, Failed: 1, Warnings: 1, NotApplicable: 2, ExpectedFailures: 1, UnexpectedPasses: 1}, c)
	assert.True(t, r.Failed())

	byName := map[string]ScenarioRecord{}
	for _, s := range r.Scenarios() {
		byName[s.Name] = s
	}
	assert.Equal(t, StatusWarning, byName["Token response is not cached"].Status)
	assert.Equal(t, "SHOULD", byName["Token response is not cached"].Level())
	assert.Equal(t, StatusExpectedFailure, byName["Unknown grant type is refused"].Status)
	assert.Equal(t, "the issuer answers invalid_request", byName["Unknown grant type is refused"].Reason)
	assert.True(t, byName["State is echoed"].UnexpectedPass)
	assert.Equal(t, StatusNotApplicable, byName["Access token is a JWT"].Status)
	assert.Equal(t, "the issuer's access tokens are opaque", byName["Access token is a JWT"].Reason)
	assert.NotContains(t, byName["A code cannot be used twice"].Error, userPassword)

	// Without the MUST failure the run passes: warnings and expected
	// failures do not fail it.
	r2 := New("t", "")
	r2.ExpectedFailure = func(string, []string) (string, bool) { return "known", true }
	r2.Start("should", "f", []string{"@should"}).Finish(errors.New("x"))
	r2.Start("expected", "f", []string{"@MUST"}).Finish(errors.New("y"))
	assert.False(t, r2.Failed())
	r3 := New("t", "")
	r3.Start("unmarked", "f", nil).Finish(errors.New("z"))
	assert.True(t, r3.Failed(), "an untagged scenario counts as MUST")
	r4 := New("t", "")
	r4.Start("unfinished", "f", nil)
	assert.True(t, r4.Failed(), "an unfinished scenario is a failure")
	r5 := New("t", "")
	s := r5.Start("undefined step", "f", nil)
	s.Step("Given", "something new", StepUndefined, godog.ErrUndefined, 0)
	s.Finish(nil)
	assert.True(t, r5.Failed(), "an undefined step is not a pass")
}

func TestExchangesAreRedacted(t *testing.T) {
	r := sampleReport(t)
	var ex []Exchange
	for _, s := range r.Scenarios() {
		ex = append(ex, s.Exchanges...)
	}
	require.Len(t, ex, 2)
	e := ex[0]
	if strings.Contains(e.URL, "/bad") {
		e = ex[1]
	}
	assert.Equal(t, "Basic web-client:[redacted]", e.RequestHeaders.Get("Authorization"))
	q, err := url.ParseQuery(e.RequestBody)
	require.NoError(t, err)
	assert.Equal(t, "[redacted]", q.Get("client_secret"))
	assert.Equal(t, "[redacted]", q.Get("code_verifier"))
	assert.Equal(t, "SplxlO…(22 chars)", q.Get("code"))
	assert.Equal(t, "authorization_code", q.Get("grant_type"))
	assert.Contains(t, e.ResponseBody, `"access_token": "eyJhbG…(`)
	assert.Contains(t, e.ResponseBody, `"token_type": "Bearer"`)
	assert.NotContains(t, e.ResponseBody, refreshToken)
	assert.Equal(t, "session=[redacted]; Path=/; HttpOnly", e.ResponseHeaders.Get("Set-Cookie"))
	assert.Equal(t, 200, e.Status)
}

func TestRedactionHelpers(t *testing.T) {
	assert.Equal(t, "Bearer eyJhbG…(62 chars)", redactAuthorization("Bearer "+accessToken))
	assert.Equal(t, "Basic [redacted]", redactAuthorization("Basic !!!"))
	assert.Equal(t, "Negotiate [redacted]", redactAuthorization("Negotiate abc"))
	assert.Equal(t, "a=[redacted]; b=[redacted]", redactCookies("a=1; b=2", "; "))
	assert.Equal(t, "https://idp/cb?code=abcdef…(12 chars)&state=xyz", RedactURL("https://idp/cb?code=abcdefghijkl&state=xyz"))
	assert.Equal(t, "https://idp/cb#access_token=…(3 chars)&state=s", RedactURL("https://idp/cb#access_token=abc&state=s"))
	assert.Contains(t, RedactURL("https://user:pw@idp/x"), "user@idp")
	j := redactBody("application/json", []byte(`{"nested":{"client_secret":"x","list":[{"id_token":"aaaaaaaaaaaaaaaa"}]},"n":1}`))
	assert.Contains(t, j, `"client_secret": "[redacted]"`)
	assert.Contains(t, j, `"id_token": "aaaaaa…(16 chars)"`)
	assert.Contains(t, j, `"n": 1`)
	long := strings.Repeat("é", 3000)
	cut := truncate(long, 4096)
	assert.Contains(t, cut, "more bytes]")
	assert.True(t, strings.HasPrefix(cut, strings.Repeat("é", 2048)))
}

func TestSummary(t *testing.T) {
	var b bytes.Buffer
	sampleReport(t).Summary(&b)
	out := b.String()
	for _, w := range []string{
		"7 scenarios: 2 passed, 1 failed, 1 warnings, 2 not applicable, 1 expected failures",
		"Failed (MUST):\n  - Authorization code flow › A code cannot be used twice",
		"Warnings (SHOULD):\n  - Token endpoint › Token response is not cached\n      Cache-Control is absent",
		"expected: the issuer answers invalid_request",
		"Passed although listed as expected failures:",
		"Not applicable (2), by reason:\n  - the issuer's access tokens are opaque (1)\n      Access tokens › Access token is a JWT",
		"Result: FAILED (1 MUST-level failures)",
	} {
		assert.Contains(t, out, w)
	}
	assert.NotContains(t, out, userPassword)
}

func TestJUnit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "junit.xml")
	require.NoError(t, sampleReport(t).WriteJUnit(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	var root junitSuites
	require.NoError(t, xml.Unmarshal(data, &root))
	assert.Equal(t, 7, root.Tests)
	assert.Equal(t, 1, root.Failures)
	assert.Equal(t, 3, root.Skipped, "not applicable (2) and expected failure (1)")
	assert.Equal(t, 0, root.Errors)
	var failures, skipped, cases int
	for _, s := range root.Suites {
		for _, c := range s.Cases {
			cases++
			if c.Failure != nil {
				failures++
				assert.Equal(t, "A code cannot be used twice", c.Name)
				assert.Contains(t, c.Failure.Body, "[failed]")
			}
			if c.Skipped != nil {
				skipped++
			}
		}
	}
	assert.Equal(t, 7, cases)
	assert.Equal(t, 1, failures)
	assert.Equal(t, 3, skipped)
	assert.NotContains(t, string(data), clientSecret)
	assert.NotContains(t, string(data), userPassword)
}

func TestCucumberJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cucumber.json")
	require.NoError(t, sampleReport(t).WriteCucumberJSON(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var features []cukeFeature
	require.NoError(t, json.Unmarshal(data, &features))
	n := 0
	for _, f := range features {
		n += len(f.Elements)
	}
	assert.Equal(t, 7, n, "not-applicable scenarios are listed too")
	assert.Contains(t, string(data), `"description": "status: not applicable — the issuer's discovery document`)
}

func TestHTML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, sampleReport(t).WriteHTML(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	h := string(data)
	for _, w := range []string{
		`class="scenario status-passed"`, `class="scenario status-failed"`, `class="scenario status-warning"`,
		`class="scenario status-not_applicable"`, `class="scenario status-expected_failure"`,
		`href="https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3"`,
		`href="https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation"`,
		`href="https://www.rfc-editor.org/rfc/rfc9068#section-2.1"`,
		`<span class="tag needs">@needs:authorization_code</span>`,
		`Basic web-client:[redacted]`, `client_secret=[redacted]`,
		`src="data:image/png;base64,iVBORw0KGgo`,
		`Not applicable: the issuer&#39;s access tokens are opaque`,
		`Expected failure: the issuer answers invalid_request`,
		`<span class="verdict fail">FAILED</span>`,
	} {
		assert.Contains(t, h, w)
	}
	for _, secret := range []string{clientSecret, userPassword, refreshToken, accessToken, "dBjftJeZ4CVP"} {
		assert.NotContains(t, h, secret)
	}
	assert.NotContains(t, h, "<script src", "self-contained")
	assert.NotContains(t, h, `<link rel="stylesheet"`, "self-contained")
}

func TestSpecURL(t *testing.T) {
	for tag, want := range map[string]string{
		"@RFC6749-4.1.2.1": "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1",
		"@RFC6749-A.12":    "https://www.rfc-editor.org/rfc/rfc6749#appendix-A.12",
		"@RFC8414":         "https://www.rfc-editor.org/rfc/rfc8414",
		"@OIDCC-3.1.2.6":   "https://openid.net/specs/openid-connect-core-1_0.html#AuthError",
		"@OIDCC-3.1.3.6":   "https://openid.net/specs/openid-connect-core-1_0.html#rfc.section.3.1.3.6",
		"@OIDCD-4.3":       "https://openid.net/specs/openid-connect-discovery-1_0.html#rfc.section.4.3",
		"@OAuth2-iss-2":    "https://www.rfc-editor.org/rfc/rfc9207#section-2",
		"@OAuth2-FP-2":     "https://openid.net/specs/oauth-v2-form-post-response-mode-1_0.html#rfc.section.2",
		"RFC7636-4.6":      "https://www.rfc-editor.org/rfc/rfc7636#section-4.6",
	} {
		got, ok := SpecURL(tag)
		assert.True(t, ok, tag)
		assert.Equal(t, want, got, tag)
	}
	for _, tag := range []string{"@MUST", "@should", "@needs:pkce_s256", "@oidf:oidcc-server", "@RFC", "@OIDCC-"} {
		_, ok := SpecURL(tag)
		assert.False(t, ok, tag)
	}
}

func TestConcurrentRecording(t *testing.T) {
	r := New("t", "")
	ts := tokenServer(t)
	hc := &http.Client{Transport: &Transport{}}
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			s := r.Start("s", "f", nil)
			ctx := WithScenario(context.Background(), s)
			for range 5 {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL, nil)
				if resp, err := hc.Do(req); err == nil {
					resp.Body.Close()
				}
				s.Step("When", "x", StepPassed, nil, 0)
			}
			s.Note("n%d", i)
			s.Finish(nil)
		}()
	}
	for range 8 {
		<-done
	}
	for _, s := range r.Scenarios() {
		assert.Len(t, s.Exchanges, 5, "each scenario gets its own exchanges")
	}
	assert.Equal(t, 8, r.Counts().Passed)
}

func TestWriteAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, sampleReport(t).WriteAll(dir))
	for _, f := range []string{"report.html", "junit.xml", "cucumber.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Positive(t, fi.Size())
	}
}

// TestSummaryGroupsAMostlyNotApplicableRun checks that a run where most of
// the suite did not apply says so in one line and lists each reason once.
func TestSummaryGroupsAMostlyNotApplicableRun(t *testing.T) {
	r := New("oauthtrio conformance", "https://idp.example.org")
	for i := range 5 {
		r.AddNotApplicable(fmt.Sprintf("Scenario %d", i), "Feature", nil, "no web client is configured; no valid test user is configured")
	}
	r.AddNotApplicable("Last", "Feature", nil, "no web client is configured")
	var b strings.Builder
	r.Summary(&b)
	out := b.String()
	assert.Contains(t, out, "Most of the suite did not apply: 6 of 6 scenarios are not applicable, for 2 reasons:")
	assert.Contains(t, out, "  - no web client is configured (6)\n      Feature › Scenario 0; Feature › Scenario 1; Feature › Scenario 2; and 3 more")
	assert.Contains(t, out, "  - no valid test user is configured (5)")
	assert.Equal(t, 1, strings.Count(out, "no web client is configured ("), "each reason once")
}
