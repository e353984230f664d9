package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/casestudies"
)

// campaignOnce runs one campaign in a process of its own, in a new
// directory under base, and returns its store's stats and violations.
func (a *app) campaignOnce(base string, args ...string) (campaign.Stats, []campaign.Violation, error) {
	dir, err := os.MkdirTemp(base, "campaign-")
	if err != nil {
		return campaign.Stats{}, nil, err
	}
	defer os.RemoveAll(dir)
	code, stderr, err := a.spawn(append([]string{"campaign", "start", "--dir", dir}, args...)...)
	if err != nil {
		return campaign.Stats{}, nil, err
	}
	if code != 0 {
		return campaign.Stats{}, nil, fmt.Errorf("campaign %s: exit %d: %s", strings.Join(args, " "), code, firstLine(stderr))
	}
	st, err := campaign.Open(dir, false)
	if err != nil {
		return campaign.Stats{}, nil, err
	}
	defer st.Close()
	stats, err := st.Stats()
	if err != nil {
		return stats, nil, err
	}
	vs, err := st.Violations()
	return stats, vs, err
}

func (a *app) measureScalingCmd() *cobra.Command {
	var (
		target string
		dur    time.Duration
		repeat int
	)
	c := &cobra.Command{
		Use:   "scaling --target NAME",
		Short: "Campaign throughput with 1 and 2 workers (no background minimization)",
		Long: `scaling runs campaigns of --time with 1 worker and with 2 workers, alternating,
--repeat times each, and prints the median events/s of each and their ratio.
Minimization is off, so that only fuzzing is measured.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if _, err := casestudies.Lookup(target); err != nil {
				return usageErr("measure scaling: %v", err)
			}
			if a.self == "" {
				return usageErr("measure scaling: needs the faultline binary")
			}
			base, err := os.MkdirTemp("", "faultline-scaling-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(base)
			fmt.Fprintf(a.stdout, "$ %s\n\n", a.command())
			t := tablewriter.NewWriter(a.stdout)
			t.Header("round", "workers", "runs", "events", "seconds", "events per s", "worker peak RSS MiB")
			rates := map[int][]float64{}
			for round := 1; round <= repeat; round++ {
				for _, w := range []int{1, 2} {
					st, _, err := a.campaignOnce(base, "--target", target, "--workers", strconv.Itoa(w),
						"--time", dur.String(), "--minimize-budget", "0")
					if err != nil {
						return err
					}
					rate := float64(st.Events) / max(st.ElapsedS, 1e-9)
					rates[w] = append(rates[w], rate)
					if err := t.Append(round, w, st.Runs, st.Events, fmt.Sprintf("%.1f", st.ElapsedS),
						fmt.Sprintf("%.0f", rate), fmt.Sprintf("%.1f", float64(st.RSSLatestKB())/1024)); err != nil {
						return err
					}
				}
			}
			if err := t.Render(); err != nil {
				return err
			}
			one, two := median(rates[1]), median(rates[2])
			fmt.Fprintf(a.stdout, "\n%s: median %.0f events/s with 1 worker, %.0f with 2: %.2fx (%d cores)\n",
				target, one, two, two/one, runtime.NumCPU())
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "raft", "target")
	f.DurationVar(&dur, "time", 30*time.Second, "length of each campaign")
	f.IntVar(&repeat, "repeat", 3, "campaigns per worker count")
	return c
}

// strategyRow is one target and strategy of the strategies table.
type strategyRow struct {
	target, strategy string
	times            []float64 // seconds to the first violation (found only)
	runs             []int     // runs to the first violation (found only)
	found, seeds     int
	invariants       map[string]int
}

func (a *app) measureStrategiesCmd() *cobra.Command {
	var (
		targets, strategies, seeds, out string
		limit                           time.Duration
		events                          int
	)
	c := &cobra.Command{
		Use:   "strategies",
		Short: "Time to the first violation of each exploration strategy on every bug target",
		Long: `strategies runs, for each target, strategy and seed, a campaign with one
worker that stops at its first violation (or at --time), and writes a table
of the median time and runs to the first violation.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if a.self == "" {
				return usageErr("measure strategies: needs the faultline binary")
			}
			list, err := parseSeeds(seeds)
			if err != nil {
				return usageErr("measure strategies: %v", err)
			}
			var names []string
			if targets == "" {
				for _, s := range casestudies.All() {
					if s.Expect != "" {
						names = append(names, s.Name)
					}
				}
			} else {
				names = strings.Split(targets, ",")
			}
			for _, n := range names {
				if _, err := casestudies.Lookup(n); err != nil {
					return usageErr("measure strategies: %v", err)
				}
			}
			base, err := os.MkdirTemp("", "faultline-strategies-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(base)
			var rows []strategyRow
			for _, target := range names {
				for _, strategy := range strings.Split(strategies, ",") {
					r := strategyRow{target: target, strategy: strategy, seeds: len(list), invariants: map[string]int{}}
					for _, seed := range list {
						args := []string{"--target", target, "--strategy", strategy, "--seed", strconv.FormatUint(seed, 10),
							"--workers", "1", "--stop-at", "1", "--time", limit.String(), "--minimize-budget", "0"}
						if events > 0 {
							args = append(args, "--events", strconv.Itoa(events))
						}
						_, vs, err := a.campaignOnce(base, args...)
						if err != nil {
							return err
						}
						fmt.Fprintf(a.stderr, "%s %s seed %d: ", target, strategy, seed)
						if len(vs) == 0 {
							fmt.Fprintln(a.stderr, "none")
							continue
						}
						v := vs[0]
						r.found++
						r.times = append(r.times, v.AfterS)
						r.runs = append(r.runs, v.Run)
						r.invariants[v.Invariant]++
						fmt.Fprintf(a.stderr, "%s after %.2f s (run %d)\n", v.Invariant, v.AfterS, v.Run)
					}
					rows = append(rows, r)
				}
			}
			w := a.stdout
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return a.writeStrategies(w, rows, limit)
		},
	}
	f := c.Flags()
	f.StringVar(&targets, "targets", "", "comma-separated targets (default: every target with a bug)")
	f.StringVar(&strategies, "strategies", "random,pct,portfolio", "comma-separated strategies")
	f.StringVar(&seeds, "seeds", "1-3", "campaign seeds")
	f.DurationVar(&limit, "time", 2*time.Minute, "give up on a campaign after this long")
	f.IntVar(&events, "events", 0, "events per run (0: each target's workload)")
	f.StringVar(&out, "out", "", "write the Markdown table to this file")
	return c
}

