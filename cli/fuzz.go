package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/faultline-dev/faultline/minimize"
)

func (a *app) fuzzCmd() *cobra.Command {
	var (
		weights    *weightsFlag
		target     string
		opts       fuzz.Options
		asJSON     bool
		minimizeIt bool
		budget     time.Duration
	)
	c := &cobra.Command{
		Use:   "fuzz --target NAME",
		Short: "Hunt schedules that break an invariant",
		Long: `fuzz runs seeded random walks over deliveries, drops, duplicates, clock
advances, crashes, recoveries, client writes, partitions, membership changes and
leadership transfers, checking invariants at every quiescent point. Each
violating schedule is written to --out.

The runs happen in a worker process (this binary again): a panic in raft's own
goroutines ends the worker, not the campaign, and becomes a NoPanic violation
with its schedule.

Exit status: 0 when no violation was found, 1 when one was, 2 on bad usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			study, err := a.catalog.lookup(target)
			if err != nil {
				return usageErr("fuzz: %v", err)
			}
			weights.apply(&opts, study.Target)
			if opts.Nodes < 0 || opts.Nodes > 64 || cmd.Flags().Changed("nodes") && opts.Nodes == 0 {
				return usageErr("fuzz: --nodes %d: want 1..64", opts.Nodes)
			}
			if err := checkStrategy(opts.Strategy, opts.PCTDepth); err != nil {
				return usageErr("fuzz: %v", err)
			}
			if err := checkFaults(opts); err != nil {
				return usageErr("fuzz: %v", err)
			}
			if opts.Runs < 1 || opts.Events < 1 {
				return usageErr("fuzz: --runs %d, --events %d: want at least 1 each", opts.Runs, opts.Events)
			}
			if opts.CheckEvery < 0 || opts.CheckFrom < 0 || opts.Time < 0 {
				return usageErr("fuzz: --check-every, --check-from and --time cannot be negative")
			}
			if budget <= 0 {
				return usageErr("fuzz: --minimize-budget %s: want a positive duration", budget)
			}
			if !cmd.Flags().Changed("runs") && opts.Time > 0 {
				opts.Runs = int(^uint(0) >> 1) // --time alone: run until it is up
			}
			opts.Command = a.command()
			opts = study.Options(opts)
			shown := a.progress()
			if !asJSON {
				opts.Progress = func(p fuzz.Progress) {
					shown.show(p.Elapsed, fmt.Sprintf("%d runs, %d events, %.0f events/s, %d violations",
						p.Runs, p.Events, float64(p.Events)/max(p.Elapsed.Seconds(), 1e-9), p.Violations))
				}
			}
			return a.withT(func(t *testing.T) error {
				w := a.workers(t)
				res, err := w.Fuzz(study.Target, opts)
				if opts.Progress != nil {
					shown.done()
				}
				if err != nil {
					return err
				}
				var minimized []minimizedFound
				if minimizeIt {
					if minimized, err = a.minimizeAll(w, study, res, budget); err != nil {
						return err
					}
				}
				if asJSON {
					if err := writeJSON(a.stdout, struct {
						*fuzz.Result
						Minimized []minimizedFound `json:"minimized,omitempty"`
					}{res, minimized}); err != nil {
						return err
					}
				} else {
					a.printFuzz(res)
					for _, m := range minimized {
						fmt.Fprintf(a.stdout, "\nminimized %s: %s\n", m.Schedule, m.Summary)
					}
				}
				if len(res.Violations) > 0 {
					return errFinding
				}
				return nil
			})
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "target to fuzz (see faultline targets)")
	f.IntVar(&opts.Nodes, "nodes", 0, "cluster size (default: the target's)")
	f.Uint64Var(&opts.Seed, "seed", 1, "campaign seed")
	f.IntVar(&opts.Runs, "runs", 1000, "number of runs (random walks)")
	f.DurationVar(&opts.Time, "time", 0, "stop starting runs after this long (0: no limit)")
	f.IntVar(&opts.Events, "events", 300, "events per run (swarm draws 1, 3 or 10 times it per run)")
	f.BoolVar(&opts.KeepGoing, "keep-going", false, "go on after a violation, collecting distinct ones")
	f.BoolVar(&opts.PassOverUpstream, "pass-over-upstream", false, "pass over known bugs of hashicorp/raft itself (counted, not reported)")
	weights = faultFlags(f, &opts)
	f.StringVar(&opts.Out, "out", "faultline-out", "directory for violating schedules")
	f.IntVar(&opts.CheckEvery, "check-every", 0, "check invariants every N events only (0: every event)")
	f.IntVar(&opts.CheckFrom, "check-from", 0, "check no invariant before event N (what happened is checked then)")
	f.StringVar(&opts.Want, "want", "", "hunt only violations whose fingerprint starts with this (others are passed over)")
	f.StringVar(&opts.Strategy, "strategy", fuzz.Swarm, "exploration: swarm (a fault mix and depth of its own per run: --events times 1, 3 or 10), random (the fixed mix), pct (priorities per channel, d-1 changes), portfolio (alternates by run) or guided (runs that reached something new are extended)")
	f.IntVar(&opts.PCTDepth, "pct-depth", 3, "PCT's depth d")
	f.BoolVar(&asJSON, "json", false, "print one JSON object at the end")
	f.BoolVar(&minimizeIt, "minimize", false, "minimize each violation found (see faultline minimize)")
	f.DurationVar(&budget, "minimize-budget", 2*time.Minute, "time budget of each minimization")
	_ = c.MarkFlagRequired("target")
	return c
}

func (a *app) printFuzz(res *fuzz.Result) {
	w := a.stdout
	fmt.Fprintf(w, "%s: %d runs, %d events in %s (%.0f events/s)\n", res.Target, res.Runs, res.Events,
		res.Elapsed.Round(time.Millisecond), res.EventsPerS)
	fmt.Fprintf(w, "events:    %s\n", counts(res.Kinds))
	fmt.Fprintf(w, "delivered: %s\n", counts(res.Delivered))
	if len(res.Monitors) > 0 {
		fmt.Fprintf(w, "monitors:  %s\n", fuzz.MonitorCoverage(res.Monitors))
	}
	if len(res.Faults) > 0 {
		fmt.Fprintf(w, "faults:    %s\n", counts(res.Faults))
	}
	if len(res.Checks) > 0 {
		fmt.Fprintf(w, "checks:    %s\n", counts(res.Checks))
	}
	for _, warning := range res.Warnings {
		fmt.Fprintf(w, "warning:   %s\n", warning)
	}
	for _, p := range res.PassedOver {
		fmt.Fprintf(w, "passed over: %s, %d runs (first: run %d), as %s\n", p.Label, p.Count, p.Run, p.Fingerprint)
	}
	if len(res.Violations) == 0 {
		fmt.Fprintln(w, "no violation found")
		return
	}
	for _, v := range res.Violations {
		fmt.Fprintf(w, "\n%s (run %d, %d events, after %.2fs", v.Invariant, v.Run, v.Events, v.AfterS)
		if v.Count > 1 {
			fmt.Fprintf(w, ", seen in %d runs", v.Count)
			if v.First != v.Run {
				fmt.Fprintf(w, " from run %d on", v.First)
			}
		}
		if v.Flaky {
			fmt.Fprint(w, ", flaky: no replay of it reproduced reliably")
		}
		fmt.Fprintf(w, ")\n  %s\n", v.Detail)
		if b, ok := invariants.UpstreamByID(v.Upstream); ok {
			fmt.Fprintf(w, "  %s: a bug of %s itself\n", b.Label(), b.Of())
		}
		if v.Schedule != "" {
			fmt.Fprintf(w, "  schedule: %s\n  show:     %s show %s\n  replay:   %s replay %s\n", v.Schedule, a.name(), v.Schedule, a.name(), v.Schedule)
		}
	}
}

// counts renders a tally as "a 3, b 2", largest first.
func counts(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// minimizedFound is one violation of a campaign, minimized.
type minimizedFound struct {
	Schedule string           `json:"schedule"`
	Out      string           `json:"out"`
	Report   string           `json:"report,omitempty"`
	Result   *minimize.Result `json:"result,omitempty"`
	Summary  string           `json:"summary"`
}

// minimizeAll minimizes every violation a campaign saved, each in worker
// processes (a candidate may crash one), or in this process under tests.
func (a *app) minimizeAll(w *campaign.Workers, study casestudies.Study, res *fuzz.Result, budget time.Duration) ([]minimizedFound, error) {
	var out []minimizedFound
	for _, v := range res.Violations {
		if v.Schedule == "" {
			continue
		}
		m := minimizedFound{Schedule: v.Schedule, Out: strings.TrimSuffix(v.Schedule, ".json") + ".min.json"}
		s, err := interpose.ReadFile(v.Schedule)
		if err != nil {
			return nil, err
		}
		r, _, err := w.Minimize(study.Target, v.Schedule, s, campaign.MinimizeJob{Budget: budget, Replays: 2, Out: m.Out,
			Command: a.name() + " minimize " + v.Schedule})
		if err != nil {
			m.Summary = "minimize failed: " + oneLine(err.Error())
			out = append(out, m)
			continue
		}
		m.Result = r
		if r.Flaky {
			m.Summary = "flaky: it did not reproduce in the first replays"
		} else {
			m.Summary = fmt.Sprintf("%d -> %d events, reproduced %d/%d, %.1fs; show: %s show %s",
				r.InitialEvents, r.MinimizedEvents, r.Reproduced, r.Runs, r.ElapsedS, a.name(), m.Out)
			if path, err := a.writeReport(m.Out); err == nil {
				m.Report = path
				m.Summary += "; report: " + path
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// checkStrategy checks the --strategy and --pct-depth flags.
func checkStrategy(strategy string, depth int) error {
	switch strategy {
	case fuzz.Random, fuzz.PCT, fuzz.Portfolio, fuzz.Swarm, fuzz.Guided:
	default:
		return fmt.Errorf("--strategy %q: want random, pct, portfolio, swarm or guided", strategy)
	}
	if depth < 1 || depth > 1000 {
		return fmt.Errorf("--pct-depth %d: want 1..1000", depth)
	}
	return nil
}

// faultFlags are --liveness, --stabilize, --permanent, --disk, --reads and
// --weights, for every command that walks. --weights is read once the
// target is known (weightsFlag.apply): it changes the target's own
// weights.
func faultFlags(f *pflag.FlagSet, opts *fuzz.Options) *weightsFlag {
	campaign.LivenessFlag(f, &opts.NoLiveness, "after each walk, a stabilization phase; a liveness monitor still hot at its end is a violation (Liveness:Leader, Liveness:Accepts, Liveness:Commit); on unless --liveness=false")
	f.IntVar(&opts.Stabilize, "stabilize", 0, "the stabilization phase's bound (0: 20): election timeouts of virtual time, or turns of each node on a target whose timers are messages")
	f.BoolVar(&opts.Permanent, "permanent", false, "keep one fault for good through each phase (a node cut off, muted by a one-way partition, or down), drawn per run")
	f.IntVar(&opts.Reads, "reads", 0, "percent of the built-in key-value store's client operations that are reads; the run's client history is then checked for linearizability (0: the target's own, none for most)")
	f.IntVar(&opts.Disk, "disk", 0, "weight of storage faults in the walk (a stall, a slow disk, a failed log write, their end; hashicorp/raft targets); 0: none, 3 is about as often as a crash")
	wf := &weightsFlag{}
	f.Var(wf, "weights", "the walk's weights of event kinds, e.g. crash=15,recover=30; the others keep the target's own (its workload's, else deliver 100, advance 20, crash 3, recover 6, client 6, drop 3, duplicate 2, heal 3, partition 1, membership 1, transfer 1, choice 6)")
	return wf
}

// weightsFlag is --weights: checked when set, read over the target's own
// weights (fuzz.TargetWeights) by apply.
type weightsFlag struct{ raw string }

func (w *weightsFlag) String() string { return w.raw }

func (w *weightsFlag) Set(s string) error {
	if err := checkWeights(s); err != nil {
		return err
	}
	w.raw = s
	return nil
}

// checkWeights checks a --weights value ("" is none) before a target is
// known to read it over.
func checkWeights(s string) error {
	if s == "" {
		return nil
	}
	_, err := fuzz.ParseWeights(s, fuzz.DefaultWeights())
	return err
}

func (*weightsFlag) Type() string { return "kind=N,..." }

// apply sets opts.Weights to target's weights changed by --weights, if it
// was given.
func (w *weightsFlag) apply(opts *fuzz.Options, target interpose.Target) {
	if w.raw == "" {
		return
	}
	ws, _ := fuzz.ParseWeights(w.raw, fuzz.TargetWeights(target)) // checked by Set
	opts.Weights = &ws
}

// checkFaults refuses what faultFlags cannot mean: a negative bound or
// weight, or faults kept for good without a phase to keep them in.
func checkFaults(opts fuzz.Options) error {
	if opts.Stabilize < 0 || opts.Disk < 0 {
		return fmt.Errorf("--stabilize %d, --disk %d: cannot be negative", opts.Stabilize, opts.Disk)
	}
	if opts.Reads < 0 || opts.Reads > 100 {
		return fmt.Errorf("--reads %d: want a percentage, 0..100", opts.Reads)
	}
	if opts.Permanent && opts.NoLiveness {
		return fmt.Errorf("--permanent keeps a fault through the stabilization phase: it cannot go with --liveness=false")
	}
	return nil
}
