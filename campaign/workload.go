package campaign

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/faultline-dev/faultline/fuzz"
)

// A campaign's workload is recorded in its store as the flags of `faultline
// fuzz` that make it (Config.FuzzArgs): a stable text, compared when
// campaigns are merged or resumed, and the command line a schedule's origin
// names. WorkloadArgs writes it and ParseWorkload reads it.

// WorkloadArgs renders the workload of a campaign on target: the seed,
// events per run and when invariants are checked always; the nodes, the
// hunted violation and PCT's depth when set; the strategy unless random;
// the weights of event kinds, every one, when set (else the target's own
// apply).
func WorkloadArgs(target string, opts fuzz.Options) []string {
	args := []string{"--target", target, "--seed", strconv.FormatUint(opts.Seed, 10),
		"--events", strconv.Itoa(opts.Events), "--check-every", strconv.Itoa(opts.CheckEvery),
		"--check-from", strconv.Itoa(opts.CheckFrom)}
	if opts.Nodes > 0 {
		args = append(args, "--nodes", strconv.Itoa(opts.Nodes))
	}
	if opts.Want != "" {
		args = append(args, "--want", opts.Want)
	}
	if opts.PCTDepth > 0 {
		args = append(args, "--pct-depth", strconv.Itoa(opts.PCTDepth))
	}
	if opts.Strategy != "" && opts.Strategy != fuzz.Random {
		args = append(args, "--strategy", opts.Strategy)
	}
	if opts.NoLiveness {
		// Off is written out: before liveness was on by default, a
		// workload without the flag had none, and ParseWorkload still
		// reads it so.
		args = append(args, "--liveness=false")
	} else {
		args = append(args, "--liveness")
		if opts.Stabilize > 0 {
			args = append(args, "--stabilize", strconv.Itoa(opts.Stabilize))
		}
		if opts.Permanent {
			args = append(args, "--permanent")
		}
	}
	if opts.Disk > 0 {
		args = append(args, "--disk", strconv.Itoa(opts.Disk))
	}
	if opts.Reads > 0 {
		args = append(args, "--reads", strconv.Itoa(opts.Reads))
	}
	if opts.Weights != nil {
		args = append(args, "--weights", opts.Weights.Args())
	}
	return args
}

// ParseWorkload reads a workload written by WorkloadArgs (or by an earlier
// faultline, which wrote the same flags) into the target's name and the
// campaign's options.
func ParseWorkload(args []string) (string, fuzz.Options, error) {
	var (
		opts   fuzz.Options
		target string
	)
	f := pflag.NewFlagSet("workload", pflag.ContinueOnError)
	f.SetOutput(io.Discard)
	f.StringVar(&target, "target", "", "")
	f.Uint64Var(&opts.Seed, "seed", 1, "")
	f.IntVar(&opts.Events, "events", 300, "")
	f.IntVar(&opts.CheckEvery, "check-every", 0, "")
	f.IntVar(&opts.CheckFrom, "check-from", 0, "")
	f.IntVar(&opts.Nodes, "nodes", 0, "")
	f.StringVar(&opts.Want, "want", "", "")
	f.IntVar(&opts.PCTDepth, "pct-depth", 0, "")
	f.StringVar(&opts.Strategy, "strategy", fuzz.Random, "")
	LivenessFlag(f, &opts.NoLiveness, "")
	f.IntVar(&opts.Stabilize, "stabilize", 0, "")
	f.BoolVar(&opts.Permanent, "permanent", false, "")
	f.IntVar(&opts.Disk, "disk", 0, "")
	f.IntVar(&opts.Reads, "reads", 0, "")
	weights := f.String("weights", "", "")
	if err := f.Parse(args); err != nil {
		return "", opts, fmt.Errorf("campaign workload %q: %w", strings.Join(args, " "), err)
	}
	if *weights != "" {
		w, err := fuzz.ParseWeights(*weights, fuzz.Weights{}) // every kind is written out
		if err != nil {
			return "", opts, fmt.Errorf("campaign workload %q: --weights: %w", strings.Join(args, " "), err)
		}
		opts.Weights = &w
	}
	if !f.Changed("liveness") {
		opts.NoLiveness = true // written before liveness was on by default
	}
	return target, opts, nil
}

// LivenessFlag defines --liveness (on unless set to false) on f, stored
// inverted in *no (fuzz.Options.NoLiveness), so that an options struct's
// zero value and the flag's default agree: liveness is checked.
func LivenessFlag(f *pflag.FlagSet, no *bool, usage string) {
	f.VarPF(livenessValue{no}, "liveness", "", usage).NoOptDefVal = "true"
}

// livenessValue is a bool flag that stores its negation.
type livenessValue struct{ no *bool }

func (v livenessValue) String() string {
	if v.no == nil {
		return "true"
	}
	return strconv.FormatBool(!*v.no)
}

func (v livenessValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*v.no = !b
	return nil
}

func (v livenessValue) Type() string { return "bool" }

// NewConfig is the config of a new campaign on target with the workload
// opts (the target's own workload is applied by the workers), chunks of
// chunk runs (0: ChunkFor the runs' length) and background minimizations
// of minimizeBudget each (0: none). Shard and Shards are the caller's.
func NewConfig(target string, opts fuzz.Options, chunk int, minimizeBudget time.Duration) Config {
	strategy := opts.Strategy
	if strategy == "" {
		strategy = fuzz.Random
	}
	if opts.Events <= 0 {
		opts.Events = 300
	}
	if chunk <= 0 {
		chunk = ChunkFor(fuzz.MeanEvents(opts)) // a swarm run is longer than --events on average
	}
	return Config{Target: target, Seed: opts.Seed, Strategy: strategy, Chunk: chunk,
		FuzzArgs: WorkloadArgs(target, opts), MinimizeBudgetS: minimizeBudget.Seconds(), Created: time.Now().UTC()}
}
