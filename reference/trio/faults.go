package trio

import "github.com/oauthtrio/oauthtrio/reference/internal/fault"

// FaultsEnv is the environment variable that switches on deliberate bugs
// in the reference, for the self-test.
const FaultsEnv = fault.Env

// ActiveFaults lists the deliberate bugs switched on in this process; a
// trio with any of them is broken on purpose and must say so.
func ActiveFaults() []string { return fault.Active() }
