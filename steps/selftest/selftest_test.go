package selftest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/steps/browser"
)

// TestSuiteCatchesEveryFault runs the suite against every broken variant
// of the reference and fails if any fault goes unnoticed.
func TestSuiteCatchesEveryFault(t *testing.T) {
	if testing.Short() {
		t.Skip("the self-test runs the suite many times; skipped with -short")
	}
	if _, err := browser.FindChromium(); err != nil {
		t.Fatalf("the self-test needs Chromium (apt-get install -y chromium); without it no fault could be caught: %v", err)
	}
	faults := Faults()
	if len(faults) < 25 {
		t.Fatalf("only %d faults in the catalogue", len(faults))
	}
	start := time.Now()
	outcomes := Run(context.Background(), faults, 2)
	var table strings.Builder
	Table(&table, outcomes)
	t.Logf("self-test in %s:\n%s", time.Since(start).Round(time.Second), table.String())
	if missed := Missed(outcomes); len(missed) > 0 {
		t.Errorf("faults no scenario caught: %s", strings.Join(missed, ", "))
	}
}

func TestFaultNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Faults() {
		if seen[f.Name] {
			t.Errorf("duplicate fault %s", f.Name)
		}
		seen[f.Name] = true
		if f.Tags == "" || f.Description == "" || f.inject == nil {
			t.Errorf("fault %s lacks tags, description or injection", f.Name)
		}
	}
}
