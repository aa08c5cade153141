package report

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"
)

const consumerFeature = `@needs:discovery
Feature: Tokens
  A feature for the report consumers.

  @MUST
  Scenario: Code is exchanged for tokens
    Given the web client
    When the code is exchanged
    Then the response status is 200

  @MUST
  Scenario: A code cannot be used twice
    Given the web client
    When the code is exchanged twice
    Then the response status is 400

  @should
  Scenario: Token response is not cached
    When the code is exchanged
    Then the response has "Cache-Control: no-store"

  @needs:signing_alg:none
  Scenario: Unsigned ID tokens
    Given the web client
    Then the ID token is unsigned

  Scenario Outline: Grant <grant> is refused
    When the client asks for <grant>

    Examples:
      | grant    |
      | password |
`

// consumerReport has one scenario of each status, recorded as the suite
// records them, from a real feature file.
func consumerReport(t *testing.T) *Report {
	t.Helper()
	r := New("oauthtrio conformance", "https://idp.example.org")
	r.FeatureFS = fstest.MapFS{"features/tokens.feature": {Data: []byte(consumerFeature)}}
	r.ExpectedFailure = func(name string, _ []string) (string, bool) {
		return "the issuer answers invalid_request", name == "Grant password is refused"
	}
	r.AddNotApplicable("Unsigned ID tokens", "Tokens", []string{"@needs:discovery", "@needs:signing_alg:none"}, "signing_alg:none is not listed").SetFeatureURI("features/tokens.feature")
	run := func(name string, tags []string, steps []string, failAt int, shot bool) {
		s := r.Start(name, "Tokens", tags)
		s.SetFeatureURI("features/tokens.feature")
		var err error
		for i, text := range steps {
			switch {
			case failAt >= 0 && i == failAt:
				err = errors.New("want 400, got 200")
				s.Step("Then", text, StepFailed, err, time.Millisecond)
			case failAt >= 0 && i > failAt:
				s.Step("Then", text, StepSkipped, nil, 0)
			default:
				s.Step("Given", text, StepPassed, nil, time.Millisecond)
			}
		}
		if shot {
			s.AddScreenshot("the browser when the scenario failed", tinyPNG)
		}
		s.Finish(err)
	}
	run("Code is exchanged for tokens", []string{"@needs:discovery", "@MUST"}, []string{"the web client", "the code is exchanged", "the response status is 200"}, -1, false)
	run("A code cannot be used twice", []string{"@needs:discovery", "@MUST"}, []string{"the web client", "the code is exchanged twice", "the response status is 400"}, 1, true)
	run("Token response is not cached", []string{"@needs:discovery", "@should"}, []string{"the code is exchanged", `the response has "Cache-Control: no-store"`}, 1, false)
	run("Grant password is refused", []string{"@needs:discovery"}, []string{"the client asks for password"}, 0, false)
	return r
}

