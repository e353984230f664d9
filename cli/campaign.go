package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/fuzz"
)

func (a *app) campaignCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "campaign",
		Short: "Long fuzzing campaigns: parallel, resumable, deduplicated, minimized in the background",
		Long: `A campaign fuzzes a target in worker processes (one per core by default) until
its time is up, keeping everything in a badger store in its directory: every
distinct violation (by fingerprint) with its hit count, the first schedule
that showed it, and its minimized schedule and Markdown report once the
background minimizer is done with it. A campaign killed at any moment
(kill -9, a reboot) loses at most the runs in flight: resume carries on.

When its time is up (or on Ctrl-C) a campaign finishes the minimization in
progress and leaves the violations it has not minimized yet pending, for the
next resume (--wait-minimize: minimize them all before stopping, as a
campaign that --stop-at stopped does). status, list and show
only read the store (from a copy), and a damaged store is an error naming
the file.`,
	}
	c.AddCommand(a.campaignStartCmd(), a.campaignResumeCmd(), a.campaignStatusCmd(), a.campaignListCmd(),
		a.campaignShowCmd(), a.campaignMergeCmd())
	return c
}

// campaignFlags are the flags start and resume share.
type campaignFlags struct {
	dir     string
	workers int
	time    time.Duration
	stopAt  int
	// waitMinimize: minimize every pending violation before stopping.
	waitMinimize bool
}

func (f *campaignFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.dir, "dir", "", "the campaign's directory (its store, reports and schedules)")
	c.Flags().IntVar(&f.workers, "workers", runtime.NumCPU(), "worker processes")
	c.Flags().DurationVar(&f.time, "time", 0, "stop after this long (0: until interrupted)")
	c.Flags().IntVar(&f.stopAt, "stop-at", 0, "stop once the campaign holds this many distinct violations (0: never)")
	c.Flags().BoolVar(&f.waitMinimize, "wait-minimize", false,
		"when stopping, minimize every pending violation first (default: finish the minimization in progress, leave the rest pending for the next resume)")
	_ = c.MarkFlagRequired("dir")
}

func (f *campaignFlags) check() error {
	if f.workers < 1 || f.workers > 256 {
		return usageErr("campaign: --workers %d: want 1..256", f.workers)
	}
	if f.time < 0 || f.stopAt < 0 {
		return usageErr("campaign: --time and --stop-at cannot be negative")
	}
	return nil
}

