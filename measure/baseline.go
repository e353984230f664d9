package measure

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/faultline-dev/faultline/baseline"
	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// BaselineOptions configure Baseline. The zero value runs seeds 1 to 10,
// the baseline with raft's test settings and with raft's defaults ÷ 10,
// one cluster at a time, a minute at most per run.
type BaselineOptions struct {
	Seeds  []uint64
	Timers []baseline.Timers
	// Clusters are the numbers of baseline clusters run side by side
	// (nil: 1).
	Clusters []int
	// Time bounds each baseline run and each faultline campaign (0: one
	// minute).
	Time time.Duration
	// Strategies are faultline's exploration strategies, a row each (nil:
	// the random walk).
	Strategies []string
	// Weights are faultline's weights of event kinds, as fuzz.ParseWeights
	// reads them over the target's (fuzz.TargetWeights): a row for each strategy with each
	// ("" or nil: the defaults only). "crash=15,recover=30" restarts nodes
	// about as much, among faults, as the baseline's chaos loop does.
	Weights []string
	// Invariant is what both look for (zero: ElectionSafety): one the
	// baseline checks (baseline.Invariants).
	Invariant string
	// Progress, if set, receives a line per run.
	Progress io.Writer
}

// BaselineRow is one way of looking for the bug, over the seeds.
type BaselineRow struct {
	Who        string
	Found      int
	Seeds      int
	Wall, CPU  []float64 // seconds to the violation, one per seed (+Inf: none)
	Violations map[string]int
	// Panics counts the baseline's restarts whose raft.NewRaft panicked
	// (hashicorp/raft#85), over the seeds; Refused those it refused with
	// an error; Crashed the runs whose process raft's own goroutines
	// killed with a panic.
	Panics, Refused, Crashed int
}

// BaselineReport is faultline's walk beside the real-clock baseline on one
// target, for the invariant the baseline checks.
type BaselineReport struct {
	Command, Target string
	Invariant       string
	Rows            []BaselineRow // faultline's first, one per strategy
	Ours            int           // how many rows are faultline's
}

// Baseline runs, for each seed, faultline's walk on target until its first
// violation of o.Invariant (on one core, as every faultline run), then the
// real-clock baseline over the same options with each timer setting and
// number of clusters, and reports the time and CPU time of each to the
// violation.
//
// Both run in worker processes when w has a command (a panic in raft's own
// goroutines ends a worker, not the measurement; for the baseline it is
// what its test process would have died of); in this process otherwise (w
// nil, or without a command, as under tests). Both are timed alike: wall
// and CPU time of the process from the start of the search (faultline's
// walk, the baseline's clusters) to the violation, so that neither pays
// for its process's start; a worker that died of the bug counts whole.
func Baseline(t *testing.T, w *campaign.Workers, target interpose.Target, o BaselineOptions, command string) (BaselineReport, error) {
	if _, ok := interpose.Unwrap(target).(*hraft.Target); !ok {
		return BaselineReport{}, fmt.Errorf("measure baseline: %s is not a hashicorp/raft target: the baseline runs hashicorp/raft only", target.Name())
	}
	if w == nil {
		w = &campaign.Workers{T: t}
	}
	if o.Seeds == nil {
		o.Seeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	}
	if o.Timers == nil {
		o.Timers = []baseline.Timers{baseline.RaftTest, baseline.DefaultsBy10}
	}
	if o.Clusters == nil {
		o.Clusters = []int{1}
	}
	if o.Time <= 0 {
		o.Time = time.Minute
	}
	if o.Strategies == nil {
		o.Strategies = []string{fuzz.Random}
	}
	if o.Invariant == "" {
		o.Invariant = baseline.ElectionSafety
	}
	if err := baseline.CheckInvariant(o.Invariant); err != nil {
		return BaselineReport{}, fmt.Errorf("measure baseline: %w", err)
	}
	if o.Weights == nil {
		o.Weights = []string{""}
	}
	type walk struct {
		strategy string
		weights  *fuzz.Weights
	}
	var walks []walk
	rep := BaselineReport{Command: command, Target: target.Name(), Invariant: o.Invariant}
	var rows []*BaselineRow
	for _, st := range o.Strategies {
		for _, ws := range o.Weights {
			who := "faultline fuzz --want " + o.Invariant + " --strategy " + st
			wk := walk{strategy: st}
			if ws != "" {
				w, err := fuzz.ParseWeights(ws, fuzz.TargetWeights(target))
				if err != nil {
					return rep, fmt.Errorf("measure baseline: --weights: %w", err)
				}
				wk.weights = &w
				who += " --weights " + ws
			}
			walks = append(walks, wk)
			rows = append(rows, &BaselineRow{Who: who + " (one core)"})
		}
	}
	ours := len(rows)
	type setting struct {
		timers   baseline.Timers
		clusters int
	}
	var settings []setting
	for _, tm := range o.Timers {
		for _, n := range o.Clusters {
			settings = append(settings, setting{tm, n})
			who := fmt.Sprintf("real-clock chaos, %s (%v election timeout)", tm.Name, tm.Election)
			if n > 1 {
				who += fmt.Sprintf(", %d clusters side by side", n)
			}
			rows = append(rows, &BaselineRow{Who: who})
		}
	}
	for _, r := range rows {
		r.Seeds, r.Violations = len(o.Seeds), map[string]int{}
	}
	record := func(r *BaselineRow, found bool, invariant string, wall, cpu time.Duration) {
		if !found {
			r.Wall, r.CPU = append(r.Wall, math.Inf(1)), append(r.CPU, math.Inf(1))
			return
		}
		r.Found++
		r.Violations[invariant]++
		r.Wall, r.CPU = append(r.Wall, wall.Seconds()), append(r.CPU, cpu.Seconds())
	}
	progress := func(who string, seed uint64, found bool, wall, cpu time.Duration) {
		if o.Progress == nil {
			return
		}
		what := "nothing"
		if found {
			what = o.Invariant
		}
		fmt.Fprintf(o.Progress, "seed %d, %s: %s after %.3f s (%.3f CPU-s)\n", seed, who, what, wall.Seconds(), cpu.Seconds())
	}
	for _, seed := range o.Seeds {
		for k, wk := range walks {
			opts := fuzz.ApplyWorkload(target, fuzz.Options{Seed: seed, Want: o.Invariant, NoLiveness: true,
				Runs: math.MaxInt32, Time: o.Time, Confirm: -1, Strategy: wk.strategy, Weights: wk.weights}) // the baseline replays nothing either
			cpu0 := baseline.CPUTime()
			res, err := w.Fuzz(target, opts)
			if err != nil {
				return rep, err
			}
			cpu := baseline.CPUTime() - cpu0
			found := len(res.Violations) > 0
			wall := time.Duration(res.ElapsedS * float64(time.Second))
			if found {
				// From the walk's start, as the baseline's from its
				// chaos loop's; the worker's whole CPU time when the
				// walk could not say (its process died of the bug).
				v := res.Violations[0]
				wall = time.Duration(v.AfterS * float64(time.Second))
				if v.CPUS > 0 {
					cpu = time.Duration(v.CPUS * float64(time.Second))
				}
			}
			record(rows[k], found, o.Invariant, wall, cpu)
			progress(rows[k].Who, seed, found, wall, cpu)
		}
		for i, s := range settings {
			r, err := w.Baseline(target, baseline.Options{Seed: seed, Timers: s.timers,
				Clusters: s.clusters, Time: o.Time, Invariant: o.Invariant})
			if err != nil {
				return rep, err
			}
			if r.Crashed != "" {
				rows[ours+i].Crashed++
			}
			record(rows[ours+i], r.Found, r.Invariant, r.Wall, r.CPU)
			rows[ours+i].Panics += len(r.Panics)
			rows[ours+i].Refused += len(r.Refused)
			progress(rows[ours+i].Who, seed, r.Found, r.Wall, r.CPU)
		}
	}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, *r)
	}
	rep.Ours = ours
	return rep, nil
}

