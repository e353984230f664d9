package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/measure"
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
		RunE:  func(*cobra.Command, []string) error { return casestudies.WriteList(a.stdout) },
	}
}

func (a *app) casestudyRunCmd() *cobra.Command {
	var (
		o      casestudies.RunOptions
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
			s, err := casestudies.Lookup(cut(args[0]))
			if err != nil {
				return usageErr("casestudy run: %v", err)
			}
			if o.Budget <= 0 || o.Attempts < 1 {
				return usageErr("casestudy run: --budget %s, --attempts %d: want a positive duration and at least 1", o.Budget, o.Attempts)
			}
			o.Command = a.command()
			// Under the command, withT ends the process with fn's outcome.
			return a.withT(func(t *testing.T) error {
				res, err := casestudies.Run(a.workers(t), s, o)
				if err != nil {
					return err
				}
				if asJSON {
					err = writeJSON(a.stdout, res)
				} else {
					err = casestudies.WriteResults(a.stdout, []casestudies.Result{res}, false)
				}
				if err == nil && res.Reproduced < 19 {
					err = errFinding
				}
				return err
			})
		},
	}
	f := c.Flags()
	f.Uint64Var(&o.Seed, "seed", 1, "campaign seed")
	f.DurationVar(&o.Budget, "budget", 4*time.Minute, "minimization budget")
	f.StringVar(&o.Out, "out", "faultline-out", "directory for the failing and minimized schedules")
	f.IntVar(&o.Attempts, "attempts", 3, "violations to minimize while the first two minutes last (each found fuzzing on from the last); the smallest result is kept")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func (a *app) casestudyTableCmd() *cobra.Command {
	var (
		out, seeds string
		budget     time.Duration
	)
	c := &cobra.Command{
		Use:   "table",
		Short: "Run every case study over several seeds and write the side-by-side table (results/casestudies.md)",
		Long: `table runs every case study with each seed (fuzzing and minimizing in worker
processes) and writes a Markdown table of our initial, minimized and manual
sizes and times (medians over the seeds, with the range and the worst case)
beside DEMi's published ones, then one row per run, naming the command and
the machine.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			list, err := measure.ParseSeeds(seeds)
			if err != nil {
				return usageErr("casestudy table: %v", err)
			}
			if budget <= 0 {
				return usageErr("casestudy table: --budget %s: want a positive duration", budget)
			}
			return a.withT(func(t *testing.T) error {
				o := casestudies.TableOptions{Seeds: list, SeedsText: seeds, Budget: budget, Command: a.command()}
				if a.tty {
					o.Progress = a.stderr
				}
				md, err := casestudies.Table(a.workers(t), o)
				if err != nil {
					return err
				}
				if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(out, md, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s\nwritten to %s\n", md, out)
				return nil
			})
		},
	}
	f := c.Flags()
	f.StringVar(&out, "out", "results/casestudies.md", "the Markdown file to write")
	f.StringVar(&seeds, "seeds", "1-5", "campaign seeds of every case")
	f.DurationVar(&budget, "budget", 4*time.Minute, "minimization budget of every run")
	return c
}
