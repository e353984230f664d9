package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/minimize"
)

// Campaigns run in a worker process: the same binary, with --worker-dir. A
// panic in a goroutine faultline does not own (raft's own) ends the worker,
// not the campaign. The supervisor then runs the crashed run alone with a
// journal of its events, turns the journal and the crash report into a
// schedule, and starts a new worker at the next run. Go's own fuzzer
// (internal/fuzz) works the same way.

// Files in a worker's directory.
const (
	workerResult   = "result.json"
	workerProgress = "progress.json"
	workerJournal  = "journal.jsonl"
	workerRun      = "run"
)

// workerProgressRecord is what a worker writes, at most every
// progressEvery and whenever it finds a new violation: the run it was about
// to start and what it had done before. The index of the run in progress is
// written to its own file before every run.
type workerProgressRecord struct {
	Run   int          `json:"run"`
	Sofar *fuzz.Result `json:"sofar"`
}

// crashOutputLimit bounds how much of a dying worker's stderr is kept.
const crashOutputLimit = 1 << 20

// spawn runs the faultline binary with args and returns its exit code and
// stderr. A worker that crashes exits 2 and prints the panic on stderr.
func (a *app) spawn(args ...string) (int, string, error) {
	return a.spawnTo(io.Discard, args...)
}

// spawnTo is spawn with the worker's stdout written to out.
func (a *app) spawnTo(out io.Writer, args ...string) (int, string, error) {
	cmd := exec.Command(a.self, args...)
	var stderr limitedBuffer
	stderr.limit = crashOutputLimit
	cmd.Stderr = &stderr
	cmd.Stdout = out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String(), nil
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String(), nil
	}
	return -1, "", fmt.Errorf("worker: %w", err)
}

type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// crash is what a dying process printed.
type crash struct {
	Message string // the panic or fatal error, first line
	Where   string // the function that panicked
	Report  string // the whole report, cut
	// Invariant is NoPanic for a panic, Fatal for a run that ended its
	// process with an error (a deadlock in a node's bubble, say).
	Invariant string
}

// runFailed is how a worker reports a run that failed with an error rather
// than a panic: a node's bubble that deadlocked (whichever command ran it,
// so that fuzz, replay and minimize workers agree on the fingerprint), or
// any error of a fuzz run.
var runFailed = []*regexp.Regexp{
	regexp.MustCompile(`^faultline: .*?(hraft: n\d+: bubble: .*)$`),
	regexp.MustCompile(`^faultline: fuzz: run \d+: (.*)$`),
}

var frameArgs = regexp.MustCompile(`^(.*)\(.*\)$`)

// parseCrash finds the panic in a dead process's stderr.
func parseCrash(stderr string) (crash, bool) {
	lines := strings.Split(stderr, "\n")
	var c crash
	for i, l := range lines {
		if c.Message == "" {
			for _, p := range []string{"panic: ", "fatal error: "} {
				if strings.HasPrefix(l, p) {
					c.Message = strings.TrimSuffix(strings.TrimPrefix(l, "panic: "), " [recovered]")
					c.Report = strings.Join(lines[i:min(len(lines), i+40)], "\n")
				}
			}
			continue
		}
		if !strings.HasPrefix(l, "goroutine ") || !strings.Contains(l, "[running") {
			continue
		}
		for _, f := range lines[i+1:] {
			if f == "" {
				break
			}
			if strings.HasPrefix(f, "\t") || strings.HasPrefix(f, "panic(") || strings.HasPrefix(f, "runtime.") ||
				strings.HasPrefix(f, "internal/runtime/") {
				continue // the runtime's own frames say where, not who
			}
			if m := frameArgs.FindStringSubmatch(f); m != nil {
				f = m[1]
			}
			c.Where = f
			break
		}
		break
	}
	if c.Message == "" {
		for _, re := range runFailed {
			for _, l := range lines {
				if m := re.FindStringSubmatch(l); m != nil {
					return crash{Message: m[1], Report: l, Invariant: "Fatal"}, true
				}
			}
		}
	}
	return c, c.Message != ""
}