// WriteBaseline writes the report as results/baseline.md holds it: each
// way's median time and CPU time to the violation (a seed that found
// nothing counts as infinite), and the baseline's over faultline's.
func WriteBaseline(w io.Writer, rep BaselineReport, limit time.Duration) error {
	fmt.Fprintf(w, "# %s: faultline beside the real-clock baseline\n\n", rep.Target)
	fmt.Fprintf(w, "`%s`\n\n", rep.Command)
	fmt.Fprintf(w, "%d cores (%s/%s), %s. Medians over the seeds (a seed that found nothing within %s counts as never); "+
		"range in brackets; \"× faultline\" is a row's median over the first row's.\n\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), limit)
	t := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewMarkdown()), tablewriter.WithHeaderAutoFormat(tw.Off))
	inv := cmp.Or(rep.Invariant, baseline.ElectionSafety)
	t.Header("how", "found", "median time to "+inv+" (s)", "median CPU-s to it", "time × faultline", "CPU × faultline",
		"restarts that panicked (#85)", "restarts refused", "processes crashed")
	ref := rep.Rows[0]
	for i, r := range rep.Rows {
		wall, cpu := fuzz.Median(r.Wall), fuzz.Median(r.CPU)
		ratio := func(a, b float64) string {
			if i == 0 {
				return "1"
			}
			if math.IsInf(a, 1) {
				return "∞"
			}
			return fmt.Sprintf("%.1f", a/b)
		}
		ours := i < max(rep.Ours, 1)
		t.Append(r.Who, fmt.Sprintf("%d/%d", r.Found, r.Seeds), seconds(wall)+" "+span(r.Wall), seconds(cpu),
			ratio(wall, fuzz.Median(ref.Wall)), ratio(cpu, fuzz.Median(ref.CPU)), panics(ours, r.Panics),
			panics(ours, r.Refused), panics(ours, r.Crashed))
	}
	return t.Render()
}

func panics(ours bool, n int) string {
	if ours {
		return "-" // faultline's walk passes them over (its own NoPanic)
	}
	return fmt.Sprint(n)
}

func seconds(s float64) string {
	if math.IsInf(s, 1) || math.IsNaN(s) {
		return "never"
	}
	return fmt.Sprintf("%.3f", s)
}

// span is the range of the finite values, "(a–b)".
func span(xs []float64) string {
	var fin []float64
	for _, x := range xs {
		if !math.IsInf(x, 1) {
			fin = append(fin, x)
		}
	}
	if len(fin) == 0 {
		return ""
	}
	return fmt.Sprintf("(%.3f–%.3f)", slices.Min(fin), slices.Max(fin))
}
