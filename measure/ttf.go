package measure

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// TTFRow is one seed's campaign.
type TTFRow struct {
	Seed      uint64  `json:"seed"`
	Runs      int     `json:"runs"`
	Events    int     `json:"events"`
	Found     bool    `json:"found"`
	Invariant string  `json:"invariant,omitempty"`
	AfterS    float64 `json:"after_s"`
}

// TTFReport is the time to the first violation over several seeds.
type TTFReport struct {
	Command string `json:"command"`
	Target  string `json:"target"`
	Seeds   int    `json:"seeds"`
	Found   int    `json:"found"`
	// MedianS is the median over the seeds, a seed that found nothing
	// counting as infinite (then null in JSON when it is the median).
	MedianS      float64  `json:"-"`
	MedianJSON   *float64 `json:"median_s"`
	Rows         []TTFRow `json:"rows"`
	EventsPerSec float64  `json:"events_per_s"`
}

// TTF runs a campaign per seed until its first violation (opts, with the
// target's workload applied, and each seed in turn) and reports how long
// each took. The campaigns run in worker processes when w has a command (a
// panic in raft's own goroutines ends a worker, not the measurement), in
// this process otherwise (w nil, or without a command).
func TTF(t *testing.T, w *campaign.Workers, target interpose.Target, opts fuzz.Options, seeds []uint64, command string) (TTFReport, error) {
	if w == nil {
		w = &campaign.Workers{T: t}
	}
	rep := TTFReport{Command: command, Target: target.Name(), Seeds: len(seeds)}
	var times []float64
	events, elapsed := 0, 0.0
	for _, seed := range seeds {
		o := fuzz.ApplyWorkload(target, opts)
		o.Seed = seed
		res, err := w.Fuzz(target, o)
		if err != nil {
			return rep, err
		}
		row := TTFRow{Seed: seed, Runs: res.Runs, Events: res.Events, AfterS: res.ElapsedS}
		if len(res.Violations) > 0 {
			row.Found, row.Invariant, row.AfterS = true, res.Violations[0].Invariant, res.Violations[0].AfterS
			rep.Found++
			times = append(times, row.AfterS)
		} else {
			times = append(times, math.Inf(1))
		}
		events += res.Events
		elapsed += res.ElapsedS
		rep.Rows = append(rep.Rows, row)
	}
	rep.MedianS = fuzz.Median(times)
	if !math.IsInf(rep.MedianS, 0) && !math.IsNaN(rep.MedianS) {
		rep.MedianJSON = &rep.MedianS
	}
	if elapsed > 0 {
		rep.EventsPerSec = float64(events) / elapsed
	}
	return rep, nil
}

// WriteTTF writes the report as results/ttf-*.txt holds it.
func WriteTTF(w io.Writer, rep TTFReport) error {
	fmt.Fprintf(w, "$ %s\n\n", rep.Command)
	t := tablewriter.NewWriter(w)
	t.Header("seed", "runs", "events", "first violation", "after (s)")
	for _, r := range rep.Rows {
		inv, after := "none", "-"
		if r.Found {
			inv, after = r.Invariant, fmt.Sprintf("%.3f", r.AfterS)
		}
		if err := t.Append(strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Runs), strconv.Itoa(r.Events), inv, after); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s: a violation in %d of %d seeds; median time to the first: %.3f s; %.0f events/s\n",
		rep.Target, rep.Found, rep.Seeds, rep.MedianS, rep.EventsPerSec)
	return nil
}

// Replay records schedules with each seed (opts.Campaign's, with the
// target's workload applied) and replays each several times: the target's
// replay rate (fuzz.MeasureReplay over the seeds, in w's worker processes
// when it has a command: Workers.MeasureReplay).
func Replay(w *campaign.Workers, target interpose.Target, opts fuzz.ReplayRateOptions, seeds []uint64) (*fuzz.ReplayRate, error) {
	opts.Campaign = fuzz.ApplyWorkload(target, opts.Campaign)
	rep := &fuzz.ReplayRate{Target: target.Name()}
	for _, seed := range seeds {
		opts.Campaign.Seed = seed
		one, err := w.MeasureReplay(target, opts)
		if err != nil {
			return nil, err
		}
		rep.Add(one)
	}
	return rep, nil
}

// WriteReplayRate writes a replay rate as results/replay-*.txt holds it.
func WriteReplayRate(w io.Writer, command string, rep *fuzz.ReplayRate, took time.Duration) error {
	fmt.Fprintf(w, "$ %s\n\n", command)
	t := tablewriter.NewWriter(w)
	t.Header("seed", "run", "events", "violation", "identical", "first execution", "reproduced")
	for _, r := range rep.Rows {
		fp := r.Fingerprint
		if fp == "" {
			fp = "-"
		}
		if r.Flaky {
			fp += " (flaky)"
		}
		if r.Crashed {
			fp += fmt.Sprintf(" (killed its process; %d replays)", r.Replays)
		}
		if err := t.Append(strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Run), strconv.Itoa(r.Events), fp, strconv.Itoa(r.Identical), strconv.Itoa(r.FirstReproduced), strconv.Itoa(r.Reproduced)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(max(of, 1)) }
	fmt.Fprintf(w, "\n%s: %d schedules (from %d runs), %d replays: %d identical (%.1f%%), %d reproduced the recorded outcome in their first execution (%.1f%%), %d in at most %d executions (%.1f%%); %s\n",
		rep.Target, rep.Schedules, rep.Searched, rep.Replays, rep.Identical, pct(rep.Identical, rep.Replays),
		rep.FirstReproduced, pct(rep.FirstReproduced, rep.Replays),
		rep.Reproduced, rep.Attempts, pct(rep.Reproduced, rep.Replays), took.Round(time.Millisecond))
	crashed, crashedReplays := 0, 0
	for _, r := range rep.Rows {
		if r.Crashed {
			crashed, crashedReplays = crashed+1, crashedReplays+r.Replays
		}
	}
	if crashed > 0 {
		fmt.Fprintf(w, "%d schedules (%d replays) killed their process (raft panicking in its own goroutine) when walked or replayed: "+
			"a run that did is replayed in a process of its own each time, reproduced when that process dies of the same panic and never identical "+
			"(nothing could be compared); a replay that did counts as neither, and its schedule gets no more\n",
			crashed, crashedReplays)
	}
	if rep.Flaky > 0 {
		fmt.Fprintf(w, "%d schedules marked flaky when saved; the other %d: %d of %d replays reproduced (%.1f%%)\n",
			rep.Flaky, rep.Schedules-rep.Flaky, rep.SteadyReproduced, rep.SteadyReplays, pct(rep.SteadyReproduced, rep.SteadyReplays))
	}
	return nil
}
