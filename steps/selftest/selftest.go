package selftest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// Outcome is what the suite said about one fault.
type Outcome struct {
	Fault Fault
	// Caught lists the scenarios that failed (or warned, for a SHOULD)
	// against the broken reference.
	Caught   []string
	Ran      int
	Duration time.Duration
	Err      error
}

// Run runs the suite against every fault, parallel at a time.
func Run(ctx context.Context, faults []Fault, parallel int) []Outcome {
	if parallel < 1 {
		parallel = 1
	}
	out := make([]Outcome, len(faults))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, f := range faults {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = runFault(ctx, f)
		}()
	}
	wg.Wait()
	return out
}

func runFault(ctx context.Context, f Fault) Outcome {
	start := time.Now()
	o := Outcome{Fault: f}
	res, err := runAgainst(ctx, f, steps.Options{Tags: f.Tags, Concurrency: 3, Output: io.Discard})
	o.Duration = time.Since(start)
	if err != nil {
		o.Err = err
		return o
	}
	o.Caught = caughtBy(res.Report)
	for _, s := range res.Report.Scenarios() {
		if s.Status == report.StatusPassed || s.Status == report.StatusFailed || s.Status == report.StatusWarning {
			o.Ran++
		}
	}
	slices.Sort(o.Caught)
	return o
}

// runAgainst launches the reference with f in it and runs the suite.
func runAgainst(ctx context.Context, f Fault, opts steps.Options) (*steps.Result, error) {
	ref, err := reference.Start(ctx, *f.Options())
	if err != nil {
		return nil, err
	}
	defer ref.Close(context.WithoutCancel(ctx))
	return steps.Run(ctx, ref.Config, opts)
}

// Table prints fault, scenarios run and the scenarios that caught it.
func Table(w io.Writer, outcomes []Outcome) {
	caught := 0
	for _, o := range outcomes {
		status := "CAUGHT"
		switch {
		case o.Err != nil:
			status = "ERROR"
		case len(o.Caught) == 0:
			status = "MISSED"
		default:
			caught++
		}
		fmt.Fprintf(w, "%-7s %-38s %2d run, %4.1fs  %s\n", status, o.Fault.Name, o.Ran, o.Duration.Seconds(), o.Fault.Description)
		if o.Err != nil {
			fmt.Fprintf(w, "        error: %v\n", o.Err)
		}
		for _, c := range o.Caught {
			fmt.Fprintf(w, "        caught by: %s\n", c)
		}
	}
	fmt.Fprintf(w, "%d of %d faults caught (%.0f%%)\n", caught, len(outcomes), 100*float64(caught)/float64(max(len(outcomes), 1)))
}

// Missed lists the faults no scenario caught.
func Missed(outcomes []Outcome) []string {
	var names []string
	for _, o := range outcomes {
		if o.Err != nil || len(o.Caught) == 0 {
			names = append(names, o.Fault.Name)
		}
	}
	return names
}

// caughtBy lists the scenarios that failed, or warned for a SHOULD.
func caughtBy(r *report.Report) []string {
	var names []string
	for _, s := range r.Scenarios() {
		if s.Status == report.StatusFailed || s.Status == report.StatusWarning {
			names = append(names, s.Name)
		}
	}
	return names
}
