package campaign

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// childOfCampaign makes cmd die with the campaign: a campaign killed with
// kill -9 leaves no worker or minimizer running. Workers start no process
// of their own, so this covers every process a campaign starts.
func childOfCampaign(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// startChild starts cmd from the one thread that starts every worker.
//
// Linux sends the death signal when the thread that forked the child
// ends, not the process: a child forked from a thread that later exits
// would be killed early. Go ends a thread only when a goroutine locked to
// it (runtime.LockOSThread) returns without unlocking; nothing in
// faultline does, but code linked into a user's faultline may. Forking
// from a goroutine locked to its thread for the life of the process rules
// it out.
func startChild(cmd *exec.Cmd) error {
	forkOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for f := range forks {
				f()
			}
		}()
	})
	done := make(chan error, 1)
	forks <- func() { done <- cmd.Start() }
	return <-done
}

var (
	forkOnce sync.Once
	forks    = make(chan func())
)
