//go:build !linux

package cancel_test

import "os/exec"

// stopWithParent: only Linux can tie a child's life to its parent's; elsewhere TestMain's
// stop is the only one.
func stopWithParent(*exec.Cmd) {}
