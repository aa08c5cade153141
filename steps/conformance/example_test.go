package conformance_test

import (
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/conformance"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// A test of your own runs the suite against your issuer, described by a
// target configuration file (the one oauthtrio check --config reads).
// testdata/usertest is such a test, run against the reference.
func ExampleRun() {
	// In a _test.go file of yours: func TestConformance(t *testing.T).
	testConformance := func(t *testing.T) {
		target, err := issuer.LoadConfig("testdata/my-issuer.yaml")
		if err != nil {
			t.Fatal(err)
		}
		rep := conformance.Run(t, conformance.Config{
			Target:    target,
			Tags:      "~@should",
			ReportDir: "reports",
		})
		t.Logf("%+v", rep.Counts())
	}
	_ = testConformance
}