// violation turns a crash into the violation a schedule records.
func (c crash) violation(step int) *interpose.Violation {
	inv, detail := c.Invariant, "the process crashed: "+c.Message
	if inv == "" {
		inv = "NoPanic"
	} else {
		detail = "a run failed: " + c.Message
	}
	fp := inv + ": " + interpose.StableText(c.Message)
	if c.Where != "" {
		fp += " (" + c.Where + ")"
	}
	return &interpose.Violation{
		Invariant:   inv,
		Fingerprint: fp,
		Detail:      detail,
		Step:        step,
		Crash:       true,
	}
}

// superviseFuzz runs a campaign in worker processes, resuming after each run
// that crashes one. args are the fuzz flags the user gave.
func (a *app) superviseFuzz(study casestudies.Study, opts fuzz.Options, args []string, progress bool) (*fuzz.Result, error) {
	dir, err := os.MkdirTemp("", "faultline-worker-")
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	defer os.RemoveAll(dir)
	runs := opts.Runs
	if runs <= 0 {
		runs = 1000
	}
	total := &fuzz.Result{Target: study.Name, Seed: opts.Seed, Violations: []fuzz.Found{},
		Kinds: map[string]int{}, Delivered: map[string]int{}}
	start := time.Now()
	stop := func() {}
	if progress {
		stop = a.drawProgress(filepath.Join(dir, workerProgress), total, start)
	}
	defer stop()
	end := opts.FirstRun + runs
	if end < opts.FirstRun {
		end = math.MaxInt
	}
	first := opts.FirstRun
	for first < end {
		wargs := append(cloneArgs(args), "--worker-dir", dir, "--first-run", strconv.Itoa(first),
			"--runs", strconv.Itoa(end-first))
		if opts.Time > 0 {
			left := opts.Time - time.Since(start)
			if left <= 0 {
				break
			}
			wargs = append(wargs, "--time", left.String())
		}
		for _, f := range []string{workerResult, workerProgress, workerRun} {
			os.Remove(filepath.Join(dir, f))
		}
		code, stderr, err := a.spawn(wargs...)
		if err != nil {
			return nil, err
		}
		if part, err := readResult(dir); err == nil && (code == 0 || code == 1) {
			merge(total, part)
			break
		}
		c, ok := parseCrash(stderr)
		if !ok {
			return nil, fmt.Errorf("worker exited with status %d: %s", code, firstLine(stderr))
		}
		p, err := readProgress(dir)
		run, rerr := readRun(dir)
		if err != nil || p.Sofar == nil || rerr != nil {
			return nil, fmt.Errorf("worker crashed (%s) before its first run", c.Message)
		}
		merge(total, p.Sofar)
		// Runs between the last record and the crash finished without a
		// violation; their events are not counted.
		total.Runs += run - p.Run + 1
		f, err := a.captureCrash(study, opts, args, dir, run, c, time.Since(start))
		if err != nil {
			return nil, err
		}
		total.Tally(f.Sched)
		if err := keepCrash(total, f); err != nil {
			return nil, err
		}
		if !opts.KeepGoing {
			break
		}
		first = run + 1
	}
	total.Elapsed = time.Since(start)
	total.ElapsedS = total.Elapsed.Seconds()
	if total.ElapsedS > 0 {
		total.EventsPerS = float64(total.Events) / total.ElapsedS
	}
	return total, nil
}

