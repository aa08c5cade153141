// Package selftest measures what the conformance suite catches: it runs the
// whole suite against the reference once as it is (the baseline) and once
// per deliberate bug (Faults), each in its own `oauthtrio check` process
// with the bug switched on through $OAUTHTRIO_FAULTS, and tells which
// scenarios caught which bug. A MUST fault counts as caught only by a
// scenario that failed where the baseline did not; a SHOULD fault only by
// a warning the baseline did not have. Each such scenario is run again,
// alone with the fault, and counts only if it says the same: a failure
// that a loaded machine caused once does not come back on demand.
package selftest

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oauthtrio/oauthtrio/reference/trio"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// Options configure a self-test run.
type Options struct {
	// Binary is the oauthtrio executable the suite runs from.
	Binary string
	// ReportDir receives each run's reports (runs/<fault>/) and the kill
	// table.
	ReportDir string
	// Parallel is how many suite runs go at once (default 4).
	Parallel int
	// Concurrency is passed to check --concurrency when positive.
	Concurrency int
	// RunTimeout bounds one suite run (default 30 minutes: a loaded
	// machine slows a run many times over, and a timeout gives no verdict).
	RunTimeout time.Duration
	// Progress receives a line per finished run; nil discards them.
	Progress io.Writer
	// NoConfirm skips the second run of the scenarios that caught a
	// fault, so a single failure counts.
	NoConfirm bool
}

// Outcome is what the suite said about one fault.
type Outcome struct {
	Fault Fault `json:"fault"`
	// CaughtBy lists the scenarios that caught the fault: failed (MUST) or
	// warned (SHOULD) where the baseline did not.
	CaughtBy []string `json:"caught_by"`
	// OtherLevel lists the scenarios that changed at the other level: new
	// warnings for a MUST fault, new failures for a SHOULD fault. They do
	// not count as catches.
	OtherLevel []string `json:"other_level,omitempty"`
	// Unconfirmed lists the scenarios that caught the fault in the whole
	// run but not when run again alone with it; they do not count.
	Unconfirmed []string `json:"unconfirmed,omitempty"`
	// Error is why the run did not give a verdict (a set-up error, a
	// timeout); such a fault counts as missed.
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Caught reports whether a scenario caught the fault.
func (o Outcome) Caught() bool { return o.Error == "" && len(o.CaughtBy) > 0 }

// Result is a whole self-test.
type Result struct {
	// Baseline lists the scenarios that failed or warned against the
	// reference without faults.
	BaselineFailed   []string      `json:"baseline_failed"`
	BaselineWarnings []string      `json:"baseline_warnings"`
	BaselineDuration time.Duration `json:"baseline_duration_ns"`
	Outcomes         []Outcome     `json:"outcomes"`
	Parallel         int           `json:"parallel"`
	Wall             time.Duration `json:"wall_ns"`
}

// Caught counts the caught faults.
func (r *Result) Caught() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Caught() {
			n++
		}
	}
	return n
}

