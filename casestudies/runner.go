package casestudies

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// Result is one case study's run: our figures beside DEMi's.
type Result struct {
	Case               string  `json:"case"`
	Seed               uint64  `json:"seed"`
	Fingerprint        string  `json:"fingerprint,omitempty"`
	FuzzRuns           int     `json:"fuzz_runs"`
	InitialEvents      int     `json:"initial_events"`
	InitialExternals   int     `json:"initial_externals"`
	MinimizedEvents    int     `json:"minimized_events"`
	MinimizedExternals int     `json:"minimized_externals"`
	ManualEvents       int     `json:"manual_events"`
	Replays            int     `json:"replays"`
	FuzzS              float64 `json:"fuzz_s"`
	MinimizeS          float64 `json:"minimize_s"`
	ElapsedS           float64 `json:"elapsed_s"`
	Reproduced         int     `json:"reproduced"`
	Runs               int     `json:"runs"`
	Schedule           string  `json:"schedule,omitempty"`
	// Attempts are the minimized sizes of each violation minimized; the
	// smallest is the result.
	Attempts []int  `json:"attempts,omitempty"`
	DEMi     *DEMi  `json:"demi,omitempty"`
	Error    string `json:"error,omitempty"`
}

// RunOptions configure Run. The zero value fuzzes with seed 1, minimizes
// for four minutes, tries three violations and writes into faultline-out.
type RunOptions struct {
	// Seed is the campaign seed (0: 1).
	Seed uint64
	// Budget bounds each minimization (0: 4 minutes).
	Budget time.Duration
	// Out is the directory of the failing and minimized schedules
	// ("": faultline-out).
	Out string
	// Attempts is how many violations are minimized while the first two
	// minutes last, each found fuzzing on from the last; the smallest result
	// is kept (0: 3).
	Attempts int
	// Command is recorded in the schedules' origins.
	Command string
}

// Run fuzzes a case until the violation it is about (Study.Expect) and
// minimizes it, o.Attempts times while the first two minutes last (each
// attempt fuzzing on from the run after the last violation), and keeps the
// smallest result, written to o.Out as NAME.min.json. Fuzzing and
// minimizing run in w's worker processes, so that a panic in raft's own
// goroutines is a finding, not the end of the program (in this process when
// w has none).
func Run(w *campaign.Workers, s Study, o RunOptions) (Result, error) {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Budget <= 0 {
		o.Budget = 4 * time.Minute
	}
	if o.Out == "" {
		o.Out = "faultline-out"
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	res := Result{Case: s.Name, Seed: o.Seed}
	if d, ok := DEMiResult(s.Name); ok {
		res.DEMi = &d
	}
	if m, err := Minimal(s.Name); err == nil {
		res.ManualEvents = len(m.Events)
	}
	// The case studies are safety bugs, measured as DEMi measured them:
	// without a stabilization phase.
	opts := fuzz.Options{Seed: o.Seed, Runs: caseRuns, Time: caseTime, Out: o.Out, Command: o.Command, Want: s.Expect, NoLiveness: true}
	if w := s.Workload; w != nil {
		opts.Events, opts.CheckEvery, opts.CheckFrom = w.Events, w.CheckEvery, w.CheckFrom
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return res, err
	}
	start := time.Now()
	best := ""
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		if attempt > 1 && time.Since(start) > caseAttemptWindow {
			break
		}
		budget := min(o.Budget, caseTime-time.Since(start))
		opts.Time = caseTime - time.Since(start)
		r, err := attemptCase(w, s, o, opts, budget, attempt)
		if err != nil {
			return res, err
		}
		res.FuzzS += r.FuzzS
		res.MinimizeS += r.MinimizeS
		res.FuzzRuns += r.FuzzRuns
		res.Replays += r.Replays
		opts.FirstRun += r.FuzzRuns
		if r.Error != "" {
			if best == "" {
				res.Error = r.Error
			}
			break
		}
		res.Attempts = append(res.Attempts, r.MinimizedEvents)
		if best == "" || r.MinimizedEvents < res.MinimizedEvents {
			best = r.Schedule
			res.Fingerprint, res.InitialEvents, res.InitialExternals = r.Fingerprint, r.InitialEvents, r.InitialExternals
			res.MinimizedEvents, res.MinimizedExternals = r.MinimizedEvents, r.MinimizedExternals
			res.Reproduced, res.Runs = r.Reproduced, r.Runs
		}
	}
	res.ElapsedS = time.Since(start).Seconds()
	if best != "" {
		res.Schedule = filepath.Join(o.Out, s.Name+".min.json")
		data, err := os.ReadFile(best)
		if err != nil {
			return res, err
		}
		if err := os.WriteFile(res.Schedule, data, 0o644); err != nil {
			return res, err
		}
	}
	return res, nil
}