// The cucumber JSON carries the real URI and line of every feature,
// scenario, step and tag, and embeds the failure screenshot in the
// failing step.
func TestCucumberJSONLines(t *testing.T) {
	r := consumerReport(t)
	path := filepath.Join(t.TempDir(), "cucumber.json")
	if err := r.WriteCucumberJSON(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var features []cukeFeature
	if err := json.Unmarshal(data, &features); err != nil {
		t.Fatal(err)
	}
	if len(features) != 1 {
		t.Fatalf("%d features, want 1", len(features))
	}
	f := features[0]
	if f.URI != "features/tokens.feature" || f.Line != 2 || len(f.Tags) != 1 || f.Tags[0].Line != 1 {
		t.Errorf("feature uri %q line %d tags %+v; want features/tokens.feature, 2, @needs:discovery on 1", f.URI, f.Line, f.Tags)
	}
	wantLines := map[string]struct{ scenario, firstStep, tag int }{
		"Code is exchanged for tokens": {6, 7, 5},
		"A code cannot be used twice":  {12, 13, 11},
		"Token response is not cached": {18, 19, 17},
		"Unsigned ID tokens":           {23, 24, 22},
		"Grant password is refused":    {32, 28, 0}, // an outline: the examples row
	}
	shots := 0
	for _, el := range f.Elements {
		want, ok := wantLines[el.Name]
		if !ok {
			t.Errorf("unexpected scenario %q", el.Name)
			continue
		}
		if el.Line != want.scenario || len(el.Steps) == 0 || el.Steps[0].Line != want.firstStep {
			t.Errorf("%s: line %d, first step %+v; want %d and %d", el.Name, el.Line, el.Steps, want.scenario, want.firstStep)
		}
		for _, tag := range el.Tags {
			if tag.Line == 0 {
				t.Errorf("%s: tag %s has no line", el.Name, tag.Name)
			}
		}
		for _, st := range el.Steps {
			if st.Line == 0 || st.Keyword == "" {
				t.Errorf("%s: step %q has no line or keyword", el.Name, st.Name)
			}
			for _, e := range st.Embeddings {
				shots++
				if st.Result.Status != "failed" || e.MimeType != "image/png" {
					t.Errorf("%s: screenshot on a %s step, type %s", el.Name, st.Result.Status, e.MimeType)
				}
			}
		}
		if el.Name == "Unsigned ID tokens" {
			for _, st := range el.Steps {
				if st.Result.Status != "skipped" {
					t.Errorf("a not-applicable scenario's step is %s, want skipped", st.Result.Status)
				}
			}
		}
	}
	if shots != 1 {
		t.Errorf("%d screenshots embedded, want 1", shots)
	}
}

// Real consumers read the reports and count what the report counts: an
// npm cucumber HTML reporter renders cucumber.json, and a JUnit tool
// parses junit.xml. Run where node and npm are; OAUTHTRIO_REQUIRE_PEERS=1
// makes their absence a failure (CI).
func TestReportConsumers(t *testing.T) {
	if testing.Short() {
		t.Skip("installs npm packages; skipped with -short")
	}
	dir, err := filepath.Abs("../../testdata/report-consumers")
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("OAUTHTRIO_REQUIRE_PEERS") == "1" {
				t.Fatalf("%s is not installed and OAUTHTRIO_REQUIRE_PEERS=1 (apt-get install -y nodejs npm)", tool)
			}
			t.Skipf("%s is not installed: the report consumers cannot run (set OAUTHTRIO_REQUIRE_PEERS=1 to fail instead)", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}

	r := consumerReport(t)
	reports, out := t.TempDir(), t.TempDir()
	if err := r.WriteAll(reports); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "check.js", reports, out)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node check.js: %v\n%s", err, b)
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Cucumber struct{ Failed, Passed, Skipped, Screenshots int }
		JUnit    struct{ Tests, Failures, Skipped int }
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	c := r.Counts()
	// Cucumber knows passed, failed and skipped: a warning and an expected
	// failure have a failed step, so it counts them failed.
	if want := c.Failed + c.Warnings + c.ExpectedFailures; got.Cucumber.Failed != want {
		t.Errorf("cucumber reporter: %d failed, want %d", got.Cucumber.Failed, want)
	}
	if got.Cucumber.Passed != c.Passed || got.Cucumber.Skipped != c.NotApplicable {
		t.Errorf("cucumber reporter: %d passed, %d skipped; want %d and %d", got.Cucumber.Passed, got.Cucumber.Skipped, c.Passed, c.NotApplicable)
	}
	if got.Cucumber.Screenshots < 1 {
		t.Error("cucumber reporter: the failure screenshot is not in its page")
	}
	// JUnit: warnings pass, not-applicable and expected failures are skipped.
	if got.JUnit.Tests != c.Total || got.JUnit.Failures != c.Failed || got.JUnit.Skipped != c.NotApplicable+c.ExpectedFailures {
		t.Errorf("junit tool: %+v; want %d tests, %d failures, %d skipped", got.JUnit, c.Total, c.Failed, c.NotApplicable+c.ExpectedFailures)
	}
}