func cloneArgs(s []string) []string { return append([]string(nil), s...) }

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// captureCrash runs the crashed run alone, journaling its events, and saves
// the schedule that ends in the crash.
func (a *app) captureCrash(study casestudies.Study, opts fuzz.Options, args []string, dir string,
	run int, first crash, after time.Duration) (fuzz.Found, error) {
	journal := filepath.Join(dir, workerJournal)
	os.Remove(journal)
	_, stderr, err := a.spawn(append(cloneArgs(args), "--worker-dir", dir, "--only-run", strconv.Itoa(run))...)
	if err != nil {
		return fuzz.Found{}, err
	}
	events, err := readJournal(journal)
	if err != nil {
		return fuzz.Found{}, err
	}
	c, again := parseCrash(stderr)
	if !again {
		c = first
	}
	s := &interpose.Schedule{
		Version:   interpose.Version,
		Target:    study.Target.Spec(opts.Nodes, fuzz.RunSeed(opts.Seed, run)),
		Events:    events,
		Violation: c.violation(len(events)),
		Origin:    &interpose.Origin{Command: opts.Command, FuzzSeed: opts.Seed, Run: run},
	}
	f := fuzz.Found{Invariant: s.Violation.Invariant, Fingerprint: s.Violation.Fingerprint, Detail: s.Violation.Detail,
		Run: run, Count: 1, Events: len(events), Flaky: !again, After: after, AfterS: after.Seconds(), Sched: s}
	if opts.Out != "" {
		f.Schedule = filepath.Join(opts.Out, fmt.Sprintf("%s-NoPanic-crash-seed%d-run%d.json", study.Name, opts.Seed, run))
	}
	return f, nil
}

// keepCrash merges a crash into the campaign's findings and writes its
// schedule when it is the first of its fingerprint or shorter than the one
// kept.
func keepCrash(total *fuzz.Result, f fuzz.Found) error {
	if !mergeFound(total, f) || f.Schedule == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(f.Schedule), 0o755); err != nil {
		return err
	}
	return f.Sched.WriteFile(f.Schedule)
}

func readResult(dir string) (*fuzz.Result, error) {
	data, err := os.ReadFile(filepath.Join(dir, workerResult))
	if err != nil {
		return nil, err
	}
	var r fuzz.Result
	return &r, json.Unmarshal(data, &r)
}

func readProgress(dir string) (workerProgressRecord, error) {
	var p workerProgressRecord
	data, err := os.ReadFile(filepath.Join(dir, workerProgress))
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(data, &p)
}

func readJournal(path string) ([]interpose.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("worker journal: %w", err)
	}
	defer f.Close()
	var events []interpose.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var ev interpose.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			break // the last line may be cut by the crash
		}
		events = append(events, ev)
	}
	return events, nil
}

// merge adds a worker's result to the campaign's.
func merge(total, part *fuzz.Result) {
	total.Nodes = part.Nodes
	total.Runs += part.Runs
	total.Events += part.Events
	for k, v := range part.Kinds {
		total.Kinds[k] += v
	}
	for k, v := range part.Delivered {
		total.Delivered[k] += v
	}
	for _, f := range part.Violations {
		if !mergeFound(total, f) && f.Schedule != "" {
			for _, g := range total.Violations {
				if g.Fingerprint == f.Fingerprint && g.Schedule != f.Schedule {
					os.Remove(f.Schedule) // another worker kept a shorter one
				}
			}
		}
	}
}

// mergeFound adds a finding to the campaign's and reports whether its
// schedule is the one kept: the first of its fingerprint, or a shorter one
// (the longer one's file is removed).
func mergeFound(total *fuzz.Result, f fuzz.Found) bool {
	for i := range total.Violations {
		if g := &total.Violations[i]; g.Fingerprint == f.Fingerprint {
			g.Count += f.Count
			if f.Events >= g.Events || f.Schedule == "" {
				return false
			}
			if g.Schedule != "" && g.Schedule != f.Schedule {
				os.Remove(g.Schedule)
			}
			g.Schedule, g.Events, g.Flaky, g.Sched = f.Schedule, f.Events, f.Flaky, f.Sched
			return true
		}
	}
	total.Violations = append(total.Violations, f)
	return true
}

