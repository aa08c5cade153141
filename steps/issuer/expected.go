package issuer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// ExpectedFailure is one entry of an expected-failures file, in the shape
// the OpenID Foundation conformance suite uses for its CI, plus the reason
// this suite insists on: an exception nobody can explain is a bug.
type ExpectedFailure struct {
	// TestName is the scenario name, or an OIDF module name matched against
	// the scenario's @oidf:<module> tag.
	TestName string `yaml:"test-name" json:"test-name"`
	// Reason says why the failure is accepted (a known deviation, a
	// limitation of the environment...).
	Reason string `yaml:"reason" json:"reason"`
	// ExpectedResult is "failure" (default) or "warning".
	ExpectedResult string `yaml:"expected-result" json:"expected-result"`
	// The OIDF fields below are kept for reference; the suite does not use them.
	Variant               any    `yaml:"variant" json:"variant"`
	ConfigurationFilename string `yaml:"configuration-filename" json:"configuration-filename"`
	CurrentBlock          string `yaml:"current-block" json:"current-block"`
	Condition             string `yaml:"condition" json:"condition"`
}

// ExpectedFailures is a validated list of expected failures.
type ExpectedFailures struct {
	Entries []ExpectedFailure
	Path    string
}

// LoadExpectedFailures reads a YAML or JSON list of entries (JSON is read as
// YAML, of which it is a subset) and validates it.
func LoadExpectedFailures(path string) (*ExpectedFailures, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ef, err := ParseExpectedFailures(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ef.Path = path
	return ef, nil
}

// ParseExpectedFailures parses and validates entries from memory.
func ParseExpectedFailures(data []byte) (*ExpectedFailures, error) {
	var entries []ExpectedFailure
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&entries); err != nil {
			return nil, err
		}
	}
	ef := &ExpectedFailures{Entries: entries}
	if err := ef.Validate(); err != nil {
		return nil, err
	}
	return ef, nil
}

// Validate requires a test name and a reason on every entry, a known
// expected-result, and no test listed twice.
func (ef *ExpectedFailures) Validate() error {
	var errs []error
	seen := map[string]int{}
	for i := range ef.Entries {
		e := &ef.Entries[i]
		where := fmt.Sprintf("entry %d", i+1)
		if e.TestName != "" {
			where += fmt.Sprintf(" (%s)", e.TestName)
		}
		if strings.TrimSpace(e.TestName) == "" {
			errs = append(errs, fmt.Errorf("%s: test-name is required", where))
		}
		if strings.TrimSpace(e.Reason) == "" {
			errs = append(errs, fmt.Errorf("%s: reason is required: say why this failure is accepted", where))
		}
		switch e.ExpectedResult {
		case "":
			e.ExpectedResult = "failure"
		case "failure", "warning":
		default:
			errs = append(errs, fmt.Errorf("%s: expected-result %q is not failure or warning", where, e.ExpectedResult))
		}
		if j, dup := seen[e.TestName]; dup && e.TestName != "" {
			errs = append(errs, fmt.Errorf("%s: test-name already listed in entry %d", where, j))
		}
		seen[e.TestName] = i + 1
	}
	return errors.Join(errs...)
}

// Lookup finds the entry for a scenario: by its name, or by one of its tags
// (with or without '@', and @oidf:<module> by the module name).
func (ef *ExpectedFailures) Lookup(scenarioName string, tags ...string) (ExpectedFailure, bool) {
	if ef == nil {
		return ExpectedFailure{}, false
	}
	keys := []string{scenarioName}
	for _, t := range tags {
		t = strings.TrimPrefix(t, "@")
		keys = append(keys, t)
		if mod, ok := strings.CutPrefix(t, "oidf:"); ok {
			keys = append(keys, mod)
		}
	}
	for _, e := range ef.Entries {
		for _, k := range keys {
			if k != "" && e.TestName == k {
				return e, true
			}
		}
	}
	return ExpectedFailure{}, false
}
