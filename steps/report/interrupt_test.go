package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An interrupted report counts unfinished scenarios as not run, never as
// failed, ignores what they do afterwards, and says INTERRUPTED in every
// output.
func TestInterruptedReport(t *testing.T) {
	r := New("oauthtrio conformance", "https://idp.example.org")
	done := r.Start("Discovery answers", "Discovery", []string{"@must"})
	done.Step("Given", "the issuer", StepPassed, nil, time.Millisecond)
	done.Finish(nil)
	running := r.Start("Login works", "Login", nil)
	running.Step("Given", "a browser", StepPassed, nil, time.Millisecond)

	r.Interrupt("SIGINT")
	// What the cancelled scenario does next is cancellation, not a result.
	running.Step("When", "the user logs in", StepFailed, errors.New("context canceled"), time.Millisecond)
	running.Finish(errors.New("context canceled"))
	r.Start("Started too late", "Login", nil).Finish(errors.New("context canceled"))

	c := r.Counts()
	if c.Total != 2 || c.Passed != 1 || c.NotRun != 1 || c.Failed != 0 {
		t.Fatalf("counts %+v, want 2 total, 1 passed, 1 not run, 0 failed", c)
	}
	if r.Failed() {
		t.Error("an interrupted scenario failed the run")
	}
	if got := running.Record().Steps; len(got) != 1 {
		t.Errorf("steps after the interrupt were recorded: %+v", got)
	}

	var summary bytes.Buffer
	r.Summary(&summary)
	dir := t.TempDir()
	if err := r.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, text := range map[string]string{
		"console": summary.String(), "report.html": read("report.html"),
		"junit.xml": read("junit.xml"), "cucumber.json": read("cucumber.json"),
	} {
		if !strings.Contains(text, "INTERRUPTED") {
			t.Errorf("%s does not say INTERRUPTED", name)
		}
	}
	if !strings.Contains(summary.String(), "1 not run") {
		t.Errorf("summary lacks the not-run count:\n%s", summary.String())
	}

	var junit junitSuites
	if err := xml.Unmarshal([]byte(read("junit.xml")), &junit); err != nil {
		t.Fatal(err)
	}
	if junit.Failures != 0 || junit.Skipped != 1 {
		t.Errorf("junit: %d failures, %d skipped; want 0 and 1", junit.Failures, junit.Skipped)
	}
	var cuke []map[string]any
	if err := json.Unmarshal([]byte(read("cucumber.json")), &cuke); err != nil {
		t.Fatal(err)
	}
}

// A run interrupted between two scenarios has none to mark as not run; its
// Cucumber JSON still says INTERRUPTED.
func TestInterruptedBetweenScenarios(t *testing.T) {
	r := New("oauthtrio conformance", "https://idp.example.org")
	done := r.Start("Discovery answers", "Discovery", nil)
	done.Step("Given", "the issuer", StepPassed, nil, time.Millisecond)
	done.Finish(nil)
	r.Interrupt("SIGTERM")
	var out bytes.Buffer
	if err := r.cucumber(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "INTERRUPTED (SIGTERM)") {
		t.Errorf("cucumber.json does not say INTERRUPTED:\n%s", out.String())
	}
}

// Authorization codes are redacted everywhere, the notes included (the
// pages a login went through are URLs with the code in them).
func TestNotesRedactCodes(t *testing.T) {
	r := New("t", "https://idp.example.org")
	s := r.Start("Login", "Login", nil)
	s.Note("pages: %s", "https://idp.example.org/login → https://127.0.0.1:9000/callback?code=ory_ac_SECRETCODE1234567890&state=xyz")
	s.Finish(nil)
	notes := s.Record().Notes
	if len(notes) != 1 || strings.Contains(notes[0], "SECRETCODE1234567890") {
		t.Fatalf("the code is in the note: %q", notes)
	}
	if !strings.Contains(notes[0], "state=xyz") || !strings.Contains(notes[0], "https://idp.example.org/login → ") {
		t.Errorf("the note lost what is not secret: %q", notes[0])
	}
}
