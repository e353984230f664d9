package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
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
(kill -9, a reboot) loses at most the runs in flight: resume carries on.`,
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
}

func (f *campaignFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.dir, "dir", "", "the campaign's directory (its store, reports and schedules)")
	c.Flags().IntVar(&f.workers, "workers", runtime.NumCPU(), "worker processes")
	c.Flags().DurationVar(&f.time, "time", 0, "stop after this long (0: until interrupted)")
	c.Flags().IntVar(&f.stopAt, "stop-at", 0, "stop once the campaign holds this many distinct violations (0: never)")
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

// defaultChunkEvents is about how many events a chunk of runs holds: a few
// seconds of a worker's time at most, so that little is in flight.
const defaultChunkEvents = 50_000

func (a *app) campaignStartCmd() *cobra.Command {
	var (
		cf                      campaignFlags
		target, strategy, shard string
		seed                    uint64
		nodes, events, chunk    int
		checkEvery, checkFrom   int
		pctDepth                int
		want                    string
		minimizeBudget          time.Duration
	)
	c := &cobra.Command{
		Use:   "start --target NAME --dir DIR",
		Short: "Start a campaign",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cf.check(); err != nil {
				return err
			}
			study, err := casestudies.Lookup(target)
			if err != nil {
				return usageErr("campaign start: %v", err)
			}
			if err := checkStrategy(strategy, pctDepth); err != nil {
				return usageErr("campaign start: %v", err)
			}
			cfg := campaign.Config{Target: target, Seed: seed, Strategy: strategy,
				MinimizeBudgetS: minimizeBudget.Seconds(), Created: time.Now().UTC()}
			if shard != "" {
				if cfg.Shard, cfg.Shards, err = campaign.ParseShard(shard); err != nil {
					return usageErr("campaign start: --shard: %v", err)
				}
			}
			if nodes < 0 || events < 1 || chunk < 0 || checkEvery < 0 || checkFrom < 0 || minimizeBudget < 0 {
				return usageErr("campaign start: --events must be positive; --nodes, --chunk, --check-every, --check-from and --minimize-budget cannot be negative")
			}
			// The workload as fuzz flags: every flag the user set, the
			// target's own defaults otherwise.
			// A target with a workload of its own (the case studies) runs
			// it; the others run faultline fuzz's defaults.
			if w := study.Workload; w != nil {
				if !cmd.Flags().Changed("events") && w.Events > 0 {
					events = w.Events
				}
				if !cmd.Flags().Changed("check-every") {
					checkEvery = w.CheckEvery
				}
				if !cmd.Flags().Changed("check-from") {
					checkFrom = w.CheckFrom
				}
			}
			args := []string{"--target", target, "--seed", strconv.FormatUint(seed, 10),
				"--events", strconv.Itoa(events), "--check-every", strconv.Itoa(checkEvery),
				"--check-from", strconv.Itoa(checkFrom)}
			for _, name := range []string{"nodes", "want", "pct-depth"} {
				if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
					args = append(args, "--"+name, fl.Value.String())
				}
			}
			if strategy != "random" {
				args = append(args, "--strategy", strategy)
			}
			cfg.FuzzArgs = args
			if chunk == 0 {
				chunk = max(1, defaultChunkEvents/events)
			}
			cfg.Chunk = chunk
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
	f.Uint64Var(&seed, "seed", 1, "campaign seed: run i explores seed (seed, i)")
	f.IntVar(&nodes, "nodes", 0, "cluster size (default: the target's)")
	f.IntVar(&events, "events", 300, "events per run (default: the target's workload, else 300)")
	f.IntVar(&checkEvery, "check-every", 0, "check invariants every N events only (default: the target's workload)")
	f.IntVar(&checkFrom, "check-from", 0, "check no invariant before event N (default: the target's workload)")
	f.StringVar(&want, "want", "", "hunt only violations whose fingerprint starts with this")
	f.StringVar(&strategy, "strategy", "random", "exploration: random, pct or portfolio")
	f.IntVar(&pctDepth, "pct-depth", 3, "PCT's depth d (d-1 priority change points per run)")
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
			if _, err := st.Config(); err != nil {
				st.Close()
				return inputErr(err)
			}
			return a.runCampaign(st, cf)
		},
	}
	cf.add(c)
	return c
}

// coordinator runs one session of a campaign.
type coordinator struct {
	a     *app
	st    *campaign.Store
	cfg   campaign.Config
	study casestudies.Study
	opts  fuzz.Options // the workload, for capturing crashes
	dir   string
	plan  *campaign.Planner
	start time.Time
	base  float64 // elapsed before this session

	mu            sync.Mutex // guards the store's writes and what follows
	known         map[string]bool
	last          string // the ID of the violation found last, and its invariant
	lastInvariant string
	workers       int
	stopAt        int
	stoppedAt     float64
	lastSnap      time.Time
	failures      int
	fatal         error
	minq          chan string
	minCancel     chan struct{}
	minProc       *os.Process
}

// elapsed is the campaign's fuzzing time: every session's, up to now or
// to when this session's workers stopped (the minimizations a campaign
// finishes before it ends are not counted).
func (co *coordinator) elapsed() float64 {
	if co.stoppedAt > 0 {
		return co.stoppedAt
	}
	return co.base + time.Since(co.start).Seconds()
}

// maxWorkerFailures bounds the worker deaths in a row that are not crashes
// of a run (a broken binary, a bad flag) before the campaign gives up.
const maxWorkerFailures = 5

func (a *app) runCampaign(st *campaign.Store, cf campaignFlags) error {
	defer st.Close()
	if a.self == "" {
		return errors.New("campaign: needs the faultline binary to run its workers")
	}
	cfg, err := st.Config()
	if err != nil {
		return inputErr(err)
	}
	study, err := casestudies.Lookup(cfg.Target)
	if err != nil {
		return inputErr(fmt.Errorf("campaign %s: %w", cf.dir, err))
	}
	plan, err := st.Plan()
	if err != nil {
		return err
	}
	base, err := st.BeginSession()
	if err != nil {
		return err
	}
	co := &coordinator{a: a, st: st, cfg: cfg, study: study, dir: cf.dir, plan: plan, base: base,
		start: time.Now(), known: map[string]bool{}, workers: cf.workers, stopAt: cf.stopAt, minq: make(chan string, 1024),
		minCancel: make(chan struct{})}
	co.opts = study.Options(fuzz.Options{Seed: cfg.Seed, Command: "faultline fuzz " + strings.Join(cfg.FuzzArgs, " ")})
	if n, err := strconv.Atoi(flagValue(cfg.FuzzArgs, "nodes")); err == nil {
		co.opts.Nodes = n
	}
	co.opts.Strategy = flagValue(cfg.FuzzArgs, "strategy")
	co.opts.PCTDepth, _ = strconv.Atoi(flagValue(cfg.FuzzArgs, "pct-depth"))
	vs, err := st.Violations()
	if err != nil {
		return err
	}
	for _, v := range vs {
		co.known[v.Fingerprint] = true
		if v.Status == campaign.Pending && cfg.MinimizeBudgetS > 0 {
			co.minq <- v.ID
		}
	}
	if holes := plan.Holes(); len(holes) > 0 {
		fmt.Fprintf(a.stderr, "campaign %s: resuming; %d unfinished ranges first (%v ...)\n", cf.dir, len(holes), holes[0])
	}
	co.snapshot(true)

	// Stop on the time limit or a signal: no new ranges, the ranges in
	// flight finish. A second signal stops at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	stopped := make(chan struct{})
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { plan.Close(); close(stopped) }) }
	var timer <-chan time.Time
	if cf.time > 0 {
		timer = time.After(cf.time)
	}
	go func() {
		select {
		case <-timer:
			stop()
		case <-sigs:
			fmt.Fprintf(a.stderr, "\ncampaign: stopping after the runs in flight (interrupt again to stop now)\n")
			stop()
			<-sigs
			co.killMinimizer()
			os.Exit(130)
		case <-stopped:
		}
	}()

	minDone := make(chan struct{})
	go func() { defer close(minDone); co.minimizer() }()
	progressDone := make(chan struct{})
	if a.tty {
		go co.drawProgress(stopped, progressDone)
	} else {
		close(progressDone)
	}
	var wg sync.WaitGroup
	for i := range cf.workers {
		wg.Go(func() { co.work(i, stop) })
	}
	wg.Wait()
	stop()
	<-progressDone
	co.mu.Lock()
	co.stoppedAt = co.elapsed()
	co.mu.Unlock()
	// Minimizations still queued run to the end: a campaign leaves its
	// bugs minimized.
	close(co.minq)
	if n := co.pendingMinimizations(); n > 0 && cfg.MinimizeBudgetS > 0 {
		fmt.Fprintf(a.stderr, "campaign: minimizing %d violation(s) before stopping\n", n)
	}
	<-minDone
	co.mu.Lock()
	err = co.st.SetElapsed(co.elapsed())
	fatal := co.fatal
	co.mu.Unlock()
	if err != nil {
		return err
	}
	co.snapshot(true)
	sn, err := st.Snapshot()
	if err != nil {
		return err
	}
	if err := writeSnapshotFinal(cf.dir, sn); err != nil {
		return err
	}
	if err := a.printCampaign(sn, a.stdout); err != nil {
		return err
	}
	if fatal != nil {
		return fatal
	}
	return nil
}

func writeSnapshotFinal(dir string, sn campaign.Snapshot) error {
	sn.Running = false
	return campaign.WriteSnapshot(dir, sn)
}

// flagValue reads the value of --name (as "--name V" or "--name=V") in a
// list of flags ("" when absent).
func flagValue(args []string, name string) string {
	for i, arg := range args {
		if arg == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(arg, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// worker is one worker process of a campaign.
type worker struct {
	slot   int
	dir    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr *limitedBuffer
}

func (co *coordinator) spawnWorker(slot int) (*worker, error) {
	w := &worker{slot: slot, dir: filepath.Join(co.dir, "workers", strconv.Itoa(slot))}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	os.Remove(filepath.Join(w.dir, workerRun))
	args := append(cloneArgs(co.cfg.FuzzArgs), "--worker-dir", w.dir, "--serve")
	w.cmd = exec.Command(co.a.self, append([]string{"fuzz"}, args...)...)
	w.stderr = &limitedBuffer{limit: crashOutputLimit}
	w.cmd.Stderr = w.stderr
	childOfCampaign(w.cmd)
	var err error
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w.out = bufio.NewScanner(stdout)
	w.out.Buffer(make([]byte, 0, 1<<20), 256<<20)
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("campaign: worker: %w", err)
	}
	return w, nil
}

// ask sends a request and reads the reply; false when the worker died.
func (w *worker) ask(req serveRequest) (serveReply, bool) {
	var rep serveReply
	data, _ := json.Marshal(req)
	if _, err := w.stdin.Write(append(data, '\n')); err != nil {
		return rep, false
	}
	if !w.out.Scan() {
		return rep, false
	}
	if err := json.Unmarshal(w.out.Bytes(), &rep); err != nil {
		return rep, false
	}
	return rep, rep.First == req.First && rep.Count == req.Count
}

// end closes the worker's input and waits for it.
func (w *worker) end() (code int) {
	w.stdin.Close()
	err := w.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// work runs ranges in one worker process, restarting it after a run that
// crashed it.
func (co *coordinator) work(slot int, stop func()) {
	var w *worker
	defer func() {
		if w != nil {
			w.end()
		}
	}()
	for {
		r, ok := co.plan.Next()
		if !ok {
			return
		}
		if w == nil {
			var err error
			if w, err = co.spawnWorker(slot); err != nil {
				co.fail(err, stop)
				co.plan.Return(r)
				return
			}
		}
		rep, ok := w.ask(serveRequest{First: r.First, Count: r.Count, Known: co.knownList()})
		if ok {
			co.record(campaign.Piece{First: r.First, Count: r.Count, Events: rep.Events, ElapsedS: rep.ElapsedS,
				Worker: slot, RSSKB: rep.RSSKB, HeapKB: rep.HeapKB, RSSNowKB: rep.RSSNowKB}, rep.Found)
			continue
		}
		code := w.end()
		dead := w
		w = nil
		if err := co.crashed(dead, r, code); err != nil {
			co.plan.Return(r)
			if co.fail(err, stop) {
				return
			}
		}
	}
}

// fail counts a worker failure that is not a crash of a run; after too many
// in a row the campaign stops with the error. It reports whether it did.
func (co *coordinator) fail(err error, stop func()) bool {
	co.mu.Lock()
	defer co.mu.Unlock()
	co.failures++
	if co.failures < maxWorkerFailures {
		fmt.Fprintf(co.a.stderr, "campaign: %v (restarting the worker)\n", err)
		return false
	}
	if co.fatal == nil {
		co.fatal = fmt.Errorf("campaign: workers keep failing: %w", err)
	}
	stop()
	return true
}

// crashed handles a worker that died while running r: the run that killed
// it is recorded as a finding with its schedule, and the rest of r goes back
// to the planner.
func (co *coordinator) crashed(w *worker, r campaign.Range, code int) error {
	c, ok := parseCrash(w.stderr.String())
	if !ok {
		return fmt.Errorf("worker exited with status %d: %s", code, firstLine(w.stderr.String()))
	}
	run, err := readRun(w.dir)
	if err != nil || run < r.First || run >= r.End() {
		return fmt.Errorf("worker crashed (%s) outside a run", c.Message)
	}
	co.plan.Return(campaign.Range{First: r.First, Count: run - r.First})
	co.plan.Return(campaign.Range{First: run + 1, Count: r.End() - run - 1})
	f, err := co.a.captureCrash(co.study, co.opts, append([]string{"fuzz"}, co.cfg.FuzzArgs...), w.dir, run, c, 0)
	if err != nil {
		return err
	}
	sched, err := json.Marshal(f.Sched)
	if err != nil {
		return err
	}
	co.record(campaign.Piece{First: run, Count: 1, Events: len(f.Sched.Events), Worker: w.slot},
		[]campaign.Finding{{Fingerprint: f.Fingerprint, Invariant: f.Invariant, Detail: f.Detail, Run: run, Count: 1,
			Events: f.Events, Flaky: f.Flaky, Crash: true, Schedule: sched, Strategy: fuzz.StrategyName(co.opts, run)}})
	return nil
}

func (co *coordinator) knownList() []string {
	co.mu.Lock()
	defer co.mu.Unlock()
	l := make([]string, 0, len(co.known))
	for fp := range co.known {
		l = append(l, fp)
	}
	slices.Sort(l)
	return l
}

// record stores a finished piece; new violations go to the minimizer.
func (co *coordinator) record(p campaign.Piece, found []campaign.Finding) {
	co.mu.Lock()
	defer co.mu.Unlock()
	p.At = co.elapsed()
	fresh, err := co.st.Record(p, found)
	if err != nil {
		if co.fatal == nil {
			co.fatal = fmt.Errorf("campaign: recording %v: %w", campaign.Range{First: p.First, Count: p.Count}, err)
		}
		co.plan.Close()
		return
	}
	co.failures = 0
	for _, f := range found {
		co.known[f.Fingerprint] = true
	}
	for _, id := range fresh {
		co.last = id
		for _, f := range found {
			if campaign.ID(f.Fingerprint) == id {
				co.lastInvariant = f.Invariant
			}
		}
		if co.cfg.MinimizeBudgetS <= 0 {
			continue // background minimization off: the violation stays pending
		}
		select {
		case co.minq <- id:
		default: // a full queue: the violation stays pending for the next session
		}
	}
	if co.stopAt > 0 && len(co.known) >= co.stopAt {
		co.plan.Close()
	}
	if len(fresh) > 0 || time.Since(co.lastSnap) >= time.Second {
		co.snapshotLocked(true)
	}
}

func (co *coordinator) snapshot(running bool) {
	co.mu.Lock()
	defer co.mu.Unlock()
	co.snapshotLocked(running)
}

func (co *coordinator) snapshotLocked(running bool) {
	co.lastSnap = time.Now()
	if err := co.st.SetElapsed(co.elapsed()); err != nil {
		return
	}
	sn, err := co.st.Summary()
	if err != nil {
		return
	}
	sn.Running, sn.PID, sn.Workers, sn.Last = running, os.Getpid(), co.workers, co.last
	_ = campaign.WriteSnapshot(co.dir, sn)
}

func (co *coordinator) drawProgress(stopped <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stopped:
			fmt.Fprintln(co.a.stderr)
			return
		case <-t.C:
		}
		co.mu.Lock()
		st, err := co.st.Stats()
		last, inv := co.last, co.lastInvariant
		distinct := len(co.known)
		co.mu.Unlock()
		if err != nil {
			continue
		}
		el := co.elapsed()
		line := fmt.Sprintf("\r%s  %d runs  %.0f events/s  %d distinct violations", fmtElapsed(el), st.Runs,
			float64(st.Events)/max(el, 1e-9), distinct)
		if last != "" {
			line += "  last: " + inv + " (" + last + ")"
		}
		fmt.Fprint(co.a.stderr, line+"  ")
	}
}

func fmtElapsed(s float64) string {
	d := time.Duration(s) * time.Second
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func (co *coordinator) pendingMinimizations() int {
	vs, err := co.st.Violations()
	if err != nil {
		return 0
	}
	n := 0
	for _, v := range vs {
		if v.Status == campaign.Pending {
			n++
		}
	}
	return n
}

// violationDir is where a violation's files are written for people to read.
func violationDir(dir, id string) string { return filepath.Join(dir, "violations", id) }

// minimizer minimizes the queued violations one at a time, each in a
// faultline minimize process of its own, and stores the results.
func (co *coordinator) minimizer() {
	for id := range co.minq {
		select {
		case <-co.minCancel:
			return
		default:
		}
		o := co.minimize(id)
		co.mu.Lock()
		err := co.st.SetOutcome(id, o)
		if err == nil {
			co.snapshotLocked(true)
		}
		co.mu.Unlock()
		if err != nil {
			fmt.Fprintf(co.a.stderr, "campaign: %v\n", err)
		}
	}
}

func (co *coordinator) killMinimizer() {
	co.mu.Lock()
	defer co.mu.Unlock()
	if co.minProc != nil {
		co.minProc.Kill()
	}
}

// minimize runs one minimization and returns its outcome; the files it
// makes are kept in the violation's directory too.
func (co *coordinator) minimize(id string) campaign.Outcome {
	failed := func(err error) campaign.Outcome {
		return campaign.Outcome{Status: campaign.Failed, Note: err.Error()}
	}
	first, err := co.st.Blob(id, campaign.BlobFirst)
	if err != nil || first == nil {
		return failed(fmt.Errorf("no schedule stored: %v", err))
	}
	vdir := violationDir(co.dir, id)
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return failed(err)
	}
	in := filepath.Join(vdir, "first.json")
	if err := os.WriteFile(in, first, 0o644); err != nil {
		return failed(err)
	}
	s, err := interpose.ReadFile(in)
	if err != nil {
		return failed(err)
	}
	if s.Violation == nil {
		return failed(errors.New("the stored schedule shows no violation"))
	}
	out := filepath.Join(vdir, "minimized.json")
	budget := time.Duration(co.cfg.MinimizeBudgetS * float64(time.Second))
	cmd := exec.Command(co.a.self, "minimize", in, "--out", out, "--budget", budget.String(), "--json")
	var stdout strings.Builder
	stderr := &limitedBuffer{limit: crashOutputLimit}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	childOfCampaign(cmd)
	start := time.Now()
	co.mu.Lock()
	err = cmd.Start()
	co.minProc = cmd.Process
	co.mu.Unlock()
	if err != nil {
		return failed(err)
	}
	err = cmd.Wait()
	co.mu.Lock()
	co.minProc = nil
	co.mu.Unlock()
	var res struct {
		Events     int     `json:"minimized_events"`
		Reproduced int     `json:"reproduced"`
		Runs       int     `json:"runs"`
		Flaky      bool    `json:"flaky"`
		ElapsedS   float64 `json:"elapsed_s"`
		Report     string  `json:"report"`
	}
	if jerr := json.Unmarshal([]byte(stdout.String()), &res); jerr != nil {
		if err == nil {
			err = jerr
		}
		return failed(fmt.Errorf("minimize: %v: %s", err, firstLine(stderr.String())))
	}
	o := campaign.Outcome{Status: campaign.Minimized, Events: res.Events, ElapsedS: time.Since(start).Seconds()}
	if res.Flaky {
		o.Status, o.Note = campaign.Failed, "the schedule does not replay reliably enough to minimize"
		return o
	}
	if res.Reproduced < res.Runs {
		o.Note = fmt.Sprintf("the minimized schedule reproduced in %d of %d replays", res.Reproduced, res.Runs)
		if res.Reproduced == 0 {
			o.Status = campaign.Failed
		}
	}
	o.Minimized, _ = os.ReadFile(out)
	if res.Report != "" {
		if o.Report, err = os.ReadFile(res.Report); err == nil {
			os.WriteFile(filepath.Join(vdir, "report.md"), o.Report, 0o644)
		}
	}
	return o
}
