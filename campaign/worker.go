package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/baseline"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// Job kinds: what a worker process is asked to do.
const (
	// JobFuzz runs fuzz.Run over Job.Fuzz's range of runs, writing its
	// progress before each run and its result at the end.
	JobFuzz = "fuzz"
	// JobJournal runs the one run Job.Fuzz.FirstRun, journaling each event
	// before applying it, so that a run that kills the process leaves what
	// it did.
	JobJournal = "journal"
	// JobServe is a campaign's worker: it runs the ranges of runs it is
	// asked for on a pipe and answers each on another.
	JobServe = "serve"
	// JobReplay replays Job.Schedule once: a run that may crash the process.
	JobReplay = "replay"
	// JobMinimize minimizes Job.Schedule within Job.Minimize.Budget,
	// checkpointing in the worker's directory.
	JobMinimize = "minimize"
	// JobBaseline runs the real-clock baseline (Job.Baseline) on the
	// target's hashicorp/raft options: raft on real goroutines can panic in
	// its own, which ends the process.
	JobBaseline = "baseline"
	// JobReplayRate measures a replay rate (Job.ReplayRate), writing where
	// it is before each run and each replay: raft can panic in its own
	// goroutines, which ends the process.
	JobReplayRate = "replay-rate"
	// JobProfile runs Job.Fuzz under a CPU profile, in stretches
	// (Workers.Profile): raft can panic in its own goroutines, which ends
	// the process.
	JobProfile = "profile"
)

// Job is what a worker process is asked to do. The parent writes it as
// job.json in the worker's directory; the worker reads it there (Work).
type Job struct {
	Kind string `json:"kind"`
	// Target is the target's name, which the worker resolves (Env.Lookup).
	Target string `json:"target"`
	// Fuzz is the campaign, with the target's workload applied: everything
	// but its functions, which the worker takes from its Env.
	Fuzz fuzz.Options `json:"fuzz"`
	// Schedule is the file a replay or a minimization reads.
	Schedule string `json:"schedule,omitempty"`
	// Minimize configures a minimization.
	Minimize *MinimizeJob `json:"minimize,omitempty"`
	// Baseline configures a baseline run.
	Baseline *baseline.Options `json:"baseline,omitempty"`
	// ReplayRate configures a replay-rate measurement.
	ReplayRate *fuzz.ReplayRateOptions `json:"replay_rate,omitempty"`
	// Stretch is how many runs a profile job profiles at a time (0: 100).
	Stretch int `json:"stretch,omitempty"`
}

// MinimizeJob configures a minimization in worker processes. Its zero value
// minimizes for ten minutes with the minimizer's defaults and writes the
// result next to the input, as FILE.min.json.
type MinimizeJob struct {
	// Budget bounds the minimization (0: 10 minutes).
	Budget time.Duration `json:"budget"`
	// Replays, DPOR and ExternalsOnly are minimize.Options'.
	Replays       int  `json:"replays,omitempty"`
	DPOR          int  `json:"dpor,omitempty"`
	ExternalsOnly bool `json:"externals_only,omitempty"`
	// Command is recorded in the result's origin.
	Command string `json:"command,omitempty"`
	// Out is the file the minimized schedule is written to.
	Out string `json:"out,omitempty"`
	// Progress, if set, is called about once a second with the phase in
	// progress, the schedule's length so far and the replays made.
	Progress func(MinimizeProgress) `json:"-"`
}

// MinimizeProgress is a minimization in flight.
type MinimizeProgress struct {
	Phase   string
	Events  int
	Replays int
	Elapsed time.Duration
}