func (a *app) writeStrategies(w io.Writer, rows []strategyRow, limit time.Duration) error {
	fmt.Fprintf(w, "# Time to the first violation, by exploration strategy\n\n")
	fmt.Fprintf(w, "`%s`\n\n", a.command())
	fmt.Fprintf(w, "One worker per campaign, stopped at its first violation or after %s; %d cores (%s/%s). "+
		"Median over the seeds that found one; runs are the index of the first violating run.\n\n",
		limit, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	t := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewMarkdown()), tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("target", "strategy", "found", "median time (s)", "median runs", "first violation")
	for _, r := range rows {
		med, runs := "-", "-"
		if r.found > 0 {
			med = fmt.Sprintf("%.2f", median(r.times))
			rs := make([]float64, len(r.runs))
			for i, x := range r.runs {
				rs[i] = float64(x + 1)
			}
			runs = fmt.Sprintf("%.0f", median(rs))
		}
		var invs []string
		for k, n := range r.invariants {
			invs = append(invs, fmt.Sprintf("%s (%d)", k, n))
		}
		slices.Sort(invs)
		if err := t.Append(r.target, r.strategy, fmt.Sprintf("%d/%d", r.found, r.seeds), med, runs, strings.Join(invs, ", ")); err != nil {
			return err
		}
	}
	return t.Render()
}
