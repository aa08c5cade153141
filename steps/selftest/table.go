package selftest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KillRate is the summary line: caught faults out of all.
func (r *Result) KillRate() string {
	n := len(r.Outcomes)
	return fmt.Sprintf("kill rate: %d of %d faults caught (%.0f%%); %d missed; %s wall time, %d suite runs at a time",
		r.Caught(), n, 100*float64(r.Caught())/float64(max(n, 1)), n-r.Caught(), r.Wall.Round(time.Second), r.Parallel)
}

// WriteKillTable writes kill-table.md and kill-table.json to dir.
func (r *Result) WriteKillTable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kill-table.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "kill-table.md"))
	if err != nil {
		return err
	}
	r.Markdown(f)
	return f.Close()
}

// Markdown writes the kill table: one row per fault, the missed ones
// included.
func (r *Result) Markdown(w io.Writer) {
	fmt.Fprintf(w, "# Self-test: the suite against %d deliberate bugs in the reference\n\n", len(r.Outcomes))
	fmt.Fprintf(w, "%s.\n\n", strings.ToUpper(r.KillRate()[:1])+r.KillRate()[1:])
	fmt.Fprintf(w, "Baseline (no fault): %d MUST failures, %d warnings, %s. A MUST fault counts as caught only by a failure the baseline does not have, a SHOULD fault only by such a warning, and only if the scenario says the same again when run alone with the fault.\n\n",
		len(r.BaselineFailed), len(r.BaselineWarnings), r.BaselineDuration.Round(time.Second))
	for _, k := range r.BaselineFailed {
		fmt.Fprintf(w, "- baseline failure: %s\n", k)
	}
	for _, k := range r.BaselineWarnings {
		fmt.Fprintf(w, "- baseline warning: %s\n", k)
	}
	fmt.Fprintln(w, "\n| fault | area | spec | level | caught | by | description | source |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, o := range r.Outcomes {
		by := strings.Join(o.CaughtBy, "<br>")
		verdict := "yes"
		switch {
		case o.Error != "":
			verdict, by = "MISSED", "error: "+o.Error
		case !o.Caught():
			verdict = "MISSED"
			if len(o.OtherLevel) > 0 {
				by = "only at the other level: " + strings.Join(o.OtherLevel, "<br>")
			}
		}
		if len(o.Unconfirmed) > 0 {
			by += "<br>not again when run alone: " + strings.Join(o.Unconfirmed, "<br>")
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n",
			o.Fault.Name, o.Fault.Area, o.Fault.Spec, o.Fault.Level, verdict, cell(by), cell(o.Fault.Description), cell(o.Fault.Source))
	}
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
