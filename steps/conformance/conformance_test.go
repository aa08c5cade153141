package conformance_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/conformance"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// startReference starts the reference trio in-process, described as a
// target, and stops it with the test.
func startReference(t *testing.T) *reference.Instance {
	t.Helper()
	ref, err := reference.Start(t.Context(), reference.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close(context.Background()) })
	return ref
}

// Run runs the selected scenarios as subtests: the discovery scenarios
// pass against the reference, and the claims-parameter and request-object
// scenarios are skipped as not applicable (the reference advertises
// neither). Records reach the report only from a subtest that ran, so
// the counts are the subtests'.
func TestRun(t *testing.T) {
	ref := startReference(t)
	dir := t.TempDir()
	var rep *report.Report
	t.Run("Conformance", func(t *testing.T) {
		rep = conformance.Run(t, conformance.Config{
			Target:    ref.Config,
			Tags:      "@needs:discovery, @needs:claims_parameter, @needs:request_object",
			ReportDir: dir,
		})
	})
	if rep == nil {
		t.Fatal("Run returned no report")
	}
	c := rep.Counts()
	t.Logf("%+v", c)
	if c.Passed == 0 || c.NotApplicable == 0 {
		t.Errorf("want passed and not-applicable scenarios, got %+v", c)
	}
	if c.Failed != 0 || c.NotRun != 0 || c.Total != c.Passed+c.NotApplicable+c.Warnings {
		t.Errorf("unexpected verdicts against the reference: %+v", c)
	}
	for _, name := range []string{"report.html", "junit.xml", "cucumber.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}
