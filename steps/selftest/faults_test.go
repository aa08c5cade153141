package selftest

import "testing"

// TestOnePerArea: the sample holds each area once, by its first fault.
func TestOnePerArea(t *testing.T) {
	sample := OnePerArea(Faults)
	first := map[string]string{}
	for _, f := range Faults {
		if _, ok := first[f.Area]; !ok {
			first[f.Area] = f.Name
		}
	}
	if len(sample) != len(first) {
		t.Fatalf("%d faults in the sample, %d areas", len(sample), len(first))
	}
	for _, f := range sample {
		if first[f.Area] != f.Name {
			t.Errorf("area %q: sample has %s, its first fault is %s", f.Area, f.Name, first[f.Area])
		}
	}
}
