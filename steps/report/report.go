// Package report collects what each scenario did (steps, HTTP exchanges,
// screenshots) and writes it for people and for CI: a console summary, one
// self-contained HTML file, JUnit XML and cucumber JSON.
//
// The suite writes its own JUnit and cucumber files instead of godog's
// formatters because godog reports a skipped scenario as passed and knows
// nothing of SHOULD-level warnings or expected failures; here every scenario
// has exactly one of five statuses, the same in every output.
package report

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
)

// Status is the outcome of a scenario.
type Status string

// The five outcomes of a scenario.
const (
	StatusPassed Status = "passed"
	// StatusFailed: a MUST-level requirement is not met. Fails the run.
	StatusFailed Status = "failed"
	// StatusWarning: a SHOULD-level scenario (@should) failed.
	StatusWarning Status = "warning"
	// StatusNotApplicable: the target lacks what the scenario needs; Reason says what.
	StatusNotApplicable Status = "not_applicable"
	// StatusExpectedFailure: it failed and the expected-failures file says why.
	StatusExpectedFailure Status = "expected_failure"
	// StatusNotRun: the run was interrupted before the scenario finished.
	// It is neither passed nor failed.
	StatusNotRun Status = "not_run"
)

// Label is the status as a reader says it.
func (s Status) Label() string {
	switch s {
	case StatusNotApplicable:
		return "not applicable"
	case StatusExpectedFailure:
		return "expected failure"
	case StatusNotRun:
		return "not run"
	}
	return string(s)
}

// StepStatus is the outcome of one step, as godog names them.
type StepStatus string

// Step outcomes.
const (
	StepPassed    StepStatus = "passed"
	StepFailed    StepStatus = "failed"
	StepSkipped   StepStatus = "skipped"
	StepUndefined StepStatus = "undefined"
	StepPending   StepStatus = "pending"
	StepAmbiguous StepStatus = "ambiguous"
)

// StepRecord is one executed step.
type StepRecord struct {
	Keyword  string
	Text     string
	Status   StepStatus
	Error    string
	Duration time.Duration
}

// Screenshot is a PNG taken during a scenario.
type Screenshot struct {
	Caption string
	PNG     []byte
}

// ScenarioRecord is everything the report knows about one scenario.
type ScenarioRecord struct {
	Name    string
	Feature string
	// FeatureURI is the feature file.
	FeatureURI string
	Tags       []string
	Steps      []StepRecord
	Status     Status
	// Reason explains a not-applicable scenario, an expected failure or an
	// unexpected pass.
	Reason string
	// Error is the failure, for failed, warning and expected-failure scenarios.
	Error string
	// UnexpectedPass: listed as an expected failure, yet it passed; the
	// entry should go.
	UnexpectedPass bool
	Exchanges      []Exchange
	Screenshots    []Screenshot
	Notes          []string
	Started        time.Time
	Duration       time.Duration
}

// Level is MUST or SHOULD, from the tags; untagged scenarios are MUST, so a
// forgotten tag can only make the suite stricter.
func (s ScenarioRecord) Level() string {
	if isShould(s.Tags) {
		return "SHOULD"
	}
	return "MUST"
}

func isShould(tags []string) bool {
	for _, t := range tags {
		switch strings.ToLower(strings.TrimPrefix(t, "@")) {
		case "should", "may", "recommended", "optional":
			return true
		}
	}
	return false
}

// ExpectedFailureFunc tells whether a scenario is a known failure and why.
// issuer.ExpectedFailures.Lookup fits it with a small adapter.
type ExpectedFailureFunc func(name string, tags []string) (reason string, ok bool)

// Report collects scenarios. It is safe for concurrent scenarios.
type Report struct {
	// Title and Target head the outputs.
	Title  string
	Target string
	// ExpectedFailure, when set, turns matching failures into expected failures.
	ExpectedFailure ExpectedFailureFunc
	// MaxBodyBytes bounds each recorded HTTP body (default 4 KB).
	MaxBodyBytes int
	// OnFinish, when set, is called with each scenario as it finishes.
	OnFinish func(ScenarioRecord)
	// FeatureFS is where feature files are read for their names when the
	// suite runs them from an fs.FS (godog's Options.FS); nil: the OS.
	FeatureFS fs.FS
	// Sections is the requirements catalogue; the HTML report tallies the
	// run's scenarios by the sections they cite, in its order.
	Sections []Section
	// IsSection tells a section tag (RFC6749-4.1.2) from the others; nil
	// means every tag that links to a specification (SpecURL).
	IsSection func(tag string) bool

	started time.Time
	elapsed time.Duration // of a loaded or merged report; zero while it runs

	mu          sync.Mutex
	interrupted string // why the run stopped early; "" for a whole run
	scenarios   []*Scenario
	secrets     []string
	features    map[string]string
}

