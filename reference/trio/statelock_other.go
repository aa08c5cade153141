//go:build !unix

package trio

// lockState does nothing where flock(2) does not exist; run one server per
// state directory there.
func lockState(string) (func(), error) { return func() {}, nil }