func (a *app) campaignStartCmd() *cobra.Command {
	var (
		weights        *weightsFlag
		cf             campaignFlags
		target, shard  string
		opts           fuzz.Options
		chunk          int
		minimizeBudget time.Duration
	)
	c := &cobra.Command{
		Use:   "start --target NAME --dir DIR",
		Short: "Start a campaign",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cf.check(); err != nil {
				return err
			}
			study, err := a.catalog.lookup(target)
			if err != nil {
				return usageErr("campaign start: %v", err)
			}
			weights.apply(&opts, study.Target)
			if err := checkStrategy(opts.Strategy, opts.PCTDepth); err != nil {
				return usageErr("campaign start: %v", err)
			}
			if err := checkFaults(opts); err != nil {
				return usageErr("campaign start: %v", err)
			}
			if opts.Nodes < 0 || opts.Nodes > 64 || cmd.Flags().Changed("nodes") && opts.Nodes == 0 {
				return usageErr("campaign start: --nodes %d: want 1..64", opts.Nodes)
			}
			if cmd.Flags().Changed("chunk") && chunk < 1 {
				return usageErr("campaign start: --chunk %d: want at least 1 run (leave it out for about 50,000 events)", chunk)
			}
			if opts.Events < 1 || opts.CheckEvery < 0 || opts.CheckFrom < 0 || minimizeBudget < 0 {
				return usageErr("campaign start: --events must be positive; --check-every, --check-from and --minimize-budget cannot be negative")
			}
			// The workload: every flag the user set, the target's own
			// defaults otherwise (the case studies have one), faultline
			// fuzz's for the rest.
			if w := study.Workload; w != nil {
				if !cmd.Flags().Changed("events") && w.Events > 0 {
					opts.Events = w.Events
				}
				if !cmd.Flags().Changed("check-every") {
					opts.CheckEvery = w.CheckEvery
				}
				if !cmd.Flags().Changed("check-from") {
					opts.CheckFrom = w.CheckFrom
				}
			}
			if !cmd.Flags().Changed("pct-depth") {
				opts.PCTDepth = 0 // the strategy's own
			}
			cfg := campaign.NewConfig(target, opts, chunk, minimizeBudget)
			if shard != "" {
				if cfg.Shard, cfg.Shards, err = campaign.ParseShard(shard); err != nil {
					return usageErr("campaign start: --shard: %v", err)
				}
			}
			st, err := campaign.Open(cf.dir, true)
			if err != nil {
				return inputErr(err)
			}
			if err := st.Init(cfg); err != nil {
				st.Close()
				return inputErr(err)
			}
			return a.runCampaign(st, cf)
		},
	}
	cf.add(c)
	f := c.Flags()
	f.StringVar(&target, "target", "", "target to fuzz (see faultline targets)")
	f.Uint64Var(&opts.Seed, "seed", 1, "campaign seed: run i explores seed (seed, i)")
	f.IntVar(&opts.Nodes, "nodes", 0, "cluster size (default: the target's)")
	f.IntVar(&opts.Events, "events", 300, "events per run (default: the target's workload, else 300; swarm draws 1, 3 or 10 times it per run)")
	f.IntVar(&opts.CheckEvery, "check-every", 0, "check invariants every N events only (default: the target's workload)")
	f.IntVar(&opts.CheckFrom, "check-from", 0, "check no invariant before event N (default: the target's workload)")
	f.StringVar(&opts.Want, "want", "", "hunt only violations whose fingerprint starts with this")
	f.StringVar(&opts.Strategy, "strategy", fuzz.Swarm, "exploration: swarm (a fault mix and depth of its own per run), random, pct, portfolio or guided")
	f.IntVar(&opts.PCTDepth, "pct-depth", 3, "PCT's depth d (d-1 priority change points per run)")
	weights = faultFlags(f, &opts)
	f.StringVar(&shard, "shard", "", "run shard I of N (I/N): N machines split the run space without overlap")
	f.IntVar(&chunk, "chunk", 0, "runs per chunk, the unit handed to a worker (0: about 50,000 events)")
	f.DurationVar(&minimizeBudget, "minimize-budget", 2*time.Minute, "time budget of each background minimization (0: do not minimize)")
	_ = c.MarkFlagRequired("target")
	return c
}

func (a *app) campaignResumeCmd() *cobra.Command {
	var cf campaignFlags
	c := &cobra.Command{
		Use:   "resume --dir DIR",
		Short: "Resume a campaign from its next unfinished runs",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := cf.check(); err != nil {
				return err
			}
			st, err := campaign.Open(cf.dir, false)
			if err != nil {
				return inputErr(err)
			}
			return a.runCampaign(st, cf)
		},
	}
	cf.add(c)
	return c
}

// runCampaign runs a session of the campaign in st, in worker processes,
// until its time is up; an interrupt stops it after the runs in flight, a
// second one at once.
func (a *app) runCampaign(st *campaign.Store, cf campaignFlags) error {
	defer st.Close()
	cfg, err := st.Config()
	if err != nil {
		return inputErr(err)
	}
	study, err := a.catalog.lookup(cfg.Target)
	if err != nil {
		return inputErr(fmt.Errorf("campaign %s: %w", cf.dir, err))
	}
	w := a.workers(nil)
	if w.Command == nil {
		return fmt.Errorf("campaign: %w", campaign.ErrNoWorkers)
	}
	stop, abort := make(chan struct{}), make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	var once sync.Once
	go func() {
		for n := 0; ; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			if n == 0 {
				fmt.Fprintf(a.stderr, "\ncampaign: stopping after the runs in flight (interrupt again to stop now)\n")
				close(stop)
				continue
			}
			once.Do(func() { close(abort) })
		}
	}()
	sn, err := campaign.Run(st, study.Target, w, campaign.RunOptions{Workers: cf.workers, Time: cf.time, StopAt: cf.stopAt,
		Stop: stop, Abort: abort, Stderr: a.stderr, Progress: true, ProgressLines: !a.tty, Program: a.name(), WaitMinimize: cf.waitMinimize})
	if errors.Is(err, campaign.ErrAborted) {
		return errInterrupted
	}
	if sn.Config.Target == "" {
		return err
	}
	if perr := campaign.WriteStatus(a.stdout, "", sn); perr != nil && err == nil {
		err = perr
	}
	return err
}
