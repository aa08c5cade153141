package steps

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps/report"
)

// subtests runs each scenario as a subtest of a test (Options.TestingT),
// the subtest's outcome being the suite's verdict: a MUST failure fails
// it, a SHOULD failure (a warning) is a log line, a not-applicable
// scenario, an expected failure and a scenario an interrupt stopped are
// skipped with the reason. So go test's -run selects scenarios by name and
// go test tooling (go test -json, gotestsum, JUnit converters) reports
// them as the suite's own reports do.
//
// godog's TestingT mode is not used: it fails a subtest on any step
// error, warnings and expected failures included, and passes a
// not-applicable one.
type subtests struct {
	t *testing.T
	// ended is closed once the suite has run: a subtest still waiting for
	// its scenario's verdict then fails instead of hanging the test.
	ended   chan struct{}
	running sync.WaitGroup
}

func newSubtests(t *testing.T) *subtests {
	return &subtests{t: t, ended: make(chan struct{})}
}

type subtestKey struct{}

// subtest is one scenario's subtest; it runs on a goroutine of its own
// from the scenario's start until its verdict arrives.
type subtest struct {
	verdict chan report.ScenarioRecord
	done    chan struct{}
}

// attachStart starts each scenario's subtest. It must be registered ahead
// of the report's hooks: a scenario the -run pattern leaves out is neither
// run nor recorded.
func (st *subtests) attachStart(sc *godog.ScenarioContext) {
	if st == nil {
		return
	}
	sc.Before(func(ctx context.Context, p *godog.Scenario) (context.Context, error) {
		sub := &subtest{verdict: make(chan report.ScenarioRecord, 1), done: make(chan struct{})}
		started := make(chan struct{})
		st.running.Add(1)
		go func() {
			defer st.running.Done()
			defer close(sub.done)
			st.t.Run(p.Name, func(t *testing.T) {
				close(started)
				select {
				case rec := <-sub.verdict:
					reportVerdict(t, rec)
				case <-st.ended:
					t.Error("the scenario did not finish")
				}
			})
		}()
		select {
		case <-started:
			return context.WithValue(ctx, subtestKey{}, sub), nil
		case <-sub.done:
			// t.Run returned without running: the -run pattern excludes it.
			return report.Deselect(ctx), godog.ErrSkip
		}
	})
}

// attachVerdict hands each finished scenario's record to its subtest and
// waits for the subtest to end. It must be registered after the report's
// hooks, which decide the verdict.
func (st *subtests) attachVerdict(sc *godog.ScenarioContext) {
	if st == nil {
		return
	}
	sc.After(func(ctx context.Context, _ *godog.Scenario, _ error) (context.Context, error) {
		sub, ok := ctx.Value(subtestKey{}).(*subtest)
		rec := report.FromContext(ctx)
		if !ok || rec == nil {
			return ctx, nil
		}
		sub.verdict <- rec.Record()
		<-sub.done
		return ctx, nil
	})
}

// notApplicable records a scenario the plan left out because the target
// lacks what it needs. Under a test it is a skipped subtest, and record
// runs only when the -run pattern selects it, so the report lists only
// selected scenarios.
func (st *subtests) notApplicable(name, reason string, record func()) {
	if st == nil {
		record()
		return
	}
	st.t.Run(name, func(t *testing.T) {
		record()
		t.Skip("not applicable: " + reason)
	})
}

// end fails the subtests still waiting and waits for every subtest.
func (st *subtests) end() {
	if st == nil {
		return
	}
	close(st.ended)
	st.running.Wait()
}

// reportVerdict turns a scenario's verdict into its subtest's outcome.
func reportVerdict(t *testing.T, rec report.ScenarioRecord) {
	if rec.UnexpectedPass {
		t.Log(rec.Reason)
	}
	switch rec.Status {
	case report.StatusFailed:
		t.Errorf("MUST (%s): %s\n%s", strings.Join(rec.Tags, " "), rec.Error, rec.StepsText())
	case report.StatusWarning:
		t.Logf("warning, SHOULD (%s): %s\n%s", strings.Join(rec.Tags, " "), rec.Error, rec.StepsText())
	case report.StatusNotApplicable:
		t.Skip("not applicable: " + rec.Reason)
	case report.StatusExpectedFailure:
		t.Skipf("expected failure: %s (%s)", rec.Reason, rec.Error)
	case report.StatusNotRun:
		t.Skip("not run: " + rec.Reason)
	}
}

// testOutput sends the suite's console output to a test's log, a line at
// a time (the progress writes a character per scenario).
type testOutput struct {
	t   *testing.T
	buf *bytes.Buffer
}

func newTestOutput(t *testing.T) testOutput { return testOutput{t: t, buf: &bytes.Buffer{}} }

func (o testOutput) Write(p []byte) (int, error) {
	o.buf.Write(p)
	for {
		line, err := o.buf.ReadString('\n')
		if err != nil {
			o.buf.WriteString(line)
			return len(p), nil
		}
		o.t.Log(strings.TrimRight(line, "\n"))
	}
}
