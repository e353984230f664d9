// Package cputime reads the CPU time a process has used, for measurements
// that put faultline's cost beside another's (measure baseline). It is
// never read by anything that decides what a run does.
package cputime

import (
	"syscall"
	"time"
)

// Self is the user and system CPU time so far of this process.
func Self() time.Duration { return usage(syscall.RUSAGE_SELF) }

// WithChildren is Self plus the CPU time of the child processes that have
// ended and been waited for (a faultline worker process).
func WithChildren() time.Duration { return Self() + usage(syscall.RUSAGE_CHILDREN) }

func usage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