// Run runs the baseline, then every fault, Parallel runs at a time.
func Run(ctx context.Context, opts Options, faults []Fault) (*Result, error) {
	if opts.Parallel < 1 {
		opts.Parallel = 4
	}
	if opts.RunTimeout <= 0 {
		opts.RunTimeout = 30 * time.Minute
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	start := time.Now()
	base, err := runSuite(ctx, opts, "baseline", "")
	if err != nil {
		return nil, fmt.Errorf("baseline run of the reference without faults: %w", err)
	}
	res := &Result{
		BaselineFailed:   base.with(report.StatusFailed),
		BaselineWarnings: base.with(report.StatusWarning),
		BaselineDuration: base.duration,
		Parallel:         opts.Parallel,
		Outcomes:         make([]Outcome, len(faults)),
	}
	fmt.Fprintf(opts.Progress, "baseline: %d scenarios, %d failed, %d warnings, %s\n",
		len(base.status), len(res.BaselineFailed), len(res.BaselineWarnings), base.duration.Round(time.Second))

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
		sem  = make(chan struct{}, opts.Parallel)
	)
	for i, f := range faults {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			o := Outcome{Fault: f}
			began := time.Now()
			run, err := runSuite(ctx, opts, f.Name, f.Name)
			if err == nil {
				o.CaughtBy, o.OtherLevel = judge(f.Level, base, run)
				if len(o.CaughtBy) > 0 && !opts.NoConfirm {
					o.CaughtBy, o.Unconfirmed, err = confirm(ctx, opts, f, o.CaughtBy, run)
				}
			}
			if err != nil {
				o.Error = err.Error()
			}
			o.Duration = time.Since(began)
			res.Outcomes[i] = o
			mu.Lock()
			done++
			verdict := "MISSED"
			switch {
			case o.Caught():
				verdict = "caught"
			case o.Error != "":
				verdict = "MISSED (" + o.Error + ")"
			}
			fmt.Fprintf(opts.Progress, "[%d/%d] %-40s %s %s\n", done, len(faults), f.Name, o.Duration.Round(time.Second), verdict)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Wall = time.Since(start)
	return res, ctx.Err()
}

// judge compares a fault's run with the baseline.
func judge(level Level, base, run *suiteRun) (caught, other []string) {
	want, otherStatus := report.StatusFailed, report.StatusWarning
	if level == SHOULD {
		want, otherStatus = report.StatusWarning, report.StatusFailed
	}
	for _, key := range run.order {
		st := run.status[key]
		if st == base.status[key] {
			continue
		}
		switch st {
		case want:
			caught = append(caught, key)
		case otherStatus:
			other = append(other, key)
		}
	}
	return caught, other
}

// confirm runs the scenarios that caught f again, alone, with f switched
// on, and splits them into those that said the same again and those that
// did not.
func confirm(ctx context.Context, opts Options, f Fault, keys []string, first *suiteRun) (same, differ []string, err error) {
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		names = append(names, "^"+regexp.QuoteMeta(first.name[k])+"$")
	}
	again, err := runSuite(ctx, opts, f.Name+"-confirm", f.Name, "--name", strings.Join(slices.Compact(slices.Sorted(slices.Values(names))), "|"))
	if err != nil {
		return nil, nil, fmt.Errorf("confirmation run: %w", err)
	}
	for _, k := range keys {
		if again.status[k] == first.status[k] {
			same = append(same, k)
		} else {
			differ = append(differ, k)
		}
	}
	return same, differ, nil
}

// suiteRun is one `oauthtrio check`: each scenario's status, keyed by
// feature and scenario name.
type suiteRun struct {
	status map[string]report.Status
	// name is each key's scenario name, as --name selects it.
	name     map[string]string
	order    []string
	duration time.Duration
}

func (r *suiteRun) with(st report.Status) []string {
	var keys []string
	for _, k := range r.order {
		if r.status[k] == st {
			keys = append(keys, k)
		}
	}
	return keys
}

// runSuite runs the whole suite, or what extra check flags select, against
// the reference with faults switched on and reads the verdicts from its
// JUnit report.
func runSuite(ctx context.Context, opts Options, name, faults string, extra ...string) (*suiteRun, error) {
	dir := filepath.Join(opts.ReportDir, "runs", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.RunTimeout)
	defer cancel()
	args := append([]string{"check", "--report", dir, "--quiet"}, extra...)
	if opts.Concurrency > 0 {
		args = append(args, "--concurrency", fmt.Sprint(opts.Concurrency))
	}
	cmd := exec.CommandContext(ctx, opts.Binary, args...)
	cmd.Env = append(os.Environ(), trio.FaultsEnv+"="+faults)
	out, err := os.Create(filepath.Join(dir, "output.txt"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("no verdict within %s (output in %s)", opts.RunTimeout, out.Name())
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		// Exit status 1: a MUST scenario failed, a verdict like any other.
	case err != nil:
		return nil, fmt.Errorf("oauthtrio check: %v (output in %s)", err, out.Name())
	}
	run, err := readJUnit(filepath.Join(dir, "junit.xml"))
	if err != nil {
		return nil, err
	}
	run.duration = elapsed
	return run, nil
}

// readJUnit reads the status property the suite writes on every test case.
func readJUnit(path string) (*suiteRun, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Props     []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	run := &suiteRun{status: map[string]report.Status{}, name: map[string]string{}}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			key := c.Classname + ": " + c.Name
			for n := 2; slices.Contains(run.order, key); n++ {
				key = fmt.Sprintf("%s: %s (#%d)", c.Classname, c.Name, n)
			}
			for _, p := range c.Props {
				if p.Name == "status" {
					run.status[key] = report.Status(p.Value)
				}
			}
			run.name[key] = c.Name
			run.order = append(run.order, key)
		}
	}
	if len(run.order) == 0 {
		return nil, fmt.Errorf("%s lists no scenario", path)
	}
	return run, nil
}
