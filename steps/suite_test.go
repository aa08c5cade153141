package steps

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
)

// TestSuiteAgainstReference runs every feature against the built-in
// reference trio and fails on any MUST failure. Reports go to
// $OAUTHTRIO_REPORT_DIR when set.
func TestSuiteAgainstReference(t *testing.T) {
	if testing.Short() {
		t.Skip("the full suite drives a browser; skipped with -short")
	}
	// Without a browser most scenarios are not applicable, and a run that
	// tests so little must not pass.
	if _, err := browser.FindChromium(); err != nil {
		t.Fatalf("the suite needs Chromium (apt-get install -y chromium): %v", err)
	}
	dir := os.Getenv("OAUTHTRIO_REPORT_DIR")
	if dir == "" {
		// Not t.TempDir: the path printed below must outlive the test.
		var err error
		if dir, err = os.MkdirTemp("", "oauthtrio-report-"); err != nil {
			t.Fatal(err)
		}
	}
	ref, err := reference.Start(t.Context(), reference.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close(context.Background()) })
	res, err := Run(t.Context(), ref.Config, Options{
		ReportDir: dir,
		Tags:      os.Getenv("OAUTHTRIO_TAGS"),
		Output:    newTestOutput(t),
		TestingT:  t,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed {
		t.Errorf("MUST scenarios failed; see %s", filepath.Join(dir, "report.html"))
	}
}
