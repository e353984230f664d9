package campaign

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// Fuzz runs fuzz.Run's campaign over target in worker processes, one at a
// time. A run that kills its worker (a panic in raft's own goroutines, a
// node's bubble that deadlocks) is run again alone with a journal of its
// events, saved (in opts.Out) as a schedule that ends in the crash, a
// NoPanic or Fatal violation marked Crash, and the campaign resumes at the
// next run. opts.Progress is called about once a second from what the
// worker writes. Without worker processes it is fuzz.Run in this process.
func (w *Workers) Fuzz(target interpose.Target, opts fuzz.Options) (*fuzz.Result, error) {
	if w.Command == nil {
		if opts.Checker == nil {
			opts.Checker = w.Checker
		}
		return fuzz.Run(w.T, target, opts)
	}
	dir, err := newWorkerDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// Workers hand schedules over as files: without an Out of the caller's,
	// they go to the worker's directory and come back in Found.Sched.
	keep := opts.Out != ""
	if !keep {
		opts.Out = filepath.Join(dir, "found")
	}
	runs := opts.Runs
	if runs <= 0 {
		runs = 1000
	}
	total := &fuzz.Result{Target: target.Name(), Seed: opts.Seed, Violations: []fuzz.Found{},
		Kinds: map[string]int{}, Delivered: map[string]int{}}
	start := time.Now()
	if opts.Progress != nil {
		defer watchProgress(filepath.Join(dir, workerProgress), total, start, opts.Progress)()
	}
	end := opts.FirstRun + runs
	if end < opts.FirstRun {
		end = math.MaxInt
	}
	for first := opts.FirstRun; first < end; {
		o := opts
		o.FirstRun, o.Runs, o.Progress = first, end-first, nil
		if opts.Time > 0 {
			if o.Time = opts.Time - time.Since(start); o.Time <= 0 {
				break
			}
		}
		for _, f := range []string{workerResult, workerProgress, workerRun} {
			os.Remove(filepath.Join(dir, f))
		}
		code, stderr, err := w.spawn(dir, Job{Kind: JobFuzz, Target: target.Name(), Fuzz: o})
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
		f, err := w.captureCrash(target, opts, dir, run, c, time.Since(start))
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
	total.Warn()
	for i := range total.Violations {
		v := &total.Violations[i]
		if v.Sched == nil && v.Schedule != "" {
			if v.Sched, err = interpose.ReadFile(v.Schedule); err != nil {
				return nil, err
			}
		}
		if !keep {
			v.Schedule = ""
		}
	}
	total.Elapsed = time.Since(start)
	total.ElapsedS = total.Elapsed.Seconds()
	if total.ElapsedS > 0 {
		total.EventsPerS = float64(total.Events) / total.ElapsedS
	}
	if opts.Progress != nil {
		opts.Progress(fuzz.Progress{Runs: total.Runs, Events: total.Events, Violations: len(total.Violations), Elapsed: total.Elapsed})
	}
	return total, nil
}

// watchProgress calls progress once a second with what the worker writing
// path has done, added to total.
func watchProgress(path string, total *fuzz.Result, start time.Time, progress func(fuzz.Progress)) (stop func()) {
	return everySecond(func() {
		data, err := os.ReadFile(path)
		var p workerProgressRecord
		if err != nil || json.Unmarshal(data, &p) != nil || p.Sofar == nil {
			return
		}
		progress(fuzz.Progress{Runs: total.Runs + p.Sofar.Runs, Events: total.Events + p.Sofar.Events + p.InRun,
			Violations: len(total.Violations) + len(p.Sofar.Violations), Elapsed: time.Since(start)})
	})
}

// everySecond calls fn once a second until stop is called; stop returns
// once fn no longer runs.
func everySecond(fn func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() { close(done); <-finished }
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// captureCrash runs the crashed run alone, journaling its events, and makes
// the schedule that ends in the crash.
func (w *Workers) captureCrash(target interpose.Target, opts fuzz.Options, dir string, run int, first crash,
	after time.Duration) (fuzz.Found, error) {
	journal := filepath.Join(dir, workerJournal)
	os.Remove(journal)
	o := opts
	o.FirstRun, o.Runs, o.Progress, o.Time = run, 1, nil, 0
	_, stderr, err := w.spawn(dir, Job{Kind: JobJournal, Target: target.Name(), Fuzz: o})
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
		Target:    target.Spec(opts.Nodes, fuzz.RunSeed(opts.Seed, run)),
		Events:    events,
		Violation: c.violation(len(events)),
		Origin:    fuzz.RunOrigin(opts, run, ""),
	}
	f := fuzz.Found{Invariant: s.Violation.Invariant, Fingerprint: s.Violation.Fingerprint, Detail: s.Violation.Detail,
		Run: run, First: run, Count: 1, Events: len(events), Flaky: !again, After: after, AfterS: after.Seconds(), Sched: s,
		Strategy: fuzz.StrategyName(opts, run)}
	if opts.Out != "" {
		f.Schedule = filepath.Join(opts.Out, fmt.Sprintf("%s-NoPanic-crash-seed%d-run%d.json", target.Name(), opts.Seed, run))
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

func readRun(dir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dir, workerRun))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(data))
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
	addCounts(&total.Monitors, part.Monitors)
	addCounts(&total.Faults, part.Faults)
	addCounts(&total.Checks, part.Checks)
	for _, p := range part.PassedOver {
		i := slices.IndexFunc(total.PassedOver, func(q fuzz.Passed) bool {
			return q.Upstream == p.Upstream && q.Fingerprint == p.Fingerprint
		})
		if i < 0 {
			total.PassedOver = append(total.PassedOver, p)
			continue
		}
		total.PassedOver[i].Count += p.Count
		total.PassedOver[i].Run = min(total.PassedOver[i].Run, p.Run)
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
			g.First = min(g.First, f.First)
			if !f.Outranks(*g) || f.Schedule == "" {
				return false
			}
			if g.Schedule != "" && g.Schedule != f.Schedule {
				os.Remove(g.Schedule)
			}
			g.Schedule, g.Events, g.Flaky, g.Sched, g.Run, g.Strategy = f.Schedule, f.Events, f.Flaky, f.Sched, f.Run, f.Strategy
			g.Detail, g.Upstream = f.Detail, f.Upstream
			return true
		}
	}
	total.Violations = append(total.Violations, f)
	return true
}

// ReplayCrash replays a schedule that ended in a crash (the file at path, s
// read from it), each time in a worker process of its own, and counts the
// workers that crashed with the same fingerprint.
func (w *Workers) ReplayCrash(path string, s *interpose.Schedule, repeat int) (*fuzz.ReplayReport, error) {
	if w.Command == nil {
		return nil, fmt.Errorf("replaying a crash %w", ErrNoWorkers)
	}
	rep := &fuzz.ReplayReport{Seen: map[string]int{}}
	if s.Violation != nil {
		rep.Expected = s.Violation.Fingerprint
	}
	dir, err := newWorkerDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	for range max(repeat, 1) {
		code, stderr, err := w.spawn(dir, Job{Kind: JobReplay, Target: s.Target.Name, Schedule: abs})
		if err != nil {
			return nil, err
		}
		fp := ""
		if c, ok := parseCrash(stderr); ok {
			fp = c.violation(0).Fingerprint
		} else if code != 0 {
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