// A case's campaign stops at its first violation, or after caseRuns runs
// or caseTime; further attempts start only within caseAttemptWindow.
const (
	caseRuns          = 100000
	caseTime          = 5 * time.Minute
	caseAttemptWindow = 2 * time.Minute
)

// attemptCase fuzzes from opts.FirstRun until a violation and minimizes it
// within budget.
func attemptCase(w *campaign.Workers, s Study, o RunOptions, opts fuzz.Options, budget time.Duration, attempt int) (Result, error) {
	var res Result
	start := time.Now()
	opts.Runs = caseRuns - opts.FirstRun
	path := filepath.Join(o.Out, fmt.Sprintf("%s-attempt%d.min.json", s.Name, attempt))
	fz, err := w.Fuzz(s.Target, s.Options(opts))
	if err != nil {
		return res, err
	}
	res.FuzzRuns = fz.Runs
	res.FuzzS = time.Since(start).Seconds()
	var v fuzz.Found
	if len(fz.Violations) > 0 {
		v = fz.Violations[0]
	}
	if v.Sched == nil && v.Schedule != "" {
		if v.Sched, err = interpose.ReadFile(v.Schedule); err != nil {
			return res, err
		}
	}
	if v.Sched == nil || v.Schedule == "" {
		res.Error = fmt.Sprintf("no violation in %d runs", res.FuzzRuns)
		return res, nil
	}
	res.Fingerprint, res.InitialEvents, res.InitialExternals = v.Fingerprint, len(v.Sched.Events), v.Sched.Externals()
	mr, _, err := w.Minimize(s.Target, v.Schedule, v.Sched, campaign.MinimizeJob{Budget: budget, Out: path, Command: o.Command})
	if err != nil {
		return res, err
	}
	res.MinimizeS = mr.ElapsedS
	res.MinimizedEvents, res.MinimizedExternals = mr.MinimizedEvents, mr.MinimizedExternals
	res.Replays, res.Reproduced, res.Runs = mr.Replays, mr.Reproduced, mr.Runs
	if mr.Flaky {
		res.Error = "the violation did not replay: flaky, not minimized"
		return res, nil
	}
	res.Schedule = path
	return res, nil
}

func seconds(s float64) string {
	switch {
	case s >= 3600:
		return fmt.Sprintf("%.1f h", s/3600)
	case s >= 60:
		return fmt.Sprintf("%.1f min", s/60)
	}
	return fmt.Sprintf("%.1f s", s)
}

