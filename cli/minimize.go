package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/minimize"
)

func (a *app) minimizeCmd() *cobra.Command {
	var (
		opts   campaign.MinimizeJob
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "minimize FILE",
		Short: "Shrink a violating schedule to the events that matter, keeping the same violation",
		Long: `minimize runs ddmin over the external events, removes whole Raft terms of
deliveries, runs ddmin over the internal events and drops nodes the bug does not
need, repeating while the schedule shrinks. A candidate counts when any of
--replays replays shows the same violation fingerprint. The result is checked
with 20 more replays and written to --out, with its origin and statistics, and
its Markdown report beside it.

It runs in worker processes (this binary again): a candidate that crashes one
(a panic in raft's own goroutines) is skipped, and a new worker resumes from
the last schedule adopted.

Exit status: 0 when the result reproduced in every final replay, 1 otherwise
(or when the input is flaky), 2 on bad usage or a bad file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if opts.Replays < 1 {
				return usageErr("minimize: --replays %d: want at least 1", opts.Replays)
			}
			if opts.Budget <= 0 {
				return usageErr("minimize: --budget %s: want a positive duration", opts.Budget)
			}
			s, err := interpose.ReadFile(args[0])
			if err != nil {
				return inputErr(err)
			}
			if s.Violation == nil || len(s.Events) == 0 {
				return inputErr(fmt.Errorf("schedule %s shows no violation after any event: nothing to minimize", args[0]))
			}
			study, err := a.catalog.lookup(s.Target.Name)
			if err != nil {
				return inputErr(fmt.Errorf("schedule %s: %w", args[0], err))
			}
			if opts.Out == "" {
				opts.Out = strings.TrimSuffix(args[0], filepath.Ext(args[0])) + ".min.json"
			}
			if err := writable(opts.Out); err != nil {
				return inputErr(fmt.Errorf("minimize: --out %s: %w", opts.Out, err))
			}
			opts.Command = a.command()
			shown := a.progress()
			if !asJSON {
				opts.Progress = func(p campaign.MinimizeProgress) {
					shown.show(p.Elapsed, fmt.Sprintf("minimizing: %-15s %5d events  %6d replays  %s", p.Phase, p.Events, p.Replays,
						p.Elapsed.Round(time.Second)))
				}
			}
			return a.withT(func(t *testing.T) error {
				res, crashes, err := a.workers(t).Minimize(study.Target, args[0], s, opts)
				if opts.Progress != nil {
					shown.done()
				}
				if err != nil {
					return err
				}
				md := ""
				if !res.Flaky {
					md, _ = a.writeReport(opts.Out) // a report that cannot be written is left out
				}
				if asJSON {
					err = writeJSON(a.stdout, struct {
						*minimize.Result
						Out     string `json:"out,omitempty"`
						Report  string `json:"report,omitempty"`
						Crashes int    `json:"crashed_candidates"`
						// MinimizedFlaky: the result reproduced in fewer
						// than all of its final replays.
						MinimizedFlaky bool `json:"minimized_flaky,omitempty"`
					}{res, opts.Out, md, crashes, res.Minimization.Flaky})
				} else {
					err = a.printMinimize(args[0], opts.Out, md, res, crashes)
				}
				if err != nil {
					return err
				}
				if res.Flaky || res.Reproduced < res.Runs {
					return errFinding
				}
				return nil
			})
		},
	}
	f := c.Flags()
	f.DurationVar(&opts.Budget, "budget", 10*time.Minute, "time budget")
	f.IntVar(&opts.Replays, "replays", 2, "replays per candidate (exact, then wildcard, ...): it counts when any shows the violation")
	f.StringVar(&opts.Out, "out", "", "file for the minimized schedule (default: FILE with .min.json)")
	f.IntVar(&opts.DPOR, "dpor", 0, "executions of the DPOR search for a candidate that does not reproduce by exact replay (0: 3; -1: none)")
	f.BoolVar(&opts.ExternalsOnly, "externals-only", false, "only ddmin over external events (DEMi's first phase), for comparison")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func (a *app) printMinimize(in, out, md string, res *minimize.Result, crashes int) error {
	w := a.stdout
	if res.Flaky {
		fmt.Fprintf(w, "%s: did not reproduce %s in the first replays: flaky, not minimized\n", in, res.Fingerprint)
		return nil
	}
	t := tablewriter.NewWriter(w)
	t.Header("phase", "events after", "replays", "seconds")
	for _, p := range res.Phases {
		if err := t.Append(p.Name, strconv.Itoa(p.EventsAfter), strconv.Itoa(p.Replays), fmt.Sprintf("%.2f", p.ElapsedS)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s: %d events (%d external) -> %d events (%d external), %d replays in %.1fs",
		res.Fingerprint, res.InitialEvents, res.InitialExternals, res.MinimizedEvents, res.MinimizedExternals, res.Replays, res.ElapsedS)
	if res.PhaseEvents > 0 {
		fmt.Fprintf(w, "; counted before the stabilization phase (%d events, made again for each candidate)", res.PhaseEvents)
	}
	if !res.Complete {
		fmt.Fprint(w, " (budget spent)")
	}
	fmt.Fprintf(w, "\nreproduced %d/%d", res.Reproduced, res.Runs)
	if res.Minimization.Flaky {
		fmt.Fprintf(w, ": FLAKY, the minimized schedule shows the violation in %d of %d replays, not every time", res.Reproduced, res.Runs)
	}
	fmt.Fprintln(w)
	if res.HeldTo != "" {
		fmt.Fprintf(w, "held to its cause: every step kept the label known upstream: %s\n", res.HeldTo)
	}
	if res.DPORSearches > 0 {
		fmt.Fprintf(w, "dpor: %d of %d searches found another interleaving that shows it\n", res.DPORFound, res.DPORSearches)
	}
	if crashes > 0 {
		fmt.Fprintf(w, "%d candidates crashed the process (a different bug) and were skipped\n", crashes)
	}
	fmt.Fprintf(w, "schedule: %s\nshow:     %s show %s\n", out, a.name(), out)
	if md != "" {
		fmt.Fprintf(w, "report:   %s\n", md)
	}
	return nil
}
