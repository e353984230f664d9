package cli

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

func (a *app) replayCmd() *cobra.Command {
	var (
		repeat   int
		attempts int
		asJSON   bool
		wildcard bool
	)
	c := &cobra.Command{
		Use:   "replay FILE",
		Short: "Replay a schedule and check that it shows its violation",
		Long: `replay applies a schedule's events to a fresh cluster of its target, DEMi's
way: each recorded delivery delivers the pending message with the same
fingerprint, and a delivery whose message never appears is skipped.

hashicorp/raft's own goroutines sometimes go another way than they did
when the schedule was recorded (a select with two ready cases), and the
replay diverges: an event is skipped or does something else. A replay
whose execution diverged and missed the violation runs again on a fresh
cluster, up to --attempts executions; the report gives the first
execution's rate too. So does one that followed the recording but missed
a violation judged when the nodes were stopped after the last event (a
goroutine left blocked at shutdown): stopping them is no event of the
schedule, and raft's goroutines race as they shut down. A liveness
monitor's verdict (no leader, nothing committed at the end of the
stabilization phase) holds of a phase of fair delivery: an execution that
diverged is judged on a phase made afresh after the events before it.

Exit status: 0 when every run showed the recorded violation, 1 otherwise,
2 on bad usage or a bad file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if repeat < 1 {
				return usageErr("replay: --repeat %d: want at least 1", repeat)
			}
			if attempts < 1 {
				return usageErr("replay: --attempts %d: want at least 1", attempts)
			}
			s, err := interpose.ReadFile(args[0])
			if err != nil {
				return inputErr(err)
			}
			study, err := a.catalog.lookup(s.Target.Name)
			if err != nil {
				return inputErr(fmt.Errorf("schedule %s: %w", args[0], err))
			}
			return a.withT(func(t *testing.T) error {
				var rep *fuzz.ReplayReport
				if s.Violation != nil && s.Violation.Crash {
					// It ended in a crash of the process: replayed in worker
					// processes, one execution each.
					rep, err = a.workers(t).ReplayCrash(args[0], s, repeat)
				} else {
					rep, err = fuzz.Replay(t, study.Target, s, fuzz.ReplayOptions{Repeat: repeat, Attempts: attempts, Wildcard: wildcard})
				}
				if err != nil {
					return err
				}
				return a.reportReplay(args[0], s, rep, asJSON)
			})
		},
	}
	c.Flags().IntVar(&repeat, "repeat", 1, "number of replays")
	c.Flags().IntVar(&attempts, "attempts", replayAttempts, replayAttemptsUsage)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&wildcard, "wildcard", false, "deliver a recorded message that never appears as another of its type between the same nodes, as the minimizer does (how faultline bisect carries a schedule to another release)")
	return c
}

// reportReplay prints a replay report; the exit status is 1 unless every run
// reproduced the recorded outcome.
func (a *app) reportReplay(path string, s *interpose.Schedule, rep *fuzz.ReplayReport, asJSON bool) error {
	if asJSON {
		if err := writeJSON(a.stdout, rep); err != nil {
			return err
		}
	} else {
		a.printReplay(path, s, rep)
	}
	if rep.Reproduced < rep.Runs {
		return errFinding
	}
	return nil
}

func (a *app) printReplay(path string, s *interpose.Schedule, rep *fuzz.ReplayReport) {
	w := a.stdout
	want := rep.Expected
	if want == "" {
		want = "no violation"
	}
	fmt.Fprintf(w, "%s: %d events, expects %s\n", path, len(s.Events), want)
	fmt.Fprintf(w, "reproduced %d/%d", rep.Reproduced, rep.Runs)
	if rep.Executions > rep.Runs {
		fmt.Fprintf(w, " in %d executions (%d/%d in the first execution)", rep.Executions, rep.FirstReproduced, rep.Runs)
	}
	fmt.Fprintln(w)
	if last := rep.Last; last != nil {
		fmt.Fprintf(w, "last run: %d events applied, %d skipped; %s\n", last.Applied, last.Skipped, last.Violation)
	}
	for _, fp := range slices.Sorted(maps.Keys(rep.Seen)) {
		if n := rep.Seen[fp]; fp != rep.Expected {
			if fp == "" {
				fp = "no violation"
			}
			fmt.Fprintf(w, "  %d runs showed %s instead\n", n, fp)
		}
	}
}