// userCommand is the command line as the user typed it: a worker's own flags
// come after --worker-dir, which the supervisor appends.
func userCommand(argv []string) string {
	for i, arg := range argv {
		if arg == "--worker-dir" {
			argv = argv[:i]
			break
		}
	}
	return "faultline " + strings.Join(argv[1:], " ")
}

// drawProgress shows a worker's progress on a terminal, once a second.
func (a *app) drawProgress(path string, total *fuzz.Result, start time.Time) (stop func()) {
	if !a.tty {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			data, err := os.ReadFile(path)
			var p workerProgressRecord
			if err != nil || json.Unmarshal(data, &p) != nil {
				continue
			}
			if p.Sofar == nil {
				continue
			}
			el := time.Since(start).Seconds()
			events := total.Events + p.Sofar.Events
			fmt.Fprintf(a.stderr, "\r%d runs, %d events, %.0f events/s, %d violations  ",
				total.Runs+p.Sofar.Runs, events, float64(events)/max(el, 1e-9), len(total.Violations)+len(p.Sofar.Violations))
		}
	}()
	return func() {
		close(done)
		fmt.Fprintln(a.stderr)
	}
}

func readRun(dir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dir, workerRun))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(data))
}

// progressEvery bounds how often a worker writes its whole result.
const progressEvery = 200 * time.Millisecond

// progressWriter records, before each run of a worker, where it is.
type progressWriter struct {
	dir        string
	last       time.Time
	violations int
}

// mark records the run in progress.
func (w *progressWriter) mark(run int) {
	os.WriteFile(filepath.Join(w.dir, workerRun), strconv.AppendInt(nil, int64(run), 10), 0o644)
}

func (w *progressWriter) before(run int, sofar *fuzz.Result) {
	w.mark(run)
	found := 0
	for _, f := range sofar.Violations {
		found += f.Count
	}
	if time.Since(w.last) < progressEvery && found == w.violations && !w.last.IsZero() {
		return
	}
	w.last, w.violations = time.Now(), found
	data, _ := json.Marshal(workerProgressRecord{Run: run, Sofar: sofar})
	tmp := filepath.Join(w.dir, workerProgress+".tmp")
	if os.WriteFile(tmp, data, 0o644) == nil {
		os.Rename(tmp, filepath.Join(w.dir, workerProgress))
	}
}

// replayCrashes replays a schedule that ended in a crash, each time in a
// worker process of its own, and counts the workers that crashed with the
// same fingerprint.
func (a *app) replayCrashes(path string, s *interpose.Schedule, repeat int) (*fuzz.ReplayReport, error) {
	if a.self == "" {
		return nil, errors.New("replaying a crash needs the faultline binary")
	}
	rep := &fuzz.ReplayReport{Expected: s.Violation.Fingerprint, Seen: map[string]int{}}
	dir, err := os.MkdirTemp("", "faultline-worker-")
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	defer os.RemoveAll(dir)
	for range repeat {
		code, stderr, err := a.spawn("replay", path, "--worker-dir", dir)
		if err != nil {
			return nil, err
		}
		fp := ""
		if c, ok := parseCrash(stderr); ok {
			fp = c.violation(0).Fingerprint
		} else if code == 2 {
			return nil, fmt.Errorf("replay worker: %s", firstLine(stderr))
		}
		rep.Runs++
		rep.Executions++
		rep.Seen[fp]++
		if fp == rep.Expected {
			rep.Reproduced++
			rep.FirstReproduced++
		}
	}
	return rep, nil
}

// Files of a minimization worker.
const (
	minimizeCandidate  = "candidate"
	minimizeCrashes    = "crashes"
	minimizeCheckpoint = "checkpoint.json"
	minimizeResult     = "minimize.json"
)

// maxCrashRestarts bounds how often a minimization restarts after a
// candidate crashed its worker with another bug; maxAdoptions how often a
// crash's minimization restarts from a smaller crashing candidate.
const (
	maxCrashRestarts = 50
	maxAdoptions     = 2000
)

