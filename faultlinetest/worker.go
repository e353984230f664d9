package faultlinetest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/interpose"
)

// workerDir is set in a worker process: the test binary, re-executed by a
// test's Fuzz with the test's name, to run the job in this directory.
var workerDir = flag.String("faultline.worker", "", "run as a faultline worker process: the job in this directory (internal)")

// calls counts the Fuzz calls of each running test: only a test's first
// call runs in worker processes (a worker re-runs the test to its first
// call, where it runs the job).
var calls = struct {
	sync.Mutex
	n map[*testing.T]int
}{n: map[*testing.T]int{}}

// firstCall reports whether this is t's first call of Fuzz.
func firstCall(t *testing.T) bool {
	calls.Lock()
	defer calls.Unlock()
	calls.n[t]++
	if calls.n[t] == 1 {
		t.Cleanup(func() {
			calls.Lock()
			delete(calls.n, t)
			calls.Unlock()
		})
	}
	return calls.n[t] == 1
}

// work runs the job a worker process was started for, at the test's first
// Fuzz call, and ends the process: nothing else of the test runs in a worker.
func work(t *testing.T, target interpose.Target, opts Options) {
	job, err := campaign.ReadJob(*workerDir)
	if err == nil && job.Target != target.Name() {
		err = fmt.Errorf("the first Fuzz of %s is for target %q, the job for %q: give each target a test or subtest of its own",
			t.Name(), target.Name(), job.Target)
	}
	if err == nil {
		err = campaign.Work(campaign.Env{T: t, Checker: opts.Fuzz.Checker, Known: opts.Fuzz.Known,
			Lookup: func(string) (interpose.Target, error) { return target, nil }}, *workerDir)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "faultline: %s\n", oneLine(err.Error()))
		os.Exit(2)
	}
	os.Exit(0)
}

// workers are the worker processes of a test: its binary, re-executed to
// run only this test. None when opts.InProcess is set, for a test's later
// calls of Fuzz, or when the binary cannot be found.
func workers(t *testing.T, opts Options) *campaign.Workers {
	w := &campaign.Workers{T: t, Checker: opts.Fuzz.Checker}
	if opts.InProcess || !firstCall(t) {
		return w
	}
	exe, err := os.Executable()
	if err != nil {
		return w
	}
	args := []string{"-test.run=" + runPattern(t.Name())}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	w.Command = func(dir string) *exec.Cmd {
		return exec.Command(exe, append(args, "-faultline.worker="+dir)...)
	}
	return w
}
