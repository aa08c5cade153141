package main

import (
	"strings"
	"testing"
)

// A reference started with deliberate faults says so, naming them, before
// anything else happens; a normal start does not. The -pprof address on a
// public interface stops serve right after the warning.
func TestServeWarnsOfFaults(t *testing.T) {
	for _, faults := range []string{"authz-state-dropped,tls-hsts-missing", ""} {
		t.Setenv("OAUTHTRIO_FAULTS", faults)
		var out, errOut strings.Builder
		if code := serve([]string{"-pprof", "0.0.0.0:6060"}, &out, &errOut); code != 2 {
			t.Fatalf("serve -pprof 0.0.0.0:6060 exited %d, want 2 (stderr %q)", code, errOut.String())
		}
		warned := strings.Contains(errOut.String(), "WARNING: deliberate faults")
		switch {
		case faults != "" && (!warned || !strings.Contains(errOut.String(), faults)):
			t.Errorf("OAUTHTRIO_FAULTS=%s: stderr %q has no warning naming the faults", faults, errOut.String())
		case faults == "" && warned:
			t.Errorf("no faults, yet stderr warns: %q", errOut.String())
		}
	}
}