func ratio(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// WriteResults writes case results side by side with DEMi's, as a terminal
// table or, with markdown, as a Markdown table.
func WriteResults(w io.Writer, rows []Result, markdown bool) error {
	opts := []tablewriter.Option{tablewriter.WithHeaderAutoFormat(tw.Off)}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	t := tablewriter.NewTable(w, opts...)
	t.Header("case", "initial", "minimized", "manual", "minimized / manual", "time (fuzz + minimize)",
		"replays", "reproduced", "DEMi initial", "DEMi minimized", "DEMi manual", "DEMi / manual", "DEMi runtime")
	for _, r := range rows {
		row := []any{r.Case, r.InitialEvents, r.MinimizedEvents, dash(r.ManualEvents), ratio(r.MinimizedEvents, r.ManualEvents),
			seconds(r.ElapsedS), r.Replays, fmt.Sprintf("%d/%d", r.Reproduced, r.Runs), "-", "-", "-", "-", "-"}
		if r.Seed != 0 {
			row[0] = fmt.Sprintf("%s (seed %d)", r.Case, r.Seed)
		}
		if r.Error != "" {
			row[1], row[2] = r.Error, "-"
		}
		if d := r.DEMi; d != nil {
			row[8], row[9], row[10], row[11], row[12] = d.Initial, d.Minimized, d.Manual, ratio(d.Minimized, d.Manual), seconds(d.RuntimeS)
		}
		if err := t.Append(row...); err != nil {
			return err
		}
	}
	return t.Render()
}

func dash(n int) any {
	if n == 0 {
		return "-"
	}
	return n
}

// caseSummary is one case over several seeds.
type caseSummary struct {
	Case                       string
	Runs, Failed               int
	Initial, Minimized, Manual float64
	Lo, Hi                     int
	TimeS, MaxTimeS, Replays   float64
	WorstReproduced, FinalRuns int
	DEMi                       *DEMi
}

func summarize(name string, rows []Result) caseSummary {
	sum := caseSummary{Case: name, Runs: len(rows), WorstReproduced: -1}
	var in, mz, ts, rp []float64
	for _, r := range rows {
		sum.DEMi = r.DEMi
		sum.Manual = float64(r.ManualEvents)
		if r.Error != "" {
			sum.Failed++
			continue
		}
		in, mz = append(in, float64(r.InitialEvents)), append(mz, float64(r.MinimizedEvents))
		ts, rp = append(ts, r.ElapsedS), append(rp, float64(r.Replays))
		if sum.Lo == 0 || r.MinimizedEvents < sum.Lo {
			sum.Lo = r.MinimizedEvents
		}
		sum.Hi = max(sum.Hi, r.MinimizedEvents)
		sum.MaxTimeS = max(sum.MaxTimeS, r.ElapsedS)
		if sum.WorstReproduced < 0 || r.Reproduced < sum.WorstReproduced {
			sum.WorstReproduced, sum.FinalRuns = r.Reproduced, r.Runs
		}
	}
	sum.Initial, sum.Minimized, sum.TimeS, sum.Replays = fuzz.Median(in), fuzz.Median(mz), fuzz.Median(ts), fuzz.Median(rp)
	return sum
}

func printSummaries(sums []caseSummary, w io.Writer) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRenderer(renderer.NewMarkdown()))
	t.Header("case", "seeds", "initial", "minimized (range)", "manual", "minimized / manual", "worst / manual",
		"time, fuzz + minimize (max)", "replays", "reproduced (worst)", "DEMi initial", "DEMi minimized", "DEMi manual", "DEMi / manual", "DEMi runtime")
	for _, s := range sums {
		ratio := func(x float64) string {
			if s.Manual == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f×", x/s.Manual)
		}
		seeds := strconv.Itoa(s.Runs)
		if s.Failed > 0 {
			seeds = fmt.Sprintf("%d (%d failed)", s.Runs, s.Failed)
		}
		row := []any{s.Case, seeds, fmt.Sprintf("%.0f", s.Initial), fmt.Sprintf("%.0f (%d–%d)", s.Minimized, s.Lo, s.Hi),
			dash(int(s.Manual)), ratio(s.Minimized), ratio(float64(s.Hi)),
			fmt.Sprintf("%s (%s)", seconds(s.TimeS), seconds(s.MaxTimeS)), fmt.Sprintf("%.0f", s.Replays),
			fmt.Sprintf("%d/%d", s.WorstReproduced, s.FinalRuns), "-", "-", "-", "-", "-"}
		if d := s.DEMi; d != nil {
			row[10], row[11], row[12], row[13], row[14] = d.Initial, d.Minimized, d.Manual, fmt.Sprintf("%.2f×", float64(d.Minimized)/float64(d.Manual)), seconds(d.RuntimeS)
		}
		if err := t.Append(row...); err != nil {
			return err
		}
	}
	return t.Render()
}

