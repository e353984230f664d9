package fuzz

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

// ReplayRateOptions configure MeasureReplay. The zero value measures 20
// schedules of 300 events (campaign seed 0), each replayed 10 times.
type ReplayRateOptions struct {
	// Campaign describes how schedules are made (Seed, Nodes, Events,
	// CheckEvery, Weights, MaxDown, Checker).
	Campaign Options
	// Schedules is the number of schedules to replay (0: 20).
	Schedules int
	// Repeat is the number of replays of each (0: 10).
	Repeat int
	// Attempts is ReplayOptions.Attempts for each replay (0: 1).
	Attempts int
	// Violating keeps only schedules that end in a violation, searching runs
	// until Schedules of them are found or MaxRuns runs were made.
	Violating bool
	// MaxRuns bounds that search (0: 100,000).
	MaxRuns int
	// FirstRun is the first run walked (a measurement taken up again after
	// a process died: campaign.Workers.MeasureReplay).
	FirstRun int `json:"first_run,omitempty"`
	// OnStep, if set, is called before each run is walked (row nil) and
	// before each replay of a schedule kept (row: its replays so far), with
	// what is done: where a process that dies was.
	OnStep func(run int, row *ReplayRow, sofar *ReplayRate) `json:"-"`
}

// ReplayRow is one schedule's replays.
type ReplayRow struct {
	Seed        uint64 `json:"seed"`
	Run         int    `json:"run"`
	Events      int    `json:"events"`
	Fingerprint string `json:"fingerprint"`
	Identical   int    `json:"identical"`
	Reproduced  int    `json:"reproduced"`
	// FirstReproduced counts the replays whose first execution showed it.
	FirstReproduced int `json:"first_reproduced"`
	// Flaky is set when Confirm found no schedule of this violation that
	// replayed reliably (a campaign marks it so).
	Flaky bool `json:"flaky,omitempty"`
	// Replays is how many times it was replayed.
	Replays int `json:"replays"`
	// Crashed is set when the schedule's run or one of its replays killed
	// its process (raft panicking in one of its own goroutines). The run's
	// replays were then each made in a process of their own and count
	// as reproduced when that process died of the same panic; no replay of
	// it counts as identical, as none could be compared.
	Crashed bool `json:"crashed,omitempty"`
}

// ReplayRate is how faithfully a target replays its own schedules.
type ReplayRate struct {
	Target    string `json:"target"`
	Schedules int    `json:"schedules"`
	Replays   int    `json:"replays"`
	// Attempts is the most executions a replay could make (Options.Attempts).
	Attempts int `json:"attempts"`
	// Identical counts replays whose first execution applied every event
	// with the recorded result and ended in the recorded node states and
	// violation.
	Identical int `json:"identical"`
	// Reproduced counts replays that ended with the recorded violation
	// fingerprint (or with none, for a schedule without a violation), in at
	// most Attempts executions; FirstReproduced those whose first execution
	// did.
	Reproduced      int         `json:"reproduced"`
	FirstReproduced int         `json:"first_reproduced"`
	Rows            []ReplayRow `json:"rows"`
	// Flaky counts the schedules a campaign would have marked flaky;
	// SteadyReplays and SteadyReproduced count the replays of the others.
	Flaky            int `json:"flaky"`
	SteadyReplays    int `json:"steady_replays"`
	SteadyReproduced int `json:"steady_reproduced"`
	// Searched is the number of runs made to find the schedules.
	Searched int `json:"searched"`
}

// Bounds are the options with their defaults filled in: the schedules to
// replay, the replays of each, and the runs the search may make (the
// schedules themselves unless Violating).
func (o ReplayRateOptions) Bounds() (schedules, repeat, maxRuns int) {
	schedules, repeat, maxRuns = o.Schedules, o.Repeat, o.MaxRuns
	if schedules <= 0 {
		schedules = 20
	}
	if repeat <= 0 {
		repeat = 10
	}
	if maxRuns <= 0 {
		maxRuns = 100000
	}
	if !o.Violating {
		maxRuns = schedules
	}
	return schedules, repeat, maxRuns
}

