package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/minimize"
)

func (a *app) measureCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "measure",
		Short: "Measure a target: time to the first violation, replay rate",
		Long: `measure runs the experiments whose tables are committed under results/.
Each prints the command line that made it, so a reader can rerun it.`,
	}
	c.AddCommand(a.measureTTFCmd(), a.measureReplayCmd(), a.measureMinimizeCmd(), a.measureScalingCmd(), a.measureStrategiesCmd())
	return c
}

// parseSeeds reads "1-10" or "1,4,9" (or a mix).
func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds %q: %q is not a seed", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("--seeds %q: bad range %q", s, part)
			}
		}
		if b-a > 100000 {
			return nil, fmt.Errorf("--seeds %q: range too large", s)
		}
		for x := a; x <= b; x++ {
			out = append(out, x)
		}
	}
	return out, nil
}

type ttfRow struct {
	Seed      uint64  `json:"seed"`
	Runs      int     `json:"runs"`
	Events    int     `json:"events"`
	Found     bool    `json:"found"`
	Invariant string  `json:"invariant,omitempty"`
	AfterS    float64 `json:"after_s"`
}

type ttfReport struct {
	Command string `json:"command"`
	Target  string `json:"target"`
	Seeds   int    `json:"seeds"`
	Found   int    `json:"found"`
	// MedianS is the median over the seeds, a seed that found nothing
	// counting as infinite (then null in JSON when it is the median).
	MedianS      float64  `json:"-"`
	MedianJSON   *float64 `json:"median_s"`
	Rows         []ttfRow `json:"rows"`
	EventsPerSec float64  `json:"events_per_s"`
}

