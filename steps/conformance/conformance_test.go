package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/conformance"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// startReference starts the reference trio in-process, described as a
// target, and stops it with the test.
func startReference(t *testing.T) *reference.Instance {
	t.Helper()
	ref, err := reference.Start(t.Context(), reference.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close(context.Background()) })
	return ref
}

// Run runs the selected scenarios as subtests: the discovery scenarios
// pass against the reference, and the claims-parameter and request-object
// scenarios are skipped as not applicable (the reference advertises
// neither). Records reach the report only from a subtest that ran, so
// the counts are the subtests'.
func TestRun(t *testing.T) {
	ref := startReference(t)
	dir := t.TempDir()
	var rep *report.Report
	t.Run("Conformance", func(t *testing.T) {
		rep = conformance.Run(t, conformance.Config{
			Target:    ref.Config,
			Tags:      "@needs:discovery, @needs:claims_parameter, @needs:request_object",
			ReportDir: dir,
		})
	})
	if rep == nil {
		t.Fatal("Run returned no report")
	}
	c := rep.Counts()
	t.Logf("%+v", c)
	if c.Passed == 0 || c.NotApplicable == 0 {
		t.Errorf("want passed and not-applicable scenarios, got %+v", c)
	}
	if c.Failed != 0 || c.NotRun != 0 || c.Total != c.Passed+c.NotApplicable+c.Warnings {
		t.Errorf("unexpected verdicts against the reference: %+v", c)
	}
	for _, name := range []string{"report.html", "junit.xml", "cucumber.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

// goTestEvent is a line of go test -json (go doc test2json).
type goTestEvent struct {
	Action string
	Test   string
	Output string
}

// go test -run 'TestConformance/<fragment>' selects scenarios by name: a
// user's test (testdata/usertest) run with a pattern naming four
// scenarios runs exactly those four, and their subtests' outcomes are
// the verdicts: a pass, a warning (passes, logged), a MUST failure
// (fails) and a not-applicable scenario (skipped with the reason).
func TestGoTestRunSelectsScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a test package; skipped with -short")
	}
	cmd := exec.Command("go", "test", "-count=1", "-json",
		"-run", "TestConformance/(publishes its keys|documentation|device flow|claims parameter)",
		"./testdata/usertest")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// The MUST failure fails the user's test: exit status 1 is expected.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("go test: %v\n%s", err, stderr.String())
	}
	results := map[string]string{}
	logs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev goTestEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("go test -json: %v: %s", err, sc.Text())
		}
		name, ok := strings.CutPrefix(ev.Test, "TestConformance/")
		if !ok {
			continue
		}
		switch ev.Action {
		case "pass", "fail", "skip":
			results[name] = ev.Action
		case "output":
			logs[name] += ev.Output
		}
	}
	want := map[string]struct{ result, log string }{
		"Our_issuer_publishes_its_keys":                                      {"pass", ""},
		"Our_issuer_links_its_documentation":                                 {"pass", "warning, SHOULD"},
		"Our_issuer_offers_the_device_flow":                                  {"fail", "MUST"},
		"An_essential_claim_asked_for_with_the_claims_parameter_is_returned": {"skip", "not applicable: claims_parameter"},
	}
	for name, w := range want {
		if results[name] != w.result {
			t.Errorf("%s: %q, want %q\n%s", name, results[name], w.result, logs[name])
		}
		if !strings.Contains(logs[name], w.log) {
			t.Errorf("%s: the log lacks %q:\n%s", name, w.log, logs[name])
		}
	}
	for name := range results {
		if _, ok := want[name]; !ok {
			t.Errorf("%s ran, though the -run pattern does not select it", name)
		}
	}
	if t.Failed() {
		t.Logf("go test -json:\n%s\n%s", out, stderr.String())
	}
	t.Run("gotestsum --junitfile", func(t *testing.T) { checkGotestsumJUnit(t, out, want) })
}

// gotestsum is the go test tool that writes JUnit (gotest.tools/gotestsum).
const gotestsum = "gotest.tools/gotestsum@v1.13.0"

// checkGotestsumJUnit has gotestsum turn the events into JUnit and checks
// that each subtest is a test case with its outcome: failed ones carry a
// <failure>, skipped ones a <skipped>. gotestsum comes from the Go module
// proxy; without it the check skips, unless OAUTHTRIO_REQUIRE_PEERS=1.
func checkGotestsumJUnit(t *testing.T, events []byte, want map[string]struct{ result, log string }) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "events.json"), events, 0o600); err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(dir, "junit.xml")
	cmd := exec.Command("go", "run", gotestsum, "--junitfile", junit, "--raw-command", "--", "cat", "events.json")
	cmd.Dir = dir
	out, runErr := cmd.CombinedOutput()
	raw, err := os.ReadFile(junit)
	if err != nil {
		if os.Getenv("OAUTHTRIO_REQUIRE_PEERS") != "1" {
			t.Skipf("gotestsum did not run (is the Go module proxy reachable?): %v\n%s", runErr, out)
		}
		t.Fatalf("gotestsum: %v\n%s", runErr, out)
	}
	var doc struct {
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("junit.xml: %v\n%s", err, raw)
	}
	got := map[string]string{}
	for _, c := range doc.Cases {
		name, ok := strings.CutPrefix(c.Name, "TestConformance/")
		if !ok {
			continue
		}
		switch {
		case c.Failure != nil:
			got[name] = "fail"
		case c.Skipped != nil:
			got[name] = "skip"
		default:
			got[name] = "pass"
		}
	}
	for name, w := range want {
		if got[name] != w.result {
			t.Errorf("JUnit test case %s: %q, want %q", name, got[name], w.result)
		}
	}
	if len(got) != len(want) {
		t.Errorf("JUnit has %d scenario test cases, want %d:\n%s", len(got), len(want), raw)
	}
}
