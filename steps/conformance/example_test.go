package conformance_test

import (
	"os"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/conformance"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// A test of your own runs the suite against your issuer, described by a
// target configuration file. testdata/usertest is such a test, run
// against the reference.
func ExampleRun() {
	// func TestConformance(t *testing.T) in a _test.go file of yours:
	testConformance := func(t *testing.T) {
		target, err := issuer.LoadConfig("testdata/my-issuer.yaml") // what check --config reads
		if err != nil {
			t.Fatal(err)
		}
		conformance.Run(t, conformance.Config{Target: target, Tags: "~@should", ReportDir: "reports"})
	}
	_ = testConformance
}

// The README shows ExampleRun's test as a function of its own.
func TestReadmeShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "testConformance := func(t *testing.T) {\n")
	body, _, ok2 := strings.Cut(rest, "\n\t}\n")
	if !ok || !ok2 {
		t.Fatal("ExampleRun has no testConformance literal")
	}
	want := "```go\nfunc TestConformance(t *testing.T) {\n" + strings.ReplaceAll(body, "\n\t", "\n")[1:] + "\n}\n```\n"
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md lacks ExampleRun's test; copy this into it:\n%s", want)
	}
}
