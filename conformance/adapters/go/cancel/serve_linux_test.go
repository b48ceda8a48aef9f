package cancel_test

import (
	"os/exec"
	"runtime"
	"syscall"
)

// stopWithParent has Linux send serve SIGTERM when the test binary dies, even by a crash.
//
// Linux sends Pdeathsig when the thread that started the child ends, not the process, and Go
// may run a goroutine on any thread: the calling goroutine (TestMain's, which lives until
// os.Exit) is locked to its thread for good, so that thread outlives the tests.
func stopWithParent(cmd *exec.Cmd) {
	runtime.LockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