// Workers runs faultline's work in worker processes: the same program,
// re-executed so that it calls Work, as Go's own fuzzer runs its workers. A
// panic in a goroutine faultline does not own (raft's own) then ends a
// worker, and becomes a finding, instead of ending the program.
//
// Its zero value runs nothing in other processes: Fuzz and Minimize then run
// in this process, under T (tests do this), and what needs workers (a
// campaign, replaying a crash) is an error.
type Workers struct {
	// Command returns the command of a worker process that runs the job in
	// dir (dir/job.json): for the faultline command, its binary with a
	// hidden subcommand; under go test, the test binary with the test's
	// name. nil: no worker processes.
	Command func(dir string) *exec.Cmd
	// T is the test systems run under in this process, when there are no
	// worker processes.
	T *testing.T
	// Checker returns the checker of each run in this process (nil: Raft's
	// invariants). A worker takes its own from its Env.
	Checker func() interpose.Checker

	mu      sync.Mutex
	running map[*os.Process]bool
	killed  bool
}

// ErrNoWorkers is returned by what needs worker processes when Workers has
// no Command.
var ErrNoWorkers = errors.New("needs worker processes (run it from the faultline command or faultlinetest)")

// Kill kills every worker process running and makes the ones started later
// fail at once: for a campaign stopped at once.
func (w *Workers) Kill() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.killed = true
	for p := range w.running {
		p.Kill()
	}
}

// start starts a worker process running job in dir, its stderr kept in a
// bounded buffer. The caller waits for it with wait.
func (w *Workers) start(dir string, job Job, stdout io.Writer, extra ...*os.File) (*exec.Cmd, *limitedBuffer, error) {
	if w.Command == nil {
		return nil, nil, ErrNoWorkers
	}
	if err := writeJob(dir, job); err != nil {
		return nil, nil, err
	}
	cmd := w.Command(dir)
	stderr := &limitedBuffer{limit: crashOutputLimit}
	cmd.Stderr = stderr
	if stdout == nil {
		stdout = io.Discard
	}
	cmd.Stdout = stdout
	cmd.ExtraFiles = extra
	childOfCampaign(cmd)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.killed {
		return nil, nil, errors.New("worker: stopped")
	}
	if err := startChild(cmd); err != nil {
		return nil, nil, fmt.Errorf("worker: %w", err)
	}
	if w.running == nil {
		w.running = map[*os.Process]bool{}
	}
	w.running[cmd.Process] = true
	return cmd, stderr, nil
}

// wait waits for a worker started by start and returns its exit code (-1:
// it did not start or was killed by a signal).
func (w *Workers) wait(cmd *exec.Cmd) int {
	err := cmd.Wait()
	w.mu.Lock()
	delete(w.running, cmd.Process)
	w.mu.Unlock()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// spawn runs a worker process to its end and returns its exit code and
// stderr. A worker whose run crashed exits 2 and prints the panic on stderr.
func (w *Workers) spawn(dir string, job Job) (int, string, error) {
	cmd, stderr, err := w.start(dir, job, nil)
	if err != nil {
		return -1, "", err
	}
	return w.wait(cmd), stderr.String(), nil
}

// jobFile is the job's name in a worker's directory.
const jobFile = "job.json"

func writeJob(dir string, job Job) error {
	data, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return writeAtomic(filepath.Join(dir, jobFile), data)
}

// writeAtomic writes a file whole or not at all.
// writeResult writes a job's result, v as JSON, to its directory.
func writeResult(dir string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, workerResult), data)
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// newWorkerDir makes a temporary directory for one supervised worker, with
// its owner's PID, so that one left by a killed process is removed by the
// next campaign (RemoveStale).
func newWorkerDir() (string, error) {
	dir, err := MkdirTemp("faultline-worker-")
	if err != nil {
		return "", fmt.Errorf("worker: %w", err)
	}
	return dir, nil
}

// crashOutputLimit bounds how much of a dying worker's stderr is kept.
const crashOutputLimit = 1 << 20

// limitedBuffer keeps the first limit bytes written to it.
type limitedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// limit bounds the bytes kept.
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.b.Len(); room > 0 {
		b.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// ReadJob reads the job in a worker's directory.
func ReadJob(dir string) (Job, error) {
	var job Job
	data, err := os.ReadFile(filepath.Join(dir, jobFile))
	if err != nil {
		return job, fmt.Errorf("worker: %w", err)
	}
	if err := json.Unmarshal(data, &job); err != nil {
		return job, fmt.Errorf("worker: %s: %w", jobFile, err)
	}
	return job, nil
}
