package campaign

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/minimize"
)

// Env is what a worker process brings that a job cannot carry.
type Env struct {
	// T is the test systems run under (testing.Main's, for a command).
	T *testing.T
	// Lookup resolves the job's target by name.
	Lookup func(name string) (interpose.Target, error)
	// Checker returns the checker of each run (nil: Raft's invariants).
	Checker func() interpose.Checker
	// Known, if set, is fuzz.Options.Known for the runs of a fuzz job.
	Known func(fingerprint string) bool
}

// Files in a worker's directory.
const (
	workerResult   = "result.json"
	workerProgress = "progress.json"
	workerJournal  = "journal.jsonl"
	workerRun      = "run"
)

// Work runs the job in dir, in this process: the worker side of Workers. The
// program Workers.Command starts calls it. A serve job reads its requests on
// file descriptor 3 and answers on 4. An error is the run's: the caller
// prints it as "faultline: ERROR" on one line of stderr, which is how the
// parent tells a run that failed (a node's bubble that deadlocked) from a
// worker that could not start.
func Work(env Env, dir string) error {
	job, err := ReadJob(dir)
	if err != nil {
		return err
	}
	target, err := env.Lookup(job.Target)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	opts := job.Fuzz
	opts.Checker, opts.Known = env.Checker, env.Known
	switch job.Kind {
	case JobFuzz, JobJournal:
		return fuzzJob(env.T, target, opts, dir, job.Kind == JobJournal)
	case JobServe:
		in, out := os.NewFile(3, "requests"), os.NewFile(4, "replies")
		if in == nil || out == nil {
			return errors.New("worker: serve: no pipes")
		}
		return serve(env.T, target, opts, dir, in, out)
	case JobReplay:
		s, err := interpose.ReadFile(job.Schedule)
		if err != nil {
			return err
		}
		_, err = fuzz.Replay(env.T, target, s, fuzz.ReplayOptions{Checker: env.Checker})
		return err
	case JobMinimize:
		return minimizeJob(env, target, job, dir)
	case JobBaseline:
		return baselineJob(target, job, dir)
	case JobReplayRate:
		return replayRateJob(env, target, job, dir)
	case JobProfile:
		return profileJob(env.T, target, opts, dir, job.Stretch)
	}
	return fmt.Errorf("worker: unknown job %q", job.Kind)
}

// fuzzJob runs the campaign in this process, writing its progress before
// each run and its result at the end. A journal job runs the one run
// opts.FirstRun and journals its events.
func fuzzJob(t *testing.T, target interpose.Target, opts fuzz.Options, dir string, journal bool) error {
	opts.Progress = nil
	pw := &progressWriter{dir: dir}
	opts.OnRun = pw.before
	opts.OnStep = pw.step
	if journal {
		f, err := os.Create(filepath.Join(dir, workerJournal))
		if err != nil {
			return err
		}
		defer f.Close()
		opts.Runs, opts.Journal, opts.Out = 1, f, ""
	}
	res, err := fuzz.Run(t, target, opts)
	if err != nil {
		return err
	}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, workerResult), data, 0o644)
}

// workerProgressRecord is what a worker writes, at most every
// progressEvery and whenever it finds a new violation: the run it was about
// to start and what it had done before. The index of the run in progress is
// written to its own file before every run.
type workerProgressRecord struct {
	Run   int          `json:"run"`
	Sofar *fuzz.Result `json:"sofar"`
	// InRun is how many events the run in progress has applied.
	InRun int `json:"in_run,omitempty"`
}

// progressEvery bounds how often a worker writes its whole result.
const progressEvery = 200 * time.Millisecond

// progressWriter records, before each run of a worker, where it is.
type progressWriter struct {
	dir        string
	last       time.Time
	violations int
	run        int
	sofar      *fuzz.Result
}

// mark records the run in progress.
func (w *progressWriter) mark(run int) {
	os.WriteFile(filepath.Join(w.dir, workerRun), strconv.AppendInt(nil, int64(run), 10), 0o644)
}

func (w *progressWriter) before(run int, sofar *fuzz.Result) {
	w.mark(run)
	w.run, w.sofar = run, sofar
	found := 0
	for _, f := range sofar.Violations {
		found += f.Count
	}
	if time.Since(w.last) < progressEvery && found == w.violations && !w.last.IsZero() {
		return
	}
	w.last, w.violations = time.Now(), found
	if data, err := json.Marshal(workerProgressRecord{Run: run, Sofar: sofar}); err == nil {
		writeAtomic(filepath.Join(w.dir, workerProgress), data)
	}
}

// step records, at most every progressEvery, how far the run in progress
// has gone: a run of millions of events shows progress too.
func (w *progressWriter) step(run, events int) {
	if w.sofar == nil || time.Since(w.last) < progressEvery {
		return
	}
	w.last = time.Now()
	if data, err := json.Marshal(workerProgressRecord{Run: run, Sofar: w.sofar, InRun: events}); err == nil {
		writeAtomic(filepath.Join(w.dir, workerProgress), data)
	}
}

