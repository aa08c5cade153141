package steps

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/oauthtrio/oauthtrio/steps/report"
)

// ProgressStyle is how the console shows scenarios as they finish.
type ProgressStyle int

const (
	// ProgressAuto: lines when the output is a terminal, dots otherwise.
	ProgressAuto ProgressStyle = iota
	// ProgressLines: one line per finished scenario (status, name, time).
	ProgressLines
	// ProgressDots: one character per finished scenario, for CI logs.
	ProgressDots
	// ProgressQuiet: nothing but the summary.
	ProgressQuiet
)

// IsTerminal tells whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress prints each scenario as it finishes. Dots: . passed, F failed,
// W warning, x expected failure, - not applicable.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	style   ProgressStyle
	color   bool
	n       int
	stopped bool
}

func newProgress(w io.Writer, style ProgressStyle, color bool) *progress {
	if style == ProgressAuto {
		style = ProgressDots
		if IsTerminal(w) {
			style = ProgressLines
		}
	}
	return &progress{w: w, style: style, color: color}
}

var (
	statusMark = map[report.Status]string{
		report.StatusPassed: ".", report.StatusFailed: "F", report.StatusWarning: "W",
		report.StatusExpectedFailure: "x", report.StatusNotApplicable: "-", report.StatusNotRun: "?",
	}
	statusWord = map[report.Status]string{
		report.StatusPassed: "PASS", report.StatusFailed: "FAIL", report.StatusWarning: "WARN",
		report.StatusExpectedFailure: "XFAIL", report.StatusNotApplicable: "N/A", report.StatusNotRun: "NOT RUN",
	}
	// ANSI SGR colours.
	statusColor = map[report.Status]string{
		report.StatusPassed: "32", report.StatusFailed: "31", report.StatusWarning: "33",
		report.StatusExpectedFailure: "35", report.StatusNotApplicable: "90", report.StatusNotRun: "90",
	}
)

func (p *progress) scenarioDone(rec report.ScenarioRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.style == ProgressQuiet {
		return
	}
	p.n++
	switch p.style {
	case ProgressLines:
		word := fmt.Sprintf("%-7s", statusWord[rec.Status])
		if p.color {
			word = "\x1b[" + statusColor[rec.Status] + "m" + word + "\x1b[0m"
		}
		fmt.Fprintf(p.w, "  %s %s › %s (%s)\n", word, rec.Feature, rec.Name, rec.Duration.Round(10*time.Millisecond))
	default:
		mark := statusMark[rec.Status]
		if p.color {
			mark = "\x1b[" + statusColor[rec.Status] + "m" + mark + "\x1b[0m"
		}
		fmt.Fprint(p.w, mark)
		if p.n%70 == 0 {
			fmt.Fprintf(p.w, " %d\n", p.n)
		}
	}
}

// stop ends the progress output early: an interrupted run prints its
// summary while abandoned scenarios may still finish.
func (p *progress) stop() {
	p.end()
}

func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	if p.style == ProgressDots && p.n%70 != 0 {
		fmt.Fprintf(p.w, " %d\n", p.n)
	}
	if p.style != ProgressQuiet {
		fmt.Fprintln(p.w)
	}
}

// aClient names a client of a role in a sentence: "a web client", and
// "another client" for the role named other.
func aClient(role string) string {
	if role == "other" {
		return "another client"
	}
	return "a " + role + " client"
}