// New starts a report.
func New(title, target string) *Report {
	return &Report{Title: title, Target: target, started: time.Now(), MaxBodyBytes: 4 << 10}
}

// AddSecrets registers values (client secrets, passwords) that must never
// appear in any output, wherever they turn up. Values shorter than four
// characters are ignored: replacing them would garble unrelated text.
func (r *Report) AddSecrets(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) >= 4 && !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

func (r *Report) scrub(s string) string {
	r.mu.Lock()
	secrets := r.secrets
	r.mu.Unlock()
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// urlInText finds the URLs in free text; it stops at spaces and at the
// arrows and brackets the steps put between them.
var urlInText = regexp.MustCompile(`https?://[^\s<>"'→)]+`)

// Scenario is the handle step code records into. Its methods are safe for
// concurrent use.
type Scenario struct {
	r *Report

	mu         sync.Mutex
	rec        ScenarioRecord
	finished   bool
	skipReason string
	stepStart  time.Time
}

// Start begins recording a scenario. After Interrupt the scenario is
// recorded nowhere: the report is closed.
func (r *Report) Start(name, feature string, tags []string) *Scenario {
	s := &Scenario{r: r, rec: ScenarioRecord{Name: name, Feature: feature, Tags: slices.Clone(tags), Started: time.Now()}}
	r.mu.Lock()
	if r.interrupted == "" {
		r.scenarios = append(r.scenarios, s)
	}
	r.mu.Unlock()
	return s
}

// Interrupt closes the report early: every scenario not finished yet is
// not run (never failed, whatever its steps do from now on), scenarios
// started later are not recorded, and every output says the run was
// interrupted and why.
func (r *Report) Interrupt(why string) {
	if why == "" {
		why = "interrupted"
	}
	r.mu.Lock()
	if r.interrupted != "" {
		r.mu.Unlock()
		return
	}
	r.interrupted = why
	list := slices.Clone(r.scenarios)
	r.mu.Unlock()
	for _, s := range list {
		s.notRun(why)
	}
}

// notRun ends an unfinished scenario as not run.
func (s *Scenario) notRun(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	s.finished = true
	s.rec.Duration = time.Since(s.rec.Started)
	s.rec.Status = StatusNotRun
	s.rec.Reason = "the run was interrupted (" + why + ") before this scenario finished"
}

// Interrupted tells why the run was interrupted; "" when it was not.
func (r *Report) Interrupted() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.interrupted
}

// AddNotApplicable records a scenario that was filtered out before the run
// because the target lacks what it needs.
func (r *Report) AddNotApplicable(name, feature string, tags []string, reason string) *Scenario {
	s := r.Start(name, feature, tags)
	s.NotApplicable(reason)
	s.Finish(nil)
	return s
}

// SetFeatureURI says which feature file the scenario comes from (as the
// run's feature file system names it), for the line numbers of reports.
func (s *Scenario) SetFeatureURI(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.FeatureURI = uri
}

