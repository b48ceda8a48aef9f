package cancel_test

import (
	"os/exec"
	"syscall"
)

// stopWithParent has Linux send serve SIGTERM when the test binary dies, even by a crash.
func stopWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
