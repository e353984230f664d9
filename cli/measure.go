package cli

import (
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/baseline"
	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
	"github.com/faultline-dev/faultline/measure"
)

// replayAttempts is the default of --attempts: executions one replay may
// make when an execution diverges from the recording and misses the
// violation (or misses one judged at the stop), and its flag's usage.
const (
	replayAttempts      = 5
	replayAttemptsUsage = "executions a replay may make: one that misses the violation runs again when it diverged from the recording or the violation is judged at the stop"
)

func (a *app) measureCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "measure",
		Short: "Measure a target: time to the first violation, replay rate, minimization, scaling, strategies, the real-clock baseline, where the CPU time goes",
		Long: `measure runs the experiments whose tables are committed under results/.
Each prints the command line that made it, so a reader can rerun it.`,
	}
	c.AddCommand(a.measureTTFCmd(), a.measureReplayCmd(), a.measureMinimizeCmd(), a.measureScalingCmd(), a.measureStrategiesCmd(),
		a.measureBaselineCmd(), a.measureCostCmd())
	return c
}

func (a *app) measureCostCmd() *cobra.Command {
	var (
		weights *weightsFlag
		target  string
		system  []string
		opts    fuzz.Options
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "cost --target NAME",
		Short: "Where a walk's CPU time goes: the system's own code, the Go runtime, reseeding, faultline",
		Long: `cost fuzzes the target under a CPU profile (in worker processes, 100 runs to
a profile) and splits the profile by whose code each sample was running: the
system's own (raft, your state machine and stores; the packages of every module
but faultline's, and those --system names), the Go runtime alone, reseeding
math/rand before an event (hashicorp/raft), faultline's walk and checks, and
faultline's code the system calls (transport, stores). It prints each part's
CPU time, share and microseconds an event, and the events a second the walk
would make if faultline and reseeding took no time. Violations are counted,
not confirmed or saved; a worker that dies loses the runs of its stretch.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			study, err := a.walkTarget("measure cost", target, weights, &opts)
			if err != nil {
				return err
			}
			copts := measure.CostOptions{System: append([]string{builtinSystems}, system...)}
			return a.withT(func(t *testing.T) error {
				rep, err := measure.Cost(a.workers(t), study.Target, opts, copts, a.command())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, rep)
				}
				return measure.WriteCost(a.stdout, rep)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "target (see faultline targets)")
	f.StringSliceVar(&system, "system", nil, "more package path prefixes of faultline's module to count as the system's")
	f.Uint64Var(&opts.Seed, "seed", 1, "campaign seed")
	f.IntVar(&opts.Nodes, "nodes", 0, "cluster size (default: the target's)")
	f.IntVar(&opts.Runs, "runs", 1000, "runs to profile")
	f.IntVar(&opts.Events, "events", 300, "events per run (swarm draws 1, 3 or 10 times it per run)")
	f.StringVar(&opts.Strategy, "strategy", fuzz.Swarm, "exploration: swarm (a fault mix and depth of its own per run), random, pct, portfolio or guided")
	f.IntVar(&opts.PCTDepth, "pct-depth", 3, "PCT's depth d")
	weights = faultFlags(f, &opts)
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("target")
	return c
}

// walkTarget looks up the target a command walks and applies its fault
// flags to opts, checking them and the walk's size: a usage error names the
// command.
func (a *app) walkTarget(cmd, target string, weights *weightsFlag, opts *fuzz.Options) (casestudies.Study, error) {
	study, err := a.catalog.lookup(target)
	if err != nil {
		return study, usageErr("%s: %v", cmd, err)
	}
	weights.apply(opts, study.Target)
	if err := checkStrategy(opts.Strategy, opts.PCTDepth); err != nil {
		return study, usageErr("%s: %v", cmd, err)
	}
	if err := checkFaults(*opts); err != nil {
		return study, usageErr("%s: %v", cmd, err)
	}
	if opts.Runs < 1 || opts.Events < 1 || opts.Nodes < 0 || opts.Nodes > 64 {
		return study, usageErr("%s: --runs %d, --events %d, --nodes %d: want runs and events of at least 1, nodes 1..64", cmd, opts.Runs, opts.Events, opts.Nodes)
	}
	return study, nil
}

// builtinSystems holds the built-in targets' own code: the actor programs,
// the state machines and stores the case studies give hashicorp/raft.
const builtinSystems = "github.com/faultline-dev/faultline/casestudies"

func (a *app) measureTTFCmd() *cobra.Command {
	var (
		weights       *weightsFlag
		target, seeds string
		opts          fuzz.Options
		asJSON        bool
	)
	c := &cobra.Command{
		Use:   "ttf --target NAME",
		Short: "Time to the first violation, over several campaign seeds",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			study, err := a.walkTarget("measure ttf", target, weights, &opts)
			if err != nil {
				return err
			}
			list, err := measure.ParseSeeds(seeds)
			if err != nil {
				return usageErr("measure ttf: %v", err)
			}
			return a.withT(func(t *testing.T) error {
				rep, err := measure.TTF(t, a.workers(t), study.Target, opts, list, a.command())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, rep)
				}
				return measure.WriteTTF(a.stdout, rep)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "target (see faultline targets)")
	f.StringVar(&seeds, "seeds", "1-10", "campaign seeds, e.g. 1-10 or 1,3,7")
	f.IntVar(&opts.Nodes, "nodes", 0, "cluster size (default: the target's)")
	f.IntVar(&opts.Runs, "runs", 100000, "runs per seed before giving up")
	f.IntVar(&opts.Events, "events", 300, "events per run (swarm draws 1, 3 or 10 times it per run)")
	f.StringVar(&opts.Strategy, "strategy", fuzz.Swarm, "exploration: swarm (a fault mix and depth of its own per run), random, pct, portfolio or guided")
	f.IntVar(&opts.PCTDepth, "pct-depth", 3, "PCT's depth d")
	f.StringVar(&opts.Want, "want", "", "time to the first violation whose fingerprint starts with this")
	weights = faultFlags(f, &opts)
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("target")
	return c
}

func (a *app) measureBaselineCmd() *cobra.Command {
	var (
		target, seeds, timers, clusters, strategies, out string
		o                                                measure.BaselineOptions
	)
	c := &cobra.Command{
		Use:   "baseline --target NAME",
		Short: "faultline beside a real-clock chaos test of the same hashicorp/raft cluster: time and CPU to a violation",
		Long: `baseline runs, for each seed, faultline's walk until its first violation of
--invariant (one core, as every faultline run), then the test a Go engineer
writes without faultline: the same hashicorp/raft cluster (state machine,
stores, configuration) on raft's InmemTransport with real timers, a seeded
chaos loop that every 10-50 ms restarts a node over its stores, partitions or
heals, or applies a write, and a detector of the invariant: ElectionSafety
(two leaders of a term, from raft's leadership observations),
StateMachineSafety (two state machines applying different commands at an
index), NoPanic (a restart whose raft.NewRaft panics) or NodeStarts (a restart
raft.NewRaft refuses with an error). It prints each one's
median time and CPU time to the violation and the baseline's over faultline's.

--timers test is raft's own test settings (50 ms heartbeat and election
timeouts, 5 ms commit timeout), defaults10 raft's defaults divided by ten;
--clusters runs that many baseline clusters side by side (all cores).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			study, err := a.catalog.lookup(target)
			if err != nil {
				return usageErr("measure baseline: %v", err)
			}
			if _, ok := interpose.Unwrap(study.Target).(*hraft.Target); !ok {
				return usageErr("measure baseline: %s is not a hashicorp/raft target", target)
			}
			if o.Seeds, err = measure.ParseSeeds(seeds); err != nil {
				return usageErr("measure baseline: %v", err)
			}
			if o.Time <= 0 {
				return usageErr("measure baseline: --time %s: want a positive duration", o.Time)
			}
			if err := baseline.CheckInvariant(o.Invariant); err != nil {
				return usageErr("measure baseline: --invariant: %v", err)
			}
			for _, name := range strings.Split(timers, ",") {
				switch name {
				case "test":
					o.Timers = append(o.Timers, baseline.RaftTest)
				case "defaults10":
					o.Timers = append(o.Timers, baseline.DefaultsBy10)
				default:
					return usageErr("measure baseline: --timers %q: want test, defaults10 or both, comma-separated", name)
				}
			}
			o.Strategies = strings.Split(strategies, ",")
			for _, s := range o.Strategies {
				if err := checkStrategy(s, 3); err != nil {
					return usageErr("measure baseline: %v", err)
				}
			}
			for _, ws := range o.Weights {
				if err := checkWeights(ws); err != nil {
					return usageErr("measure baseline: --weights %q: %v", ws, err)
				}
			}
			for _, s := range strings.Split(clusters, ",") {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 || n > 1000 {
					return usageErr("measure baseline: --clusters %q: want numbers 1..1000, comma-separated", clusters)
				}
				o.Clusters = append(o.Clusters, n)
			}
			o.Progress = a.stderr
			return a.withT(func(t *testing.T) error {
				rep, err := measure.Baseline(t, a.workers(t), study.Target, o, a.command())
				if err != nil {
					return err
				}
				return a.writeOut(out, func(w io.Writer) error { return measure.WriteBaseline(w, rep, o.Time) })
			})
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "a hashicorp/raft target (see faultline targets)")
	f.StringVar(&seeds, "seeds", "1-10", "seeds, e.g. 1-10 or 1,3,7")
	f.StringVar(&timers, "timers", "test,defaults10", "the baseline's timer settings: test, defaults10")
	f.StringVar(&clusters, "clusters", "1", "baseline clusters side by side, e.g. 1,40")
	f.StringVar(&strategies, "strategies", fuzz.Swarm, "faultline's exploration strategies, a row each, e.g. random,swarm")
	f.StringArrayVar(&o.Weights, "weights", nil, "faultline's weights of event kinds (as fuzz --weights), a row each per strategy; repeat the flag for more rows, \"\" for the target's own (default: the target's own)")
	f.DurationVar(&o.Time, "time", time.Minute, "give up on a seed after this long (each way)")
	f.StringVar(&out, "out", "", "write the Markdown table to this file")
	f.StringVar(&o.Invariant, "invariant", baseline.ElectionSafety, "what both look for: "+strings.Join(baseline.Invariants, ", "))
	_ = c.MarkFlagRequired("target")
	return c
}

