// Package conformance runs the oauthtrio conformance suite inside a go test
// of your own, against your issuer:
//
//	func TestConformance(t *testing.T) {
//		target, err := issuer.LoadConfig("testdata/my-issuer.yaml")
//		if err != nil {
//			t.Fatal(err)
//		}
//		conformance.Run(t, conformance.Config{Target: target, ReportDir: "reports"})
//	}
//
// Each scenario is a subtest named after it, so go test's -run selects
// scenarios (go test -run 'TestConformance/PKCE') and any go test tooling
// (go test -json, gotestsum --junitfile) reports them. A scenario's
// verdict is its subtest's outcome:
//
//   - passed: the subtest passes;
//   - failed (a MUST): the subtest fails, with the failing step;
//   - warning (a @should scenario failed): the subtest passes and logs the
//     warning (go test -v shows it);
//   - not applicable (the issuer does not advertise what the scenario
//     needs): the subtest is skipped with the reason;
//   - expected failure (listed in the target's expected-failures file): the
//     subtest is skipped with the reason, as the JUnit report does;
//     neither passed nor failed.
//
// Browser scenarios need Chromium (apt-get install chromium); without it
// they are not applicable.
package conformance

import (
	"testing"

	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// Config says which issuer to test and how; the fields are those of
// oauthtrio check. Zero values are the defaults.
type Config struct {
	// Target describes the issuer: its URL, TLS trust, clients and test
	// users. issuer.LoadConfig reads the YAML file oauthtrio check
	// --config takes (fixtures/targets/example.yaml is a commented one).
	Target *issuer.Config
	// Tags selects scenarios with a tag expression, as check --tags does,
	// e.g. "@needs:pkce_s256 && ~@should". Empty runs every scenario.
	Tags string
	// Profile names the login-page profile (reference, iris,
	// node-oidc-provider, glewlwyd, generic-form, auto) or a profile file;
	// it overrides the target's.
	Profile string
	// Concurrency is how many scenarios run at once; zero means the
	// target's (default 4).
	Concurrency int
	// ReportDir receives report.html, junit.xml, cucumber.json and the
	// screenshots of failed browser steps; empty writes no files.
	ReportDir string
	// Features are directories of your own .feature files, run beside the
	// shipped ones with the shipped steps (check --features).
	Features []string
	// ChromiumPath is the Chromium executable; empty finds the installed
	// one.
	ChromiumPath string
}

// Run runs the suite against cfg.Target, each scenario as a subtest of t,
// and returns the report (Counts tallies the verdicts). A configuration
// the suite cannot start with (an unreadable discovery document, a tag
// expression selecting nothing, a browser that cannot start) fails t at
// once. Run does not change cfg.Target.
func Run(t *testing.T, cfg Config) *report.Report {
	t.Helper()
	if cfg.Target == nil {
		t.Fatal("conformance: Config.Target is nil; describe the issuer, e.g. with issuer.LoadConfig")
	}
	res, err := steps.Run(t.Context(), cfg.Target, steps.Options{
		Tags:          cfg.Tags,
		Profile:       cfg.Profile,
		Concurrency:   cfg.Concurrency,
		ReportDir:     cfg.ReportDir,
		ExtraFeatures: cfg.Features,
		ChromiumPath:  cfg.ChromiumPath,
		// The subtests are the progress; the summary goes to t's log.
		Progress: steps.ProgressQuiet,
		TestingT: t,
	})
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	return res.Report
}
