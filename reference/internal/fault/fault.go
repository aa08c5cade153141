// Package fault switches on deliberate bugs in the reference, one by name,
// so that the self-test can measure what the conformance suite catches.
// Nothing is switched on unless the OAUTHTRIO_FAULTS environment variable
// names it; a normal run pays one environment lookup per check.
package fault

import (
	"os"
	"strings"
)

// Env is the environment variable naming the faults switched on, comma
// separated.
const Env = "OAUTHTRIO_FAULTS"

// On reports whether the fault called name is switched on. The environment
// is read on every call so that a test can switch faults with t.Setenv.
func On(name string) bool {
	v := os.Getenv(Env)
	if v == "" {
		return false
	}
	for f := range strings.SplitSeq(v, ",") {
		if strings.TrimSpace(f) == name {
			return true
		}
	}
	return false
}

// Active lists the faults switched on, for a warning at start-up.
func Active() []string {
	var names []string
	for f := range strings.SplitSeq(os.Getenv(Env), ",") {
		if f = strings.TrimSpace(f); f != "" {
			names = append(names, f)
		}
	}
	return names
}
