package iris_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/launch/iris"
)

// TestIRISContainer runs the whole suite against a real IRIS in Docker
// ("make test-iris"). Only the failures listed in
// fixtures/targets/iris-expected-failures.yaml are accepted. The report
// goes to $OAUTHTRIO_REPORT_DIR, or a temporary directory.
func TestIRISContainer(t *testing.T) {
	testcontainers.SkipIfProviderIsNotHealthy(t)
	if testing.Short() {
		t.Skip("-short: pulling and starting IRIS takes minutes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	inst, err := iris.Start(ctx, iris.Options{Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := inst.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})

	reportDir := os.Getenv("OAUTHTRIO_REPORT_DIR")
	if reportDir == "" {
		reportDir = t.TempDir()
	}
	res, err := steps.Run(ctx, inst.Config, steps.Options{
		ReportDir: reportDir,
		// The Community Edition's licence allows few connections; one
		// scenario at a time keeps the browser sessions within it.
		Concurrency: 1,
		Output:      os.Stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed {
		t.Errorf("a MUST scenario failed against IRIS beyond the expected failures; see %s/report.html", reportDir)
	}
}