// writeOut writes a table with write to the file out, or to stdout when out
// is "".
func (a *app) writeOut(out string, write func(io.Writer) error) error {
	if out == "" {
		return write(a.stdout)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (a *app) measureReplayCmd() *cobra.Command {
	var (
		weights       *weightsFlag
		target, seeds string
		opts          fuzz.ReplayRateOptions
		asJSON        bool
	)
	c := &cobra.Command{
		Use:   "replay --target NAME",
		Short: "Replay rate: record schedules, replay each several times, count identical replays",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			study, err := a.catalog.lookup(target)
			if err != nil {
				return usageErr("measure replay: %v", err)
			}
			weights.apply(&opts.Campaign, study.Target)
			if opts.Schedules < 1 || opts.Repeat < 1 || opts.Attempts < 1 || opts.Campaign.Events < 1 || opts.Campaign.Nodes < 0 || opts.Campaign.Nodes > 64 {
				return usageErr("measure replay: --schedules, --repeat, --attempts and --events want at least 1, --nodes 1..64")
			}
			if err := checkFaults(opts.Campaign); err != nil {
				return usageErr("measure replay: %v", err)
			}
			list := []uint64{opts.Campaign.Seed}
			if seeds != "" {
				if list, err = measure.ParseSeeds(seeds); err != nil {
					return usageErr("measure replay: %v", err)
				}
			}
			return a.withT(func(t *testing.T) error {
				start := time.Now()
				rep, err := measure.Replay(a.workers(t), study.Target, opts, list)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, struct {
						Command string `json:"command"`
						*fuzz.ReplayRate
					}{a.command(), rep})
				}
				return measure.WriteReplayRate(a.stdout, a.command(), rep, time.Since(start))
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
	f.IntVar(&opts.Attempts, "attempts", replayAttempts, replayAttemptsUsage)
	f.BoolVar(&opts.Violating, "violating", false, "record only schedules that end in a violation")
	weights = faultFlags(f, &opts.Campaign)
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("target")
	return c
}

func (a *app) measureMinimizeCmd() *cobra.Command {
	var (
		target, seeds string
		o             measure.MinimizeOptions
		asJSON        bool
	)
	c := &cobra.Command{
		Use:   "minimize --target NAME",
		Short: "Make long failures with several seeds and minimize each, with every phase and with externals only",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			study, err := a.catalog.lookup(target)
			if err != nil {
				return usageErr("measure minimize: %v", err)
			}
			if o.Seeds, err = measure.ParseSeeds(seeds); err != nil {
				return usageErr("measure minimize: %v", err)
			}
			if o.Events < 1 || o.CheckEvery < 1 || o.Replays < 1 || o.Budget <= 0 {
				return usageErr("measure minimize: --events, --check-every and --replays want at least 1, --budget a positive duration")
			}
			if !asJSON && a.tty {
				o.Progress = a.stderr
			}
			rows, err := measure.Minimize(a.workers(nil), study.Target, o)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, struct {
					Command string                `json:"command"`
					Rows    []measure.MinimizeRow `json:"rows"`
				}{a.command(), rows})
			}
			return measure.WriteMinimize(a.stdout, a.command(), target, rows, o.Compare)
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "target (see faultline targets)")
	f.StringVar(&seeds, "seeds", "1-10", "campaign seeds")
	f.IntVar(&o.Events, "events", 2000, "events per fuzz run")
	f.IntVar(&o.CheckEvery, "check-every", 2000, "check invariants every N events while fuzzing")
	f.IntVar(&o.Replays, "replays", 2, "replays per candidate")
	f.DurationVar(&o.Budget, "budget", 2*time.Minute, "minimization budget")
	f.IntVar(&o.DPOR, "dpor", 0, "DPOR executions per candidate that does not reproduce by exact replay (0: the minimizer's default; -1: none)")
	f.BoolVar(&o.Compare, "compare", true, "also minimize with ddmin over external events only")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("target")
	return c
}

func (a *app) measureScalingCmd() *cobra.Command {
	var (
		target string
		o      measure.ScalingOptions
	)
	c := &cobra.Command{
		Use:   "scaling --target NAME",
		Short: "Campaign throughput with 1 and 2 workers (no background minimization)",
		Long: `scaling runs campaigns of --time with 1 worker and with 2 workers, alternating,
--repeat times each, and prints the median events/s of each and their ratio.
Minimization is off, so that only fuzzing is measured.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			study, err := a.catalog.lookup(target)
			if err != nil {
				return usageErr("measure scaling: %v", err)
			}
			if o.Time <= 0 || o.Repeat < 1 {
				return usageErr("measure scaling: --time %s, --repeat %d: want a positive duration and at least 1", o.Time, o.Repeat)
			}
			o.Command = a.command()
			return measure.Scaling(a.workers(nil), study.Target, o, a.stdout)
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "raft", "target")
	f.DurationVar(&o.Time, "time", 30*time.Second, "length of each campaign")
	f.IntVar(&o.Repeat, "repeat", 3, "campaigns per worker count")
	return c
}

func (a *app) measureStrategiesCmd() *cobra.Command {
	var (
		targets, strategies, seeds, out string
		o                               measure.StrategiesOptions
	)
	c := &cobra.Command{
		Use:   "strategies",
		Short: "Time to the first violation of each exploration strategy on every bug target",
		Long: `strategies runs, for each target, strategy and seed, a campaign with one
worker that stops at its first violation (or at --time), and writes a table
of the median time and runs to the first violation.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var err error
			if o.Seeds, err = measure.ParseSeeds(seeds); err != nil {
				return usageErr("measure strategies: %v", err)
			}
			if o.Time <= 0 || o.Events < 0 {
				return usageErr("measure strategies: --time %s, --events %d: want a positive duration, events of at least 0", o.Time, o.Events)
			}
			o.Strategies = strings.Split(strategies, ",")
			for _, s := range o.Strategies {
				if err := checkStrategy(s, 3); err != nil {
					return usageErr("measure strategies: %v", err)
				}
			}
			if err := checkWeights(o.Weights); err != nil {
				return usageErr("measure strategies: --weights: %v", err)
			}
			var list []interpose.Target
			for _, s := range a.catalog.studies {
				if targets == "" && s.Expect != "" {
					list = append(list, s.Target)
				}
			}
			if targets != "" {
				for _, n := range strings.Split(targets, ",") {
					s, err := a.catalog.lookup(n)
					if err != nil {
						return usageErr("measure strategies: %v", err)
					}
					list = append(list, s.Target)
				}
			}
			o.Progress = a.stderr
			rows, err := measure.Strategies(a.workers(nil), list, o)
			if err != nil {
				return err
			}
			return a.writeOut(out, func(w io.Writer) error { return measure.WriteStrategies(w, a.command(), rows, o.Time) })
		},
	}
	f := c.Flags()
	f.StringVar(&targets, "targets", "", "comma-separated targets (default: every target with a bug)")
	f.StringVar(&strategies, "strategies", "random,pct,portfolio", "comma-separated strategies")
	f.StringVar(&seeds, "seeds", "1-3", "campaign seeds")
	f.DurationVar(&o.Time, "time", 2*time.Minute, "give up on a campaign after this long")
	f.IntVar(&o.Events, "events", 0, "events per run (0: each target's workload)")
	f.StringVar(&o.Weights, "weights", "", "change some of each target's weights of event kinds, as fuzz --weights, e.g. crash=15,recover=30")
	f.BoolVar(&o.Liveness, "liveness", false, "end each run with a stabilization phase and check the liveness monitors")
	f.StringVar(&o.Want, "want", "", "hunt this violation only (an invariant or fingerprint prefix): the others are passed over")
	f.StringVar(&out, "out", "", "write the Markdown table to this file")
	return c
}
