package measure

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// campaignOnce runs one campaign on target in a new directory under base,
// with workers worker processes for at most limit, and returns its store's
// stats and violations. Background minimization is off.
func campaignOnce(w *campaign.Workers, base string, target interpose.Target, opts fuzz.Options, workers int,
	limit time.Duration, stopAt int) (campaign.Stats, []campaign.Violation, error) {
	dir, err := os.MkdirTemp(base, "campaign-")
	if err != nil {
		return campaign.Stats{}, nil, err
	}
	defer os.RemoveAll(dir)
	st, err := campaign.Open(dir, true)
	if err != nil {
		return campaign.Stats{}, nil, err
	}
	defer st.Close()
	opts = fuzz.WorkloadOf(target).Lengths(opts)
	if err := st.Init(campaign.NewConfig(target.Name(), opts, 0, 0)); err != nil {
		return campaign.Stats{}, nil, err
	}
	if _, err := campaign.Run(st, target, w, campaign.RunOptions{Workers: workers, Time: limit, StopAt: stopAt}); err != nil {
		return campaign.Stats{}, nil, err
	}
	stats, err := st.Stats()
	if err != nil {
		return stats, nil, err
	}
	vs, err := st.Violations()
	return stats, vs, err
}

// ScalingOptions configure Scaling. The zero value runs campaigns of 30
// seconds, three of each worker count.
type ScalingOptions struct {
	Time   time.Duration
	Repeat int
	// Command is written at the top of the table.
	Command string
}

