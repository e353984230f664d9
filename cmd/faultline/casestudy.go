package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/minimize"
)

func (a *app) casestudyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "casestudy",
		Short: "DEMi's Raft case studies: fuzz, minimize, compare with DEMi's published table",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(a.casestudyListCmd(), a.casestudyRunCmd(), a.casestudyTableCmd())
	return c
}

func (a *app) casestudyListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the case studies with DEMi's published figures",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			t := tablewriter.NewTable(a.stdout, tablewriter.WithHeaderAutoFormat(tw.Off))
			t.Header("case", "bug", "invariant", "manual", "DEMi initial", "DEMi minimized", "DEMi manual", "DEMi runtime")
			for _, name := range casestudies.Cases {
				s, err := casestudies.Lookup(name)
				if err != nil {
					return err
				}
				manual := "-"
				if m, err := casestudies.Minimal(name); err == nil {
					manual = strconv.Itoa(len(m.Events))
				}
				row := []any{name, s.Summary, s.Expect, manual, "-", "-", "-", "-"}
				if d, ok := casestudies.DEMiResult(name); ok {
					row[4], row[5], row[6], row[7] = d.Initial, d.Minimized, d.Manual, seconds(d.RuntimeS)
				}
				if err := t.Append(row...); err != nil {
					return err
				}
			}
			return t.Render()
		},
	}
}

// caseResult is one case study's run: our figures beside DEMi's.
type caseResult struct {
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
	Attempts []int             `json:"attempts,omitempty"`
	DEMi     *casestudies.DEMi `json:"demi,omitempty"`
	Error    string            `json:"error,omitempty"`
}

type caseOptions struct {
	seed     uint64
	budget   time.Duration
	out      string
	attempts int
}

