package steps

import (
	"context"
	"errors"
	"time"

	"github.com/cucumber/godog"
)

// interruptGrace is how long running scenarios get, once the run's context
// ends, to notice and stop before the run writes its partial report and
// abandons them: well inside the 5 s a person waits after Ctrl-C.
const interruptGrace = 750 * time.Millisecond

// runSuite runs the suite. When the run's context ends first (SIGINT,
// SIGTERM), it closes the report, so that unfinished scenarios count as not
// run, and returns after interruptGrace at most, reporting true; scenarios
// still running are left to die with the process. Under go test it waits
// for them instead: a subtest must not outlive its test.
func (r *run) runSuite(suite godog.TestSuite, underTest bool) (interrupted bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		suite.Run()
	}()
	select {
	case <-done:
		if r.ctx.Err() == nil {
			return false
		}
	case <-r.ctx.Done():
	}
	r.rep.Interrupt(interruptCause(r.ctx))
	r.progress.stop()
	if underTest {
		<-done
		return true
	}
	select {
	case <-done:
	case <-time.After(interruptGrace):
	}
	return true
}

// interruptCause says why ctx ended: the signal, when the caller cancelled
// with one as the cause (context.WithCancelCause), or "interrupted".
func interruptCause(ctx context.Context) string {
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err.Error()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "deadline exceeded"
	}
	return "interrupted"
}

// closeGrace bounds closing the browser and listeners of an interrupted
// run; Chromium dies with the process anyway (chromedp sets Pdeathsig).
const closeGrace = time.Second

// waitClosed waits for closed, or for closeGrace at most once the run was
// interrupted.
func (r *run) waitClosed(closed <-chan struct{}) {
	if r.ctx.Err() == nil {
		<-closed
		return
	}
	select {
	case <-closed:
	case <-time.After(closeGrace):
	}
}
