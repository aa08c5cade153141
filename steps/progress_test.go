package steps

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/steps/report"
)

func TestProgress(t *testing.T) {
	recs := []report.ScenarioRecord{
		{Feature: "Discovery", Name: "names the issuer", Status: report.StatusPassed, Duration: 120 * time.Millisecond},
		{Feature: "Tokens", Name: "code reuse", Status: report.StatusFailed, Duration: 2 * time.Second},
	}
	tests := []struct {
		name   string
		style  ProgressStyle
		color  bool
		want   []string
		absent []string
	}{
		{"lines", ProgressLines, false, []string{"  PASS    Discovery › names the issuer (120ms)\n", "  FAIL    Tokens › code reuse (2s)\n"}, []string{"\x1b["}},
		{"lines in colour", ProgressLines, true, []string{"\x1b[32mPASS   \x1b[0m Discovery", "\x1b[31mFAIL   \x1b[0m Tokens"}, nil},
		{"dots", ProgressDots, false, []string{".F 2\n"}, []string{"Discovery", "\x1b["}},
		{"quiet", ProgressQuiet, false, nil, []string{".", "PASS"}},
		// A buffer is no terminal: auto means dots.
		{"auto off a terminal", ProgressAuto, false, []string{".F 2\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := newProgress(&out, tt.style, tt.color)
			for _, r := range recs {
				p.scenarioDone(r)
			}
			p.end()
			p.scenarioDone(recs[0]) // after the end: an abandoned scenario prints nothing
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%q", w, out.String())
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("output has %q:\n%q", a, out.String())
				}
			}
			if tt.style == ProgressQuiet && out.Len() != 0 {
				t.Errorf("quiet printed %q", out.String())
			}
		})
	}
}

func TestAClient(t *testing.T) {
	for role, want := range map[string]string{"web": "a web client", "other": "another client", "public": "a public client"} {
		if got := aClient(role); got != want {
			t.Errorf("aClient(%q) = %q, want %q", role, got, want)
		}
	}
}