func (a *app) measureTTFCmd() *cobra.Command {
	var (
		target, seeds string
		opts          fuzz.Options
		asJSON        bool
	)
	c := &cobra.Command{
		Use:   "ttf --target NAME",
		Short: "Time to the first violation, over several campaign seeds",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			study, err := casestudies.Lookup(target)
			if err != nil {
				return usageErr("measure ttf: %v", err)
			}
			list, err := parseSeeds(seeds)
			if err != nil {
				return usageErr("measure ttf: %v", err)
			}
			if err := checkStrategy(opts.Strategy, opts.PCTDepth); err != nil {
				return usageErr("measure ttf: %v", err)
			}
			return a.withT(func(t *testing.T) error {
				rep := ttfReport{Command: a.command(), Target: target, Seeds: len(list)}
				var times []float64
				events, elapsed := 0, 0.0
				for _, seed := range list {
					o := study.Options(opts)
					o.Seed = seed
					res, err := fuzz.Run(t, study.Target, o)
					if err != nil {
						return err
					}
					row := ttfRow{Seed: seed, Runs: res.Runs, Events: res.Events, AfterS: res.ElapsedS}
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
				rep.MedianS = median(times)
				if !math.IsInf(rep.MedianS, 0) && !math.IsNaN(rep.MedianS) {
					rep.MedianJSON = &rep.MedianS
				}
				if elapsed > 0 {
					rep.EventsPerSec = float64(events) / elapsed
				}
				if asJSON {
					return writeJSON(a.stdout, rep)
				}
				return a.printTTF(rep)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "target (see faultline targets)")
	f.StringVar(&seeds, "seeds", "1-10", "campaign seeds, e.g. 1-10 or 1,3,7")
	f.IntVar(&opts.Nodes, "nodes", 0, "cluster size (default: the target's)")
	f.IntVar(&opts.Runs, "runs", 100000, "runs per seed before giving up")
	f.IntVar(&opts.Events, "events", 300, "events per run")
	f.StringVar(&opts.Strategy, "strategy", "random", "exploration: random, pct or portfolio")
	f.IntVar(&opts.PCTDepth, "pct-depth", 3, "PCT's depth d")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("target")
	return c
}

func median(xs []float64) float64 {
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

func (a *app) printTTF(rep ttfReport) error {
	fmt.Fprintf(a.stdout, "$ %s\n\n", rep.Command)
	t := tablewriter.NewWriter(a.stdout)
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
	fmt.Fprintf(a.stdout, "\n%s: a violation in %d of %d seeds; median time to the first: %.3f s; %.0f events/s\n",
		rep.Target, rep.Found, rep.Seeds, rep.MedianS, rep.EventsPerSec)
	return nil
}

func (a *app) measureReplayCmd() *cobra.Command {
	var (
		target, seeds string
		opts          fuzz.ReplayRateOptions
		asJSON        bool
	)
	c := &cobra.Command{
		Use:   "replay --target NAME",
		Short: "Replay rate: record schedules, replay each several times, count identical replays",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			study, err := casestudies.Lookup(target)
			if err != nil {
				return usageErr("measure replay: %v", err)
			}
			list := []uint64{opts.Campaign.Seed}
			if seeds != "" {
				if list, err = parseSeeds(seeds); err != nil {
					return usageErr("measure replay: %v", err)
				}
			}
			return a.withT(func(t *testing.T) error {
				start := time.Now()
				opts.Campaign = study.Options(opts.Campaign)
				rep := &fuzz.ReplayRate{Target: study.Name}
				for _, seed := range list {
					opts.Campaign.Seed = seed
					one, err := fuzz.MeasureReplay(t, study.Target, opts)
					if err != nil {
						return err
					}
					rep.Add(one)
				}
				if asJSON {
					return writeJSON(a.stdout, struct {
						Command string `json:"command"`
						*fuzz.ReplayRate
					}{a.command(), rep})
				}
				return a.printReplayRate(rep, time.Since(start))
			})
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "target (see faultline targets)")
	f.Uint64Var(&opts.Campaign.Seed, "seed", 1, "campaign seed of the recorded schedules")
	f.StringVar(&seeds, "seeds", "", "several campaign seeds, --schedules from each (e.g. 1-10; overrides --seed)")
	f.IntVar(&opts.Campaign.Nodes, "nodes", 0, "cluster size (default: the target's)")
	f.IntVar(&opts.Campaign.Events, "events", 300, "events per recorded schedule")
	f.IntVar(&opts.Schedules, "schedules", 20, "schedules to record")
	f.IntVar(&opts.Repeat, "repeat", 10, "replays of each schedule")
	f.IntVar(&opts.Attempts, "attempts", replayAttempts, "executions a replay may make when one diverges from the recording and misses the violation")
	f.BoolVar(&opts.Violating, "violating", false, "record only schedules that end in a violation")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("target")
	return c
}

func (a *app) printReplayRate(rep *fuzz.ReplayRate, took time.Duration) error {
	fmt.Fprintf(a.stdout, "$ %s\n\n", a.command())
	t := tablewriter.NewWriter(a.stdout)
	t.Header("seed", "run", "events", "violation", "identical", "first execution", "reproduced")
	for _, r := range rep.Rows {
		fp := r.Fingerprint
		if fp == "" {
			fp = "-"
		}
		if r.Flaky {
			fp += " (flaky)"
		}
		if err := t.Append(strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Run), strconv.Itoa(r.Events), fp, strconv.Itoa(r.Identical), strconv.Itoa(r.FirstReproduced), strconv.Itoa(r.Reproduced)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(max(of, 1)) }
	fmt.Fprintf(a.stdout, "\n%s: %d schedules (from %d runs), %d replays: %d identical (%.1f%%), %d reproduced the recorded outcome in their first execution (%.1f%%), %d in at most %d executions (%.1f%%); %s\n",
		rep.Target, rep.Schedules, rep.Searched, rep.Replays, rep.Identical, pct(rep.Identical, rep.Replays),
		rep.FirstReproduced, pct(rep.FirstReproduced, rep.Replays),
		rep.Reproduced, rep.Attempts, pct(rep.Reproduced, rep.Replays), took.Round(time.Millisecond))
	if rep.Flaky > 0 {
		fmt.Fprintf(a.stdout, "%d schedules marked flaky when saved; the other %d: %d of %d replays reproduced (%.1f%%)\n",
			rep.Flaky, rep.Schedules-rep.Flaky, rep.SteadyReproduced, rep.SteadyReplays, pct(rep.SteadyReproduced, rep.SteadyReplays))
	}
	return nil
}

// command is the command line as typed, for reports.
func (a *app) command() string { return userCommand(a.argv) }

type minimizeRow struct {
	Seed       uint64  `json:"seed"`
	Input      int     `json:"input_events"`
	Externals  int     `json:"input_externals"`
	Full       int     `json:"minimized_events"`
	FullExt    int     `json:"minimized_externals"`
	Replays    int     `json:"replays"`
	Seconds    float64 `json:"elapsed_s"`
	Reproduced int     `json:"reproduced"`
	Runs       int     `json:"runs"`
	Searches   int     `json:"dpor_searches"`
	Found      int     `json:"dpor_found"`
	ExtOnly    int     `json:"externals_only_events,omitempty"`
	ExtOnlyS   float64 `json:"externals_only_s,omitempty"`
	Error      string  `json:"error,omitempty"`
}

func (a *app) measureMinimizeCmd() *cobra.Command {
	var (
		target, seeds, budget              string
		events, checkEvery, reps, dporRuns int
		asJSON, compare                    bool
	)
	c := &cobra.Command{
		Use:   "minimize --target NAME",
		Short: "Make long failures with several seeds and minimize each, with every phase and with externals only",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if _, err := casestudies.Lookup(target); err != nil {
				return usageErr("measure minimize: %v", err)
			}
			list, err := parseSeeds(seeds)
			if err != nil {
				return usageErr("measure minimize: %v", err)
			}
			if a.self == "" {
				return errors.New("measure minimize needs the faultline binary")
			}
			dir, err := os.MkdirTemp("", "faultline-measure-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			var rows []minimizeRow
			for _, seed := range list {
				row := a.measureOneMinimize(dir, target, seed, events, checkEvery, reps, dporRuns, budget, compare)
				rows = append(rows, row)
				if !asJSON && a.tty {
					fmt.Fprintf(a.stderr, "seed %d: %d -> %d events in %.1fs\n", seed, row.Input, row.Full, row.Seconds)
				}
			}
			if asJSON {
				return writeJSON(a.stdout, struct {
					Command string        `json:"command"`
					Rows    []minimizeRow `json:"rows"`
				}{a.command(), rows})
			}
			return a.printMeasureMinimize(target, rows, compare)
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "target (see faultline targets)")
	f.StringVar(&seeds, "seeds", "1-10", "campaign seeds")
	f.IntVar(&events, "events", 2000, "events per fuzz run")
	f.IntVar(&checkEvery, "check-every", 2000, "check invariants every N events while fuzzing")
	f.IntVar(&reps, "replays", 2, "replays per candidate")
	f.StringVar(&budget, "budget", "2m", "minimization budget")
	f.IntVar(&dporRuns, "dpor", 0, "DPOR executions per candidate that does not reproduce by exact replay (0: the minimizer's default; -1: none)")
	f.BoolVar(&compare, "compare", true, "also minimize with ddmin over external events only")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("target")
	return c
}

// measureOneMinimize fuzzes one seed and minimizes its first violation
// twice, in processes of their own.
func (a *app) measureOneMinimize(dir, target string, seed uint64, events, checkEvery, reps, dporRuns int, budget string, compare bool) minimizeRow {
	row := minimizeRow{Seed: seed}
	out := filepath.Join(dir, fmt.Sprintf("seed%d", seed))
	var fz bytes.Buffer
	_, stderr, err := a.spawnTo(&fz, "fuzz", "--target", target, "--seed", strconv.FormatUint(seed, 10),
		"--events", strconv.Itoa(events), "--check-every", strconv.Itoa(checkEvery), "--runs", "1000", "--out", out, "--json")
	var fr fuzz.Result
	if err == nil {
		err = json.Unmarshal(fz.Bytes(), &fr)
	}
	if err != nil || len(fr.Violations) == 0 || fr.Violations[0].Schedule == "" {
		row.Error = "no violation to minimize " + firstLine(stderr)
		return row
	}
	in := fr.Violations[0].Schedule
	row.Input = fr.Violations[0].Events
	if s, err := interpose.ReadFile(in); err == nil {
		row.Externals = s.Externals()
	}
	modes := []bool{false}
	if compare {
		modes = append(modes, true)
	}
	for _, extOnly := range modes {
		args := []string{"minimize", in, "--json", "--budget", budget, "--replays", strconv.Itoa(reps), "--dpor", strconv.Itoa(dporRuns),
			"--out", filepath.Join(dir, fmt.Sprintf("seed%d-%v.min.json", seed, extOnly))}
		if extOnly {
			args = append(args, "--externals-only")
		}
		var mz bytes.Buffer
		_, stderr, err := a.spawnTo(&mz, args...)
		var mr minimize.Result
		if err == nil {
			err = json.Unmarshal(mz.Bytes(), &mr)
		}
		if err != nil {
			row.Error = "minimize: " + firstLine(stderr)
			return row
		}
		if extOnly {
			row.ExtOnly, row.ExtOnlyS = mr.MinimizedEvents, mr.ElapsedS
		} else {
			row.Full, row.FullExt, row.Replays, row.Seconds = mr.MinimizedEvents, mr.MinimizedExternals, mr.Replays, mr.ElapsedS
			row.Reproduced, row.Runs = mr.Reproduced, mr.Runs
			row.Searches, row.Found = mr.DPORSearches, mr.DPORFound
		}
	}
	return row
}

func (a *app) printMeasureMinimize(target string, rows []minimizeRow, compare bool) error {
	fmt.Fprintf(a.stdout, "$ %s\n\n", a.command())
	t := tablewriter.NewWriter(a.stdout)
	header := []any{"seed", "input (ext)", "minimized (ext)", "replays", "seconds", "reproduced", "dpor found/searches"}
	if compare {
		header = append(header, "externals only", "seconds")
	}
	t.Header(header...)
	var in, full, reps, secs, ext, extS []float64
	for _, r := range rows {
		cells := []any{strconv.FormatUint(r.Seed, 10), r.Error, "", "", "", "", ""}
		if r.Error == "" {
			cells = []any{strconv.FormatUint(r.Seed, 10), fmt.Sprintf("%d (%d)", r.Input, r.Externals),
				fmt.Sprintf("%d (%d)", r.Full, r.FullExt), strconv.Itoa(r.Replays), fmt.Sprintf("%.1f", r.Seconds),
				fmt.Sprintf("%d/%d", r.Reproduced, r.Runs), fmt.Sprintf("%d/%d", r.Found, r.Searches)}
			in, full = append(in, float64(r.Input)), append(full, float64(r.Full))
			reps, secs = append(reps, float64(r.Replays)), append(secs, r.Seconds)
			ext, extS = append(ext, float64(r.ExtOnly)), append(extS, r.ExtOnlyS)
		}
		if compare {
			if r.Error == "" {
				cells = append(cells, strconv.Itoa(r.ExtOnly), fmt.Sprintf("%.1f", r.ExtOnlyS))
			} else {
				cells = append(cells, "", "")
			}
		}
		if err := t.Append(cells...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\n%s, medians over %d failures: %.0f -> %.0f events, %.0f replays, %.1f s",
		target, len(full), median(in), median(full), median(reps), median(secs))
	if compare {
		fmt.Fprintf(a.stdout, "; externals only: %.0f events, %.1f s", median(ext), median(extS))
	}
	fmt.Fprintln(a.stdout)
	return nil
}
