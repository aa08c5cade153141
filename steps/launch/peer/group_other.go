//go:build !unix

package peer

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// signalGroup can only kill the process itself where there are no
// process groups.
func signalGroup(cmd *exec.Cmd, _ bool) {
	_ = cmd.Process.Kill()
}