// Scaling runs campaigns of o.Time with 1 worker and with 2 workers,
// alternating, o.Repeat times each, and writes the table of their events/s
// with the median of each and their ratio. Minimization is off, so that
// only fuzzing is measured.
func Scaling(w *campaign.Workers, target interpose.Target, o ScalingOptions, out io.Writer) error {
	if w.Command == nil {
		return fmt.Errorf("measure scaling %w", campaign.ErrNoWorkers)
	}
	if o.Time <= 0 {
		o.Time = 30 * time.Second
	}
	if o.Repeat <= 0 {
		o.Repeat = 3
	}
	base, err := campaign.MkdirTemp("faultline-scaling-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	fmt.Fprintf(out, "$ %s\n\n", o.Command)
	t := tablewriter.NewWriter(out)
	t.Header("round", "workers", "runs", "events", "seconds", "events per s", "worker peak RSS MiB")
	rates := map[int][]float64{}
	for round := 1; round <= o.Repeat; round++ {
		for _, n := range []int{1, 2} {
			st, _, err := campaignOnce(w, base, target, fuzz.Options{Seed: 1, NoLiveness: true}, n, o.Time, 0)
			if err != nil {
				return err
			}
			rate := float64(st.Events) / max(st.ElapsedS, 1e-9)
			rates[n] = append(rates[n], rate)
			if err := t.Append(round, n, st.Runs, st.Events, fmt.Sprintf("%.1f", st.ElapsedS),
				fmt.Sprintf("%.0f", rate), fmt.Sprintf("%.1f", float64(st.RSSLatestKB())/1024)); err != nil {
				return err
			}
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	one, two := fuzz.Median(rates[1]), fuzz.Median(rates[2])
	fmt.Fprintf(out, "\n%s: median %.0f events/s with 1 worker, %.0f with 2: %.2fx (%d cores)\n",
		target.Name(), one, two, two/one, runtime.NumCPU())
	return nil
}

// StrategyRow is one target and strategy of the strategies table.
type StrategyRow struct {
	Target, Strategy string
	Times            []float64 // seconds to the first violation (found only)
	Runs             []int     // runs to the first violation (found only)
	Found, Seeds     int
	Invariants       map[string]int
}

// StrategiesOptions configure Strategies. The zero value runs seeds 1 to
// 3 of every strategy, two minutes at most each, with each target's
// workload.
type StrategiesOptions struct {
	Seeds      []uint64
	Strategies []string
	// Time bounds each campaign (0: 2 minutes).
	Time time.Duration
	// Events per run (0: each target's workload, else 300).
	Events int
	// Liveness ends each run with a stabilization phase and checks the
	// liveness monitors, for targets whose bug is a liveness bug (off:
	// safety only, as the tables made before it).
	Liveness bool
	// Want, if set, is the violation every campaign hunts (fuzz's
	// Options.Want): others are passed over.
	Want string
	// Weights, if set, change some of each target's weights of event kinds
	// (fuzz.ParseWeights over fuzz.TargetWeights): "crash=15,recover=30".
	Weights string
	// Progress, if set, receives a line per campaign.
	Progress io.Writer
}

// Strategies runs, for each target, strategy and seed, a campaign with one
// worker that stops at its first violation (or at o.Time), and returns a row
// per target and strategy.
func Strategies(w *campaign.Workers, targets []interpose.Target, o StrategiesOptions) ([]StrategyRow, error) {
	if w.Command == nil {
		return nil, fmt.Errorf("measure strategies %w", campaign.ErrNoWorkers)
	}
	if o.Seeds == nil {
		o.Seeds = []uint64{1, 2, 3}
	}
	if o.Strategies == nil {
		o.Strategies = []string{fuzz.Random, fuzz.PCT, fuzz.Portfolio}
	}
	if o.Time <= 0 {
		o.Time = 2 * time.Minute
	}
	base, err := campaign.MkdirTemp("faultline-strategies-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(base)
	var rows []StrategyRow
	for _, target := range targets {
		var weights *fuzz.Weights
		if o.Weights != "" {
			ws, err := fuzz.ParseWeights(o.Weights, fuzz.TargetWeights(target))
			if err != nil {
				return nil, fmt.Errorf("measure strategies: %w", err)
			}
			weights = &ws
		}
		for _, strategy := range o.Strategies {
			r := StrategyRow{Target: target.Name(), Strategy: strategy, Seeds: len(o.Seeds), Invariants: map[string]int{}}
			for _, seed := range o.Seeds {
				_, vs, err := campaignOnce(w, base, target, fuzz.Options{Seed: seed, Strategy: strategy, Events: o.Events, NoLiveness: !o.Liveness,
					Want: o.Want, Weights: weights}, 1, o.Time, 1)
				if err != nil {
					return nil, err
				}
				if o.Progress != nil {
					fmt.Fprintf(o.Progress, "%s %s seed %d: ", target.Name(), strategy, seed)
				}
				if len(vs) == 0 {
					if o.Progress != nil {
						fmt.Fprintln(o.Progress, "none")
					}
					continue
				}
				v := vs[0]
				r.Found++
				r.Times = append(r.Times, v.AfterS)
				r.Runs = append(r.Runs, v.Run)
				r.Invariants[v.Invariant]++
				if o.Progress != nil {
					fmt.Fprintf(o.Progress, "%s after %.2f s (run %d)\n", v.Invariant, v.AfterS, v.Run)
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// WriteStrategies writes the rows as results/strategies.md holds them.
func WriteStrategies(w io.Writer, command string, rows []StrategyRow, limit time.Duration) error {
	fmt.Fprintf(w, "# Time to the first violation, by exploration strategy\n\n")
	fmt.Fprintf(w, "`%s`\n\n", command)
	fmt.Fprintf(w, "One worker per campaign, stopped at its first violation or after %s; %d cores (%s/%s). "+
		"Median over the seeds that found one; runs are the index of the first violating run.\n\n",
		limit, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	t := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewMarkdown()), tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("target", "strategy", "found", "median time (s)", "median runs", "first violation")
	for _, r := range rows {
		med, runs := "-", "-"
		if r.Found > 0 {
			med = fmt.Sprintf("%.2f", fuzz.Median(r.Times))
			rs := make([]float64, len(r.Runs))
			for i, x := range r.Runs {
				rs[i] = float64(x + 1)
			}
			runs = fmt.Sprintf("%.0f", fuzz.Median(rs))
		}
		var invs []string
		for k, n := range r.Invariants {
			invs = append(invs, fmt.Sprintf("%s (%d)", k, n))
		}
		slices.Sort(invs)
		if err := t.Append(r.Target, r.Strategy, fmt.Sprintf("%d/%d", r.Found, r.Seeds), med, runs, strings.Join(invs, ", ")); err != nil {
			return err
		}
	}
	return t.Render()
}
