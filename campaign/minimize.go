package campaign

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/minimize"
)

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

// finalReplays is how many times a minimized crash is replayed, each in a
// worker of its own, to say how reliably it reproduces.
const finalReplays = 20

// Minimize shrinks the violating schedule in the file at path (s, read
// from it) within opts.Budget, in worker processes, and writes the result to
// opts.Out (default: FILE with .min.json). A candidate that crashes a worker
// (a panic in raft's own goroutines) with another fingerprint is a
// different bug: it is counted, and a new worker resumes from the last
// checkpoint, skipping it. When the violation is itself a crash, a
// candidate that crashes a worker with it reproduces: once a worker of its
// own crashes on it too, it becomes the checkpoint a new worker resumes
// from, and the result is replayed in finalReplays workers. It returns the
// minimizer's result and how many candidates crashed a worker with another
// bug. Without worker processes it minimizes in this process.
func (w *Workers) Minimize(target interpose.Target, path string, s *interpose.Schedule, opts MinimizeJob) (*minimize.Result, int, error) {
	if s.Violation == nil {
		return nil, 0, fmt.Errorf("schedule %s shows no violation: nothing to minimize", path)
	}
	if opts.Out == "" {
		opts.Out = strings.TrimSuffix(path, filepath.Ext(path)) + ".min.json"
	}
	if opts.Budget <= 0 {
		opts.Budget = 10 * time.Minute
	}
	start := time.Now()
	if w.Command == nil {
		mo := minimize.Options{Budget: opts.Budget, Replays: opts.Replays,
			DPOR: opts.DPOR, ExternalsOnly: opts.ExternalsOnly, Command: opts.Command, Checker: w.Checker}
		if opts.Progress != nil {
			var last time.Time
			mo.Adopt = func(cp minimize.Checkpoint) {
				if time.Since(last) >= time.Second {
					last = time.Now()
					opts.Progress(progressOf(cp, start))
				}
			}
		}
		res, err := minimize.Minimize(w.T, target, s, mo)
		if err != nil {
			return nil, 0, err
		}
		if !res.Flaky {
			err = res.Schedule.WriteFile(opts.Out)
		}
		return res, 0, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, 0, err
	}
	var crash *interpose.Violation
	if s.Violation.Crash {
		crash = s.Violation
	}
	dir, err := newWorkerDir()
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dir)
	budget := opts.Budget
	crashes, adoptions := 0, 0
	final := false
	if opts.Progress != nil {
		defer watchMinimize(filepath.Join(dir, minimizeCheckpoint), start, opts.Progress)()
	}
	for {
		job := opts
		job.Budget = budget - time.Since(start)
		if final || job.Budget <= 0 {
			job.Budget = time.Nanosecond // resume only to write the best schedule so far
		}
		job.Progress = nil
		code, stderr, err := w.spawn(dir, Job{Kind: JobMinimize, Target: s.Target.Name, Schedule: abs, Minimize: &job})
		if err != nil {
			return nil, crashes, err
		}
		if data, err := os.ReadFile(filepath.Join(dir, minimizeResult)); err == nil && (code == 0 || code == 1) {
			var res minimize.Result
			if err := json.Unmarshal(data, &res); err != nil {
				return nil, crashes, fmt.Errorf("worker result: %w", err)
			}
			if crash != nil && !res.Flaky {
				if err := w.checkCrashResult(&res, opts.Out, crash, finalReplays); err != nil {
					return nil, crashes, err
				}
			}
			res.ElapsedS = time.Since(start).Seconds() // every worker's time
			if res.Schedule == nil && !res.Flaky {
				res.Schedule, _ = interpose.ReadFile(opts.Out)
			}
			if m := res.Schedule; m != nil && m.Minimization != nil && crashes+adoptions > 0 {
				// The last worker wrote its own time: the file says every
				// worker's, as the result does.
				m.Minimization.ElapsedS = res.ElapsedS
				if err := m.WriteFile(opts.Out); err != nil {
					return nil, crashes, err
				}
			}
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
			adopted, err := w.adoptCrash(dir, crash)
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
func (w *Workers) adoptCrash(dir string, crash *interpose.Violation) (bool, error) {
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
		rep, err := w.ReplayCrash(path, &check, 1)
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
		return true, writeAtomic(filepath.Join(dir, minimizeCheckpoint), data)
	}
	return false, nil
}

// checkCrashResult replays a crash's minimized schedule in worker processes
// and records how often it crashed them the same way, in the result and in
// the file.
func (w *Workers) checkCrashResult(res *minimize.Result, out string, crash *interpose.Violation, repeat int) error {
	s, err := interpose.ReadFile(out)
	if err != nil {
		return err
	}
	v := *crash
	v.Step = len(s.Events)
	s.Violation = &v
	rep, err := w.ReplayCrash(out, s, repeat)
	if err != nil {
		return err
	}
	res.Reproduced, res.Runs = rep.Reproduced, rep.Runs
	if s.Minimization != nil {
		s.Minimization.Reproduced, s.Minimization.Runs = rep.Reproduced, rep.Runs
		s.Minimization.Flaky = rep.Reproduced < rep.Runs
		res.Minimization.Flaky = s.Minimization.Flaky
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
		writeAtomic(filepath.Join(dir, minimizeCheckpoint), data)
	}
	return nil
}

// progressOf is what a checkpoint says of a minimization in flight.
func progressOf(cp minimize.Checkpoint, start time.Time) MinimizeProgress {
	p := MinimizeProgress{Phase: cp.Phase, Replays: cp.Replays, Elapsed: time.Since(start)}
	if cp.Schedule != nil {
		p.Events = len(cp.Schedule.Events)
	}
	return p
}

// watchMinimize calls progress once a second with what the checkpoint at
// path, which a minimization's worker rewrites at each phase and each
// schedule adopted, says.
func watchMinimize(path string, start time.Time, progress func(MinimizeProgress)) (stop func()) {
	last := MinimizeProgress{Phase: "starting"}
	return everySecond(func() {
		var cp minimize.Checkpoint
		if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &cp) == nil {
			last = progressOf(cp, start)
		}
		last.Elapsed = time.Since(start)
		progress(last)
	})
}