func (a *app) casestudyRunCmd() *cobra.Command {
	var (
		o      caseOptions
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "run NAME",
		Short: "Fuzz one case until a violation, minimize it, and report initial, minimized and manual sizes",
		Long: `run fuzzes the case with its workload (for DEMi's Raft bugs: start four
members, bootstrap their configuration, then deliveries, timer firings and
client commands, invariants checked every 20 events) until a violation,
minimizes the violation, and prints our figures beside DEMi's published ones.

Exit status: 0 when the minimized schedule reproduced in at least 19 of 20
replays, 1 otherwise, 2 on bad usage.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			s, err := casestudies.Lookup(args[0])
			if err != nil {
				return usageErr("casestudy run: %v", err)
			}
			// Under the command, withT ends the process with fn's outcome.
			return a.withT(func(t *testing.T) error {
				res, err := a.runCase(t, s, o)
				if err != nil {
					return err
				}
				if asJSON {
					err = writeJSON(a.stdout, res)
				} else {
					err = a.printCases([]caseResult{res}, a.stdout)
				}
				if err == nil && res.Reproduced < 19 {
					err = errFinding
				}
				return err
			})
		},
	}
	f := c.Flags()
	f.Uint64Var(&o.seed, "seed", 1, "campaign seed")
	f.DurationVar(&o.budget, "budget", 4*time.Minute, "minimization budget")
	f.StringVar(&o.out, "out", "faultline-out", "directory for the failing and minimized schedules")
	f.IntVar(&o.attempts, "attempts", 3, "violations to minimize while the first two minutes last (each found fuzzing on from the last); the smallest result is kept")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// runCase fuzzes a case until a violation and minimizes it, o.attempts
// times while the first two minutes last (each attempt fuzzes on from the run
// after the last violation), and keeps the smallest result.
func (a *app) runCase(t *testing.T, s casestudies.Study, o caseOptions) (caseResult, error) {
	res := caseResult{Case: s.Name, Seed: o.seed}
	if d, ok := casestudies.DEMiResult(s.Name); ok {
		res.DEMi = &d
	}
	if m, err := casestudies.Minimal(s.Name); err == nil {
		res.ManualEvents = len(m.Events)
	}
	opts := fuzz.Options{Seed: o.seed, Runs: caseRuns, Time: caseTime, Out: o.out, Command: a.command(), Want: s.Expect}
	if w := s.Workload; w != nil {
		opts.Events, opts.CheckEvery, opts.CheckFrom = w.Events, w.CheckEvery, w.CheckFrom
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return res, err
	}
	start := time.Now()
	best := ""
	for attempt := 1; attempt <= max(o.attempts, 1); attempt++ {
		if attempt > 1 && time.Since(start) > caseAttemptWindow {
			break
		}
		budget := min(o.budget, caseTime-time.Since(start))
		opts.Time = caseTime - time.Since(start)
		r, err := a.caseAttempt(t, s, o, opts, budget, attempt)
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
		res.Schedule = filepath.Join(o.out, s.Name+".min.json")
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

// caseAttempt fuzzes from opts.FirstRun until a violation and minimizes it
// within budget, in this process or (with the binary) through the fuzz and
// minimize commands, each in a process of its own: a panic in raft's own
// goroutines (hashicorp/raft targets) is then a finding, not the end of
// this command.
func (a *app) caseAttempt(t *testing.T, s casestudies.Study, o caseOptions, opts fuzz.Options, budget time.Duration, attempt int) (caseResult, error) {
	var res caseResult
	start := time.Now()
	opts.Runs = caseRuns - opts.FirstRun
	path := filepath.Join(o.out, fmt.Sprintf("%s-attempt%d.min.json", s.Name, attempt))
	var v fuzz.Found
	if a.self == "" {
		fz, err := fuzz.Run(t, s.Target, s.Options(opts))
		if err != nil {
			return res, err
		}
		res.FuzzRuns = fz.Runs
		if len(fz.Violations) > 0 {
			v = fz.Violations[0]
		}
	} else {
		var fz bytes.Buffer
		_, stderr, err := a.spawnTo(&fz, "fuzz", "--target", s.Name, "--seed", strconv.FormatUint(o.seed, 10),
			"--events", strconv.Itoa(opts.Events), "--check-every", strconv.Itoa(opts.CheckEvery),
			"--check-from", strconv.Itoa(opts.CheckFrom), "--want", opts.Want, "--first-run", strconv.Itoa(opts.FirstRun),
			"--runs", strconv.Itoa(opts.Runs), "--time", opts.Time.String(), "--out", o.out, "--json")
		if err != nil {
			return res, err
		}
		var fr fuzz.Result
		if err := json.Unmarshal(fz.Bytes(), &fr); err != nil {
			return res, fmt.Errorf("casestudy run: fuzz: %s", firstLine(stderr))
		}
		res.FuzzRuns = fr.Runs
		if len(fr.Violations) > 0 && fr.Violations[0].Schedule != "" {
			v = fr.Violations[0]
			if v.Sched, err = interpose.ReadFile(v.Schedule); err != nil {
				return res, err
			}
		}
	}
	res.FuzzS = time.Since(start).Seconds()
	if v.Sched == nil {
		res.Error = fmt.Sprintf("no violation in %d runs", res.FuzzRuns)
		return res, nil
	}
	res.Fingerprint, res.InitialEvents, res.InitialExternals = v.Fingerprint, len(v.Sched.Events), v.Sched.Externals()
	var mr *minimize.Result
	if a.self == "" {
		var err error
		if mr, err = minimize.Minimize(t, s.Target, v.Sched, minimize.Options{Budget: budget, Command: a.command()}); err != nil {
			return res, err
		}
		if !mr.Flaky {
			if err := mr.Schedule.WriteFile(path); err != nil {
				return res, err
			}
		}
	} else {
		var mz bytes.Buffer
		_, stderr, err := a.spawnTo(&mz, "minimize", v.Schedule, "--json", "--budget", budget.String(), "--out", path)
		if err != nil {
			return res, err
		}
		mr = &minimize.Result{}
		if err := json.Unmarshal(mz.Bytes(), mr); err != nil {
			return res, fmt.Errorf("casestudy run: minimize: %s", firstLine(stderr))
		}
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

// printCases renders case results side by side with DEMi's, as a terminal
// table (w a terminal or a pipe) or, with markdown, as a Markdown table.
func (a *app) printCases(rows []caseResult, w io.Writer, markdown ...bool) error {
	opts := []tablewriter.Option{tablewriter.WithHeaderAutoFormat(tw.Off)}
	if len(markdown) > 0 && markdown[0] {
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

func (a *app) casestudyTableCmd() *cobra.Command {
	var (
		out, seeds string
		budget     time.Duration
	)
	c := &cobra.Command{
		Use:   "table",
		Short: "Run every case study over several seeds and write the side-by-side table (results/casestudies.md)",
		Long: `table runs every case study with each seed (each run in a process of its
own, when the faultline binary is available) and writes a Markdown table of
our initial, minimized and manual sizes and times (medians over the seeds,
with the range and the worst case) beside DEMi's published ones, then one
row per run, naming the command and the machine.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			list, err := parseSeeds(seeds)
			if err != nil {
				return usageErr("casestudy table: %v", err)
			}
			dir, err := os.MkdirTemp("", "faultline-casestudies-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			var all []caseResult
			var sums []caseSummary
			for _, name := range casestudies.Cases {
				var rows []caseResult
				for _, seed := range list {
					r := a.tableRow(name, seed, budget, filepath.Join(dir, fmt.Sprintf("%s-%d", name, seed)))
					rows = append(rows, r)
					if a.tty {
						fmt.Fprintf(a.stderr, "%s seed %d: %d -> %d events (manual %d) in %s\n", name, seed, r.InitialEvents, r.MinimizedEvents, r.ManualEvents, seconds(r.ElapsedS))
					}
				}
				all = append(all, rows...)
				sums = append(sums, summarize(name, rows))
			}
			var b bytes.Buffer
			fmt.Fprintf(&b, "# Case studies: faultline beside DEMi\n\n")
			fmt.Fprintf(&b, "Made by `%s` on %s/%s, %d cores, %s (seeds %s, minimization budget %s).\n\n",
				a.command(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), seeds, budget)
			fmt.Fprintf(&b, "Sizes are events (deliveries, timer firings and external events). \"manual\" is the hand-made\n"+
				"minimal reproduction (casestudies/testdata); DEMi's columns are its published figures\n"+
				"(NSDI'16; ../shared/notes/demi-case-studies.md). Medians over the seeds; \"worst\" is the\n"+
				"largest minimized schedule, \"reproduced\" the fewest final replays that showed the violation.\n\n")
			if err := printSummaries(sums, &b); err != nil {
				return err
			}
			fmt.Fprintf(&b, "\nEvery run:\n\n")
			if err := a.printCases(all, &b, true); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s", b.String())
			fmt.Fprintf(a.stdout, "\nwritten to %s\n", out)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&out, "out", "results/casestudies.md", "the Markdown file to write")
	f.StringVar(&seeds, "seeds", "1-5", "campaign seeds of every case")
	f.DurationVar(&budget, "budget", 4*time.Minute, "minimization budget of every run")
	return c
}

// caseSummary is one case over several seeds.
type caseSummary struct {
	Case                       string
	Runs, Failed               int
	Initial, Minimized, Manual float64
	Lo, Hi                     int
	TimeS, MaxTimeS, Replays   float64
	WorstReproduced, FinalRuns int
	DEMi                       *casestudies.DEMi
}

func summarize(name string, rows []caseResult) caseSummary {
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
	sum.Initial, sum.Minimized, sum.TimeS, sum.Replays = median(in), median(mz), median(ts), median(rp)
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

// tableRow runs one case, in a process of its own when it can.
func (a *app) tableRow(name string, seed uint64, budget time.Duration, dir string) caseResult {
	r := caseResult{Case: name, Seed: seed}
	s, err := casestudies.Lookup(name)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if a.self == "" {
		err = a.withT(func(t *testing.T) error {
			r, err = a.runCase(t, s, caseOptions{seed: seed, budget: budget, out: dir, attempts: 3})
			return err
		})
		if err != nil {
			r.Error = err.Error()
		}
		return r
	}
	var out bytes.Buffer
	_, stderr, err := a.spawnTo(&out, "casestudy", "run", name, "--json", "--seed", strconv.FormatUint(seed, 10),
		"--budget", budget.String(), "--out", dir)
	if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
		r = caseResult{Case: name, Seed: seed, Error: "casestudy run failed: " + firstLine(stderr)}
		if err != nil && stderr == "" {
			r.Error = err.Error()
		}
	}
	return r
}
