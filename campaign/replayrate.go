package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// replayRateProgress is what a replay-rate worker writes before each run it
// walks (Row nil) and each replay it makes (Row: the schedule's replays so
// far): where it was if it dies.
type replayRateProgress struct {
	Run   int              `json:"run"`
	Row   *fuzz.ReplayRow  `json:"row,omitempty"`
	Sofar *fuzz.ReplayRate `json:"sofar"`
}

// MeasureReplay is fuzz.MeasureReplay in worker processes when w has a
// command (in this process otherwise). A run that kills its worker (raft
// panicking in one of its own goroutines) does not end the measurement: a
// run that did so while it was walked is recorded again from a journal, as
// a campaign keeps a crash, and replayed each time in a process of its own
// (Workers.ReplayCrash); a replay that did so counts as neither identical
// nor reproduced, and its schedule gets no more replays. Both mark their
// row Crashed, and a fresh worker goes on with the next run.
func (w *Workers) MeasureReplay(target interpose.Target, opts fuzz.ReplayRateOptions) (*fuzz.ReplayRate, error) {
	if w.Command == nil {
		if opts.Campaign.Checker == nil {
			opts.Campaign.Checker = w.Checker
		}
		return fuzz.MeasureReplay(w.T, target, opts)
	}
	want, repeat, maxRuns := opts.Bounds()
	dir, err := newWorkerDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	total := &fuzz.ReplayRate{Target: target.Name(), Attempts: max(opts.Attempts, 1)}
	for next := opts.FirstRun; total.Schedules < want && total.Searched < maxRuns; {
		o := opts
		o.FirstRun, o.Schedules, o.Repeat, o.MaxRuns, o.OnStep = next, want-total.Schedules, repeat, maxRuns-total.Searched, nil
		for _, f := range []string{workerResult, workerProgress} {
			os.Remove(filepath.Join(dir, f))
		}
		code, stderr, err := w.spawn(dir, Job{Kind: JobReplayRate, Target: target.Name(), ReplayRate: &o})
		if err != nil {
			return nil, err
		}
		if data, err := os.ReadFile(filepath.Join(dir, workerResult)); err == nil && code == 0 {
			var part fuzz.ReplayRate
			if err := json.Unmarshal(data, &part); err != nil {
				return nil, fmt.Errorf("measure replay: worker result: %w", err)
			}
			total.Add(&part)
			break
		}
		c, ok := parseCrash(stderr)
		if !ok {
			return nil, fmt.Errorf("measure replay: worker exited with status %d: %s", code, firstLine(stderr))
		}
		var p replayRateProgress
		data, err := os.ReadFile(filepath.Join(dir, workerProgress))
		if err == nil {
			err = json.Unmarshal(data, &p)
		}
		if err != nil || p.Sofar == nil {
			return nil, fmt.Errorf("measure replay: worker crashed (%s) before its first run", c.Message)
		}
		total.Add(p.Sofar)
		if p.Row != nil {
			row := *p.Row
			row.Replays++
			row.Crashed = true
			total.AddRow(row)
		} else {
			total.Searched++
			row, err := w.replayCrashedRun(target, o.Campaign, dir, p.Run, c, repeat)
			if err != nil {
				return nil, err
			}
			total.AddRow(row)
		}
		next = p.Run + 1
	}
	return total, nil
}

// replayCrashedRun records run again from a journal (its walk killed its
// worker with c) and replays the schedule repeat times, each in a process of
// its own.
func (w *Workers) replayCrashedRun(target interpose.Target, opts fuzz.Options, dir string, run int, c crash, repeat int) (fuzz.ReplayRow, error) {
	f, err := w.captureCrash(target, opts, dir, run, c, 0)
	if err != nil {
		return fuzz.ReplayRow{}, fmt.Errorf("measure replay: run %d: %w", run, err)
	}
	path := filepath.Join(dir, "crashed.json")
	if err := f.Sched.WriteFile(path); err != nil {
		return fuzz.ReplayRow{}, err
	}
	rep, err := w.ReplayCrash(path, f.Sched, repeat)
	if err != nil {
		return fuzz.ReplayRow{}, fmt.Errorf("measure replay: run %d: %w", run, err)
	}
	return fuzz.ReplayRow{Seed: opts.Seed, Run: run, Events: f.Events, Fingerprint: f.Fingerprint, Flaky: f.Flaky,
		Replays: rep.Runs, Reproduced: rep.Reproduced, FirstReproduced: rep.FirstReproduced, Crashed: true}, nil
}

// replayRateJob is the worker side of Workers.MeasureReplay.
func replayRateJob(env Env, target interpose.Target, job Job, dir string) error {
	if job.ReplayRate == nil {
		return errors.New("worker: a replay-rate job needs its options")
	}
	o := *job.ReplayRate
	o.Campaign.Checker = env.Checker
	o.OnStep = func(run int, row *fuzz.ReplayRow, sofar *fuzz.ReplayRate) {
		if data, err := json.Marshal(replayRateProgress{Run: run, Row: row, Sofar: sofar}); err == nil {
			writeAtomic(filepath.Join(dir, workerProgress), data)
		}
	}
	rate, err := fuzz.MeasureReplay(env.T, target, o)
	if err != nil {
		return err
	}
	return writeResult(dir, rate)
}