// TableOptions configure Table. The zero value runs seeds 1 to 5 with a
// four-minute budget and prints no progress.
type TableOptions struct {
	// Seeds are the campaign seeds of every case (nil: 1 to 5); SeedsText
	// is how the table's heading names them ("": as listed).
	Seeds     []uint64
	SeedsText string
	// Budget bounds each minimization (0: 4 minutes).
	Budget time.Duration
	// Command is the command line that makes the table, written in it.
	Command string
	// Progress, if set, receives a line per run.
	Progress io.Writer
}

// Table runs every case of Cases with each seed (Run, three attempts) and
// returns the Markdown table of our initial, minimized and manual sizes and
// times (medians over the seeds, with the range and the worst case) beside
// DEMi's published ones, then one row per run, naming the command and the
// machine: results/casestudies.md.
func Table(w *campaign.Workers, o TableOptions) ([]byte, error) {
	if o.Seeds == nil {
		o.Seeds = []uint64{1, 2, 3, 4, 5}
	}
	if o.SeedsText == "" {
		parts := make([]string, len(o.Seeds))
		for i, s := range o.Seeds {
			parts[i] = strconv.FormatUint(s, 10)
		}
		o.SeedsText = strings.Join(parts, ",")
	}
	if o.Budget <= 0 {
		o.Budget = 4 * time.Minute
	}
	dir, err := campaign.MkdirTemp("faultline-casestudies-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var all []Result
	var sums []caseSummary
	for _, name := range Cases {
		s, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		var rows []Result
		for _, seed := range o.Seeds {
			r, err := Run(w, s, RunOptions{Seed: seed, Budget: o.Budget, Out: filepath.Join(dir, fmt.Sprintf("%s-%d", name, seed)),
				Command: o.Command})
			if err != nil {
				r = Result{Case: name, Seed: seed, Error: "casestudy run failed: " + err.Error()}
			}
			rows = append(rows, r)
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "%s seed %d: %d -> %d events (manual %d) in %s\n", name, seed, r.InitialEvents, r.MinimizedEvents, r.ManualEvents, seconds(r.ElapsedS))
			}
		}
		all = append(all, rows...)
		sums = append(sums, summarize(name, rows))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Case studies: faultline beside DEMi\n\n")
	fmt.Fprintf(&b, "Made by `%s` on %s/%s, %d cores, %s (seeds %s, minimization budget %s).\n\n",
		o.Command, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), o.SeedsText, o.Budget)
	fmt.Fprintf(&b, "Sizes are events (deliveries, timer firings and external events). \"manual\" is the hand-made\n"+
		"minimal reproduction (casestudies/testdata); DEMi's columns are its published figures\n"+
		"(NSDI'16; docs/case-studies.md). Medians over the seeds; \"worst\" is the\n"+
		"largest minimized schedule, \"reproduced\" the fewest final replays that showed the violation.\n\n")
	if err := printSummaries(sums, &b); err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "\nEvery run:\n\n")
	if err := WriteResults(&b, all, true); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteList writes the case studies with DEMi's published figures.
func WriteList(w io.Writer) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("case", "bug", "invariant", "manual", "DEMi initial", "DEMi minimized", "DEMi manual", "DEMi runtime")
	for _, name := range Cases {
		s, err := Lookup(name)
		if err != nil {
			return err
		}
		manual := "-"
		if m, err := Minimal(name); err == nil {
			manual = strconv.Itoa(len(m.Events))
		}
		row := []any{name, s.Summary, s.Expect, manual, "-", "-", "-", "-"}
		if d, ok := DEMiResult(name); ok {
			row[4], row[5], row[6], row[7] = d.Initial, d.Minimized, d.Manual, seconds(d.RuntimeS)
		}
		if err := t.Append(row...); err != nil {
			return err
		}
	}
	return t.Render()
}
