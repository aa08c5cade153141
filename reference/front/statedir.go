package front

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultStateDir returns the per-user directory that keeps the front's
// certificate between runs, creating it readable by the user alone because
// it holds a private key. It follows the XDG base directory convention
// ($XDG_STATE_HOME, else ~/.local/state) where that convention applies, and
// the platform's configuration directory elsewhere.
func DefaultStateDir() (string, error) {
	base, err := stateBase()
	if err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	dir := filepath.Join(base, "oauthtrio")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return dir, nil
}

func stateBase() (string, error) {
	// The XDG specification says relative values are invalid and must be
	// ignored.
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return dir, nil
	}
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "plan9", "android", "js", "wasip1":
		return os.UserConfigDir()
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state"), nil
}
