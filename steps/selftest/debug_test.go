package selftest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/oauthtrio/oauthtrio/steps"
)

// TestOneFault runs the suite against the one fault named by
// $OAUTHTRIO_FAULT and writes its reports, to see how the suite saw it:
//
//	OAUTHTRIO_FAULT=code-reusable go test -run TestOneFault ./steps/selftest/
func TestOneFault(t *testing.T) {
	name := os.Getenv("OAUTHTRIO_FAULT")
	if name == "" {
		t.Skip("set OAUTHTRIO_FAULT to a fault name to run it alone")
	}
	dir := filepath.Join(os.TempDir(), "oauthtrio-fault-"+name)
	for _, f := range Faults() {
		if f.Name != name {
			continue
		}
		res, err := runAgainst(context.Background(), f, steps.Options{Tags: f.Tags, Output: os.Stdout, ReportDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(caughtBy(res.Report)) == 0 {
			t.Errorf("no scenario caught %s; reports in %s", name, dir)
		}
		return
	}
	t.Fatalf("no fault named %q", name)
}