// MeasureReplay records schedules with the campaign's walks and replays each
// several times, counting identical and reproducing replays.
func MeasureReplay(t *testing.T, target interpose.Target, opts ReplayRateOptions) (*ReplayRate, error) {
	want, repeat, maxRuns := opts.Bounds()
	if h, ok := target.(interpose.Holder); ok {
		defer h.Hold()()
	}
	out := &ReplayRate{Target: target.Name(), Attempts: max(opts.Attempts, 1)}
	for run := opts.FirstRun; run < opts.FirstRun+maxRuns && out.Schedules < want; run++ {
		if opts.OnStep != nil {
			opts.OnStep(run, nil, out)
		}
		s, err := Walk(t, target, opts.Campaign, run)
		out.Searched++
		if err != nil {
			return out, fmt.Errorf("measure: run %d: %w", run, err)
		}
		if opts.Violating && s.Violation == nil {
			continue
		}
		flaky := false
		if s.Violation != nil {
			// What a campaign would save.
			if s, flaky, err = Confirm(t, target, s, opts.Campaign); err != nil {
				return out, fmt.Errorf("measure: run %d: %w", run, err)
			}
		}
		row := ReplayRow{Seed: opts.Campaign.Seed, Run: run, Events: len(s.Events), Flaky: flaky}
		if s.Violation != nil {
			row.Fingerprint = s.Violation.Fingerprint
		}
		for range repeat {
			if opts.OnStep != nil {
				opts.OnStep(run, &row, out)
			}
			rep, err := Replay(t, target, s, ReplayOptions{Repeat: 1, Attempts: opts.Attempts, CheckEvery: opts.Campaign.CheckEvery, CheckFrom: opts.Campaign.CheckFrom, Checker: opts.Campaign.Checker})
			if err != nil {
				return out, fmt.Errorf("measure: replay of run %d: %w", run, err)
			}
			row.Replays++
			row.Reproduced += rep.Reproduced
			row.FirstReproduced += rep.FirstReproduced
			if Identical(s, rep.First.Schedule) {
				row.Identical++
			}
		}
		out.AddRow(row)
	}
	return out, nil
}

// AddRow counts a schedule's replays into r.
func (r *ReplayRate) AddRow(row ReplayRow) {
	r.Schedules++
	r.Replays += row.Replays
	r.Identical += row.Identical
	r.Reproduced += row.Reproduced
	r.FirstReproduced += row.FirstReproduced
	if row.Flaky {
		r.Flaky++
	} else {
		r.SteadyReplays += row.Replays
		r.SteadyReproduced += row.Reproduced
	}
	r.Rows = append(r.Rows, row)
}

// Add adds o's schedules and replays to r (a measurement over several seeds).
func (r *ReplayRate) Add(o *ReplayRate) {
	r.Target = o.Target
	r.Attempts = max(r.Attempts, o.Attempts)
	r.Schedules += o.Schedules
	r.Replays += o.Replays
	r.Identical += o.Identical
	r.Reproduced += o.Reproduced
	r.FirstReproduced += o.FirstReproduced
	r.Rows = append(r.Rows, o.Rows...)
	r.Flaky += o.Flaky
	r.SteadyReplays += o.SteadyReplays
	r.SteadyReproduced += o.SteadyReproduced
	r.Searched += o.Searched
}

// Identical reports whether a replay b of schedule a applied the same events
// with the same results and ended in the same states and violation.
func Identical(a, b *interpose.Schedule) bool {
	if len(a.Events) != len(b.Events) || !slices.EqualFunc(a.Final, b.Final, interpose.NodeView.Equal) {
		return false
	}
	for i := range a.Events {
		if !sameEvent(a.Events[i], b.Events[i]) {
			return false
		}
	}
	switch {
	case a.Violation == nil || b.Violation == nil:
		return a.Violation == b.Violation
	default:
		return a.Violation.Fingerprint == b.Violation.Fingerprint && a.Violation.Detail == b.Violation.Detail &&
			a.Violation.Step == b.Violation.Step
	}
}

// sameEvent reports whether y, replaying x, did what x did.
func sameEvent(x, y interpose.Event) bool {
	return x.Key() == y.Key() && x.Result == y.Result && (x.Until == nil) == (y.Until == nil) && (x.Until == nil || *x.Until == *y.Until)
}

// Median is the median of xs (NaN for none); xs is left as it is.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