// Step records one executed step.
func (s *Scenario) Step(keyword, text string, status StepStatus, err error, d time.Duration) {
	st := StepRecord{Keyword: keyword, Text: text, Status: status, Duration: d}
	if err != nil && status != StepSkipped && status != StepPassed {
		st.Error = s.r.scrub(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rec.Status == StatusNotRun {
		return // what a step does after the interrupt is cancellation, not a result
	}
	s.rec.Steps = append(s.rec.Steps, st)
}

// Note adds a line of context shown with the scenario (an observed value,
// a decision the step took).
func (s *Scenario) Note(format string, args ...any) {
	// URLs in a note (the pages a login went through) carry codes and
	// tokens in their queries: redact them as the exchanges are.
	n := s.r.scrub(urlInText.ReplaceAllStringFunc(fmt.Sprintf(format, args...), RedactURL))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Notes = append(s.rec.Notes, n)
}

// AddScreenshot attaches a PNG.
func (s *Scenario) AddScreenshot(caption string, png []byte) {
	if len(png) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Screenshots = append(s.rec.Screenshots, Screenshot{Caption: caption, PNG: slices.Clone(png)})
}

// RecordExchange adds an HTTP exchange, redacting it first.
func (s *Scenario) RecordExchange(e Exchange) {
	e = s.r.redactExchange(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Exchanges = append(s.rec.Exchanges, e)
}

// NotApplicable marks the scenario as not applicable, with the reason; a
// later failure still counts as a failure.
func (s *Scenario) NotApplicable(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skipReason = reason
}

// Finish decides the scenario's status from err (nil when it passed) and
// the steps recorded. Steps recorded afterwards are kept but do not change
// the status.
func (s *Scenario) Finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	s.finished = true
	s.rec.Duration = time.Since(s.rec.Started)
	s.decide(err)
	if s.r.OnFinish != nil {
		rec := s.rec
		// Outside the lock: the callback may take a while (a terminal).
		s.mu.Unlock()
		s.r.OnFinish(rec)
		s.mu.Lock()
	}
}

// decide sets Status, Reason and Error. Called with s.mu held.
func (s *Scenario) decide(err error) {
	rec := &s.rec
	failure := ""
	if err != nil && !isSkip(err) {
		failure = s.r.scrub(err.Error())
	}
	for _, st := range rec.Steps {
		if failure != "" {
			break
		}
		switch st.Status {
		case StepFailed, StepUndefined, StepPending, StepAmbiguous:
			failure = st.Error
			if failure == "" {
				failure = fmt.Sprintf("step %q is %s", st.Text, st.Status)
			}
		}
	}

	var expected string
	var isExpected bool
	if s.r.ExpectedFailure != nil {
		expected, isExpected = s.r.ExpectedFailure(rec.Name, rec.Tags)
	}
	switch {
	case failure == "" && s.skipReason != "":
		rec.Status, rec.Reason = StatusNotApplicable, s.skipReason
	case failure == "":
		rec.Status = StatusPassed
		if isExpected {
			rec.UnexpectedPass = true
			rec.Reason = "listed as an expected failure (" + expected + ") but passed: remove it from the list"
		}
	case isExpected:
		rec.Status, rec.Reason, rec.Error = StatusExpectedFailure, expected, failure
	case isShould(rec.Tags):
		rec.Status, rec.Error = StatusWarning, failure
	default:
		rec.Status, rec.Error = StatusFailed, failure
	}
}

// isSkip tells a scenario that stepped aside (godog.ErrSkip) from one that failed.
func isSkip(err error) bool {
	return errors.Is(err, godog.ErrSkip)
}

// snapshot copies the record; an unfinished scenario is reported as failed.
func (s *Scenario) snapshot() ScenarioRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.rec
	rec.Tags = slices.Clone(rec.Tags)
	rec.Steps = slices.Clone(rec.Steps)
	rec.Exchanges = slices.Clone(rec.Exchanges)
	rec.Screenshots = slices.Clone(rec.Screenshots)
	rec.Notes = slices.Clone(rec.Notes)
	if !s.finished {
		rec.Status = StatusFailed
		rec.Error = "the scenario did not finish"
		rec.Duration = time.Since(rec.Started)
	}
	return rec
}

// Record returns a copy of what was recorded so far.
func (s *Scenario) Record() ScenarioRecord { return s.snapshot() }

// Scenarios returns every scenario, in feature then start order.
func (r *Report) Scenarios() []ScenarioRecord {
	r.mu.Lock()
	list := slices.Clone(r.scenarios)
	r.mu.Unlock()
	out := make([]ScenarioRecord, len(list))
	for i, s := range list {
		out[i] = s.snapshot()
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Feature != out[j].Feature {
			return out[i].Feature < out[j].Feature
		}
		return out[i].Started.Before(out[j].Started)
	})
	return out
}

// Counts are the scenarios by status.
type Counts struct {
	Total, Passed, Failed, Warnings, NotApplicable, ExpectedFailures, UnexpectedPasses, NotRun int
}

// Counts tallies the scenarios.
func (r *Report) Counts() Counts {
	return countOf(r.Scenarios())
}

func countOf(list []ScenarioRecord) Counts {
	var c Counts
	for _, s := range list {
		c.Total++
		switch s.Status {
		case StatusPassed:
			c.Passed++
		case StatusFailed:
			c.Failed++
		case StatusWarning:
			c.Warnings++
		case StatusNotApplicable:
			c.NotApplicable++
		case StatusExpectedFailure:
			c.ExpectedFailures++
		case StatusNotRun:
			c.NotRun++
		}
		if s.UnexpectedPass {
			c.UnexpectedPasses++
		}
	}
	return c
}

// Failed reports whether the run failed: some MUST-level scenario failed
// and is not an expected failure. Warnings never fail a run.
func (r *Report) Failed() bool {
	return r.Counts().Failed > 0
}

// Exchange is one recorded HTTP request and its response, redacted.
type Exchange struct {
	Time            time.Time
	Duration        time.Duration
	Method          string
	URL             string
	RequestHeaders  http.Header
	RequestBody     string
	Status          int
	ResponseHeaders http.Header
	ResponseBody    string
	// Error is the transport error when no response came.
	Error string
}
