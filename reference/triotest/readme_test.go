package triotest_test

import (
	"os"
	"strings"
	"testing"
)

// The README's test issuer example is example_test.go, which go test
// runs, less its package clause.
func TestReadmeShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(example), "\n\n")
	if !ok {
		t.Fatal("example_test.go has no package clause")
	}
	if !strings.Contains(string(readme), "```go\n"+body+"```\n") {
		t.Errorf("README.md has no go block equal to example_test.go after its package clause; copy this into it:\n%s", body)
	}
}