// minimizeCandidateFile is where a crash's minimization worker writes each
// candidate before replaying it.
const minimizeCandidateFile = "candidate.json"

// superviseMinimize runs a minimization in worker processes, within budget.
// A candidate that crashes a worker (a panic in raft's own goroutines) with
// another fingerprint is a different bug: it is recorded, and a new worker
// resumes from the last checkpoint, skipping it. When the violation being
// minimized is itself a crash (crash), a candidate that crashes with it
// reproduces: it becomes the checkpoint a new worker resumes from, and the
// result's final check replays it in worker processes (repeat times).
func (a *app) superviseMinimize(args []string, budget time.Duration, crash *interpose.Violation, out string, repeat int) (*minimize.Result, int, error) {
	dir, err := os.MkdirTemp("", "faultline-worker-")
	if err != nil {
		return nil, 0, fmt.Errorf("worker: %w", err)
	}
	defer os.RemoveAll(dir)
	crashes, adoptions := 0, 0
	start := time.Now()
	final := false
	for {
		left := budget - time.Since(start)
		if final || left <= 0 {
			left = time.Nanosecond // resume only to write the best schedule so far
		}
		code, stderr, err := a.spawn(append(cloneArgs(args), "--worker-dir", dir, "--budget", left.String())...)
		if err != nil {
			return nil, crashes, err
		}
		if data, err := os.ReadFile(filepath.Join(dir, minimizeResult)); err == nil && (code == 0 || code == 1) {
			var res minimize.Result
			if err := json.Unmarshal(data, &res); err != nil {
				return nil, crashes, fmt.Errorf("worker result: %w", err)
			}
			if crash != nil && !res.Flaky {
				if err := a.checkCrashResult(&res, out, crash, repeat); err != nil {
					return nil, crashes, err
				}
			}
			res.ElapsedS = time.Since(start).Seconds() // every worker's time
			return &res, crashes, nil
		}
		c, ok := parseCrash(stderr)
		if !ok {
			return nil, crashes, fmt.Errorf("worker exited with status %d: %s", code, firstLine(stderr))
		}
		key, err := os.ReadFile(filepath.Join(dir, minimizeCandidate))
		if err != nil {
			return nil, crashes, fmt.Errorf("worker crashed (%s) outside a candidate", c.Message)
		}
		if final {
			return nil, crashes, fmt.Errorf("minimize: the last worker crashed too (%s)", c.Message)
		}
		final = time.Since(start) > budget
		if crash != nil && c.violation(0).Fingerprint == crash.Fingerprint {
			adopted, err := a.adoptCrash(dir, crash)
			if err != nil {
				return nil, crashes, err
			}
			if adoptions++; adoptions >= maxAdoptions {
				final = true // enough restarts: keep the best schedule so far
			}
			if !adopted {
				// Neither candidate crashes alone: skip the one blamed.
				if err := appendLine(filepath.Join(dir, minimizeCrashes), string(key)); err != nil {
					return nil, crashes, err
				}
			}
			continue
		}
		crashes++
		if crashes > maxCrashRestarts {
			return nil, crashes, fmt.Errorf("minimize: %d candidates crashed the process; the last: %s", crashes, c.Message)
		}
		if err := appendLine(filepath.Join(dir, minimizeCrashes), string(key)); err != nil {
			return nil, crashes, err
		}
	}
}