// serveRequest asks a worker for the runs [First, First+Count). Known are
// the fingerprints the campaign has recorded: their runs are counted, not
// confirmed or sent.
type serveRequest struct {
	First int      `json:"first"`
	Count int      `json:"count"`
	Known []string `json:"known,omitempty"`
}

// serveReply is what a worker did with a request.
type serveReply struct {
	First    int       `json:"first"`
	Count    int       `json:"count"`
	Runs     int       `json:"runs"`
	Events   int       `json:"events"`
	ElapsedS float64   `json:"elapsed_s"`
	RSSKB    int64     `json:"rss_kb"`
	HeapKB   int64     `json:"heap_kb"`
	RSSNowKB int64     `json:"rss_now_kb"`
	Found    []Finding `json:"found,omitempty"`
	// Monitors is the runs' liveness coverage (fuzz.Result.Monitors).
	Monitors map[string]int `json:"monitors,omitempty"`
	// Faults and Checks are the runs' coverage (fuzz.Result).
	Faults map[string]int `json:"faults,omitempty"`
	Checks map[string]int `json:"checks,omitempty"`
}

// serve is a campaign's worker: it reads one request per line, runs the
// range of runs it names and answers with one line. It writes the index of
// the run in progress to its directory before each run, so that when a run
// kills the process the campaign knows which one did. It ends at the end of
// its input.
func serve(t *testing.T, target interpose.Target, opts fuzz.Options, dir string, requests, replies *os.File) error {
	opts.Progress, opts.Out, opts.Time, opts.KeepGoing = nil, "", 0, true
	if os.Getenv("GOGC") == "" {
		// A worker's live heap is small (tens of MiB) and its garbage is
		// many short walks: collecting less often buys about a sixth more
		// events/s (measure scaling) for a few more MiB.
		debug.SetGCPercent(400)
	}
	pw := &progressWriter{dir: dir}
	in := bufio.NewScanner(requests)
	in.Buffer(make([]byte, 0, 64<<10), 64<<20)
	out := json.NewEncoder(replies)
	known := map[string]bool{}
	for in.Scan() {
		var req serveRequest
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			return fmt.Errorf("worker: bad request: %w", err)
		}
		for _, fp := range req.Known {
			known[fp] = true
		}
		o := opts
		o.FirstRun, o.Runs = req.First, req.Count
		o.Known = func(fp string) bool { return known[fp] }
		o.OnRun = func(run int, _ *fuzz.Result) { pw.mark(run) }
		res, err := fuzz.Run(t, target, o)
		if err != nil {
			return err
		}
		now := currentRSS() // before the peak, which it cannot then exceed
		reply := serveReply{First: req.First, Count: req.Count, Runs: res.Runs, Events: res.Events,
			ElapsedS: res.ElapsedS, RSSNowKB: now, RSSKB: peakRSS(), HeapKB: liveHeap(), Monitors: res.Monitors,
			Faults: res.Faults, Checks: res.Checks}
		for _, v := range res.Violations {
			f := Finding{Fingerprint: v.Fingerprint, Invariant: v.Invariant, Detail: v.Detail,
				Run: v.Run, Count: v.Count, Events: v.Events, Flaky: v.Flaky, AfterS: v.AfterS, Strategy: v.Strategy,
				Upstream: v.Upstream}
			if v.Sched != nil {
				if f.Schedule, err = json.Marshal(v.Sched); err != nil {
					return err
				}
			}
			reply.Found = append(reply.Found, f)
		}
		if err := out.Encode(reply); err != nil {
			return err
		}
	}
	return in.Err()
}

// minimizeJob minimizes in this process, resuming from the directory's
// checkpoint and skipping the candidates that crashed earlier workers; the
// result goes to minimizeResult, the schedule to job.Minimize.Out.
func minimizeJob(env Env, target interpose.Target, job Job, dir string) error {
	s, err := interpose.ReadFile(job.Schedule)
	if err != nil {
		return err
	}
	if s.Violation == nil {
		return fmt.Errorf("schedule %s shows no violation: nothing to minimize", job.Schedule)
	}
	mj := job.Minimize
	if mj == nil {
		mj = &MinimizeJob{}
	}
	opts := minimize.Options{Budget: mj.Budget, Replays: mj.Replays, DPOR: mj.DPOR, ExternalsOnly: mj.ExternalsOnly,
		Command: mj.Command, Checker: env.Checker, Crash: s.Violation.Crash}
	if err := minimizeWorkerHooks(dir, &opts); err != nil {
		return err
	}
	res, err := minimize.Minimize(env.T, target, s, opts)
	if err != nil {
		return err
	}
	if !res.Flaky {
		if err := res.Schedule.WriteFile(mj.Out); err != nil {
			return err
		}
	}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, minimizeResult), data, 0o644)
}