// appendLine appends a line to a file.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%s\n", line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// adoptCrash makes the candidate that crashed a worker with the violation
// being minimized the checkpoint, when it is shorter than the current one
// (or there is none) and crashes a worker of its own the same way, and
// reports whether it did. The check matters: raft's goroutines of one
// replay can still run, and panic, while the next candidate is replayed,
// so the candidate before the last is tried too.
func (a *app) adoptCrash(dir string, crash *interpose.Violation) (bool, error) {
	var cp minimize.Checkpoint
	if data, err := os.ReadFile(filepath.Join(dir, minimizeCheckpoint)); err == nil {
		if err := json.Unmarshal(data, &cp); err != nil {
			return false, fmt.Errorf("worker checkpoint: %w", err)
		}
	}
	for _, name := range []string{minimizeCandidateFile, minimizeCandidateFile + ".prev"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var cand interpose.Schedule
		if err := json.Unmarshal(data, &cand); err != nil {
			return false, fmt.Errorf("minimize: crashed candidate: %w", err)
		}
		if cp.Schedule != nil && len(cand.Events) >= len(cp.Schedule.Events) {
			continue
		}
		v := *crash
		v.Step = len(cand.Events)
		check := cand
		check.Violation = &v
		path := filepath.Join(dir, "check.json")
		if err := check.WriteFile(path); err != nil {
			return false, err
		}
		rep, err := a.replayCrashes(path, &check, 1)
		if err != nil {
			return false, err
		}
		if rep.Reproduced == 0 {
			continue
		}
		cp.Schedule = &cand
		data, err = json.Marshal(cp)
		if err != nil {
			return false, err
		}
		tmp := filepath.Join(dir, minimizeCheckpoint+".tmp")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return false, err
		}
		return true, os.Rename(tmp, filepath.Join(dir, minimizeCheckpoint))
	}
	return false, nil
}

// checkCrashResult replays a crash's minimized schedule in worker processes
// and records how often it crashed them the same way, in the result and in
// the file.
func (a *app) checkCrashResult(res *minimize.Result, out string, crash *interpose.Violation, repeat int) error {
	s, err := interpose.ReadFile(out)
	if err != nil {
		return err
	}
	v := *crash
	v.Step = len(s.Events)
	s.Violation = &v
	rep, err := a.replayCrashes(out, s, repeat)
	if err != nil {
		return err
	}
	res.Reproduced, res.Runs = rep.Reproduced, rep.Runs
	if s.Minimization != nil {
		s.Minimization.Reproduced, s.Minimization.Runs = rep.Reproduced, rep.Runs
	}
	return s.WriteFile(out)
}

// minimizeWorkerHooks wires a worker's minimization to its directory: the
// candidates that crashed earlier workers are skipped, each candidate's key
// is written before its replay, and every adopted schedule is checkpointed.
func minimizeWorkerHooks(dir string, opts *minimize.Options) error {
	skip := map[uint64]bool{}
	if data, err := os.ReadFile(filepath.Join(dir, minimizeCrashes)); err == nil {
		for _, l := range strings.Fields(string(data)) {
			if k, err := strconv.ParseUint(l, 16, 64); err == nil {
				skip[k] = true
			}
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, minimizeCheckpoint)); err == nil {
		var cp minimize.Checkpoint
		if err := json.Unmarshal(data, &cp); err != nil {
			return fmt.Errorf("worker checkpoint: %w", err)
		}
		opts.Resume = &cp
	}
	opts.Skip = func(k uint64) bool { return skip[k] }
	opts.Before = func(k uint64, cand *interpose.Schedule) {
		if opts.Crash {
			// Written first: the key's file says the candidate is complete.
			if data, err := json.Marshal(cand); err == nil {
				cur := filepath.Join(dir, minimizeCandidateFile)
				os.Rename(cur, cur+".prev")
				os.WriteFile(cur, data, 0o644)
			}
		}
		os.WriteFile(filepath.Join(dir, minimizeCandidate), []byte(strconv.FormatUint(k, 16)), 0o644)
	}
	opts.Adopt = func(cp minimize.Checkpoint) {
		data, err := json.Marshal(cp)
		if err != nil {
			return
		}
		tmp := filepath.Join(dir, minimizeCheckpoint+".tmp")
		if os.WriteFile(tmp, data, 0o644) == nil {
			os.Rename(tmp, filepath.Join(dir, minimizeCheckpoint))
		}
	}
	return nil
}
