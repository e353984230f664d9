package campaign

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// RunOptions configure a session of a campaign. The zero value runs one
// worker per core until Stop is closed, minimizing in the background as the
// store's config says, and prints nothing.
type RunOptions struct {
	// Workers is the number of worker processes (0: one per core).
	Workers int
	// Time stops the session after this long (0: no bound).
	Time time.Duration
	// StopAt stops it once the campaign holds this many distinct
	// violations (0: never).
	StopAt int
	// Stop, when closed, stops handing out runs: the runs in flight finish,
	// and so does the minimization in progress, if any. Abort, when closed,
	// stops at once: worker processes and the minimizer are killed, and Run
	// returns ErrAborted with what was recorded.
	Stop, Abort <-chan struct{}
	// WaitMinimize makes a session whose time is up, or that Stop stops,
	// minimize every violation still pending before it returns. Without
	// it those stay pending in the store, for the next session to
	// minimize: a session ends within its time and one minimization
	// budget, instead of a budget per violation found. A session that
	// StopAt stops minimizes what it found: that is what it ran for, and
	// StopAt bounds it.
	WaitMinimize bool
	// Stderr receives notes (a resumed session, a restarted worker) and,
	// with Progress, a progress line redrawn once a second (nil: discarded).
	// ProgressLines, with Progress, writes it as a line of its own once a
	// minute instead, for a log rather than a terminal: an overnight
	// campaign's log shows it alive.
	Stderr        io.Writer
	Progress      bool
	ProgressLines bool
	// Program is the command that replays a stored schedule, named in the
	// reports of background minimizations ("": faultline).
	Program string
}

// ErrAborted is returned by Run when RunOptions.Abort was closed.
var ErrAborted = errors.New("campaign: stopped at once")

// defaultChunkEvents is about how many events a chunk of runs holds: a few
// seconds of a worker's time at most, so that little is in flight.
const defaultChunkEvents = 50_000

// ChunkFor is the default chunk, in runs, of runs of events events.
func ChunkFor(events int) int { return max(1, defaultChunkEvents/max(events, 1)) }

// maxWorkerFailures bounds the worker deaths in a row that are not crashes
// of a run (a broken binary, a bad flag) before the campaign gives up.
const maxWorkerFailures = 5

// coordinator runs one session of a campaign.
type coordinator struct {
	st      *Store
	cfg     Config
	target  interpose.Target
	w       *Workers
	ro      RunOptions
	opts    fuzz.Options // the workload, as the workers run it
	dir     string
	plan    *Planner
	stderr  io.Writer
	start   time.Time
	base    float64 // elapsed before this session
	aborted chan struct{}

	mu            sync.Mutex // guards the store's writes and what follows
	known         map[string]bool
	last          string // the ID of the violation found last, and its invariant
	lastInvariant string
	stoppedAt     float64
	lastSnap      time.Time
	failures      int
	fatal         error
	minq          chan string
	// stop stops handing out runs; stopped is closed then.
	stop    func()
	stopped chan struct{}
	// minimizing is the minimization in progress (id "": none), and
	// workersDone is set once every worker has ended: what the wind-down
	// shows.
	minimizing  minimization
	workersDone bool
	// stoppedAtCount is set when StopAt stopped the session.
	stoppedAtCount bool
}

// minimization is a background minimization in progress.
type minimization struct {
	id, invariant string
	start         time.Time
}

// Run runs one session of the campaign whose store st is, on target (the
// store's Config.Target), with worker processes w: it hands out the chunks
// of runs still to do (holes first) to RunOptions.Workers processes,
// records each finished piece and every violation, minimizes new
// violations in the background one at a time, and stops when the time is
// up, Stop is closed or the plan is done. It returns the store's snapshot
// at the end, also written next to the store.
//
// When it stops, the minimization in progress finishes (it is bounded by
// its budget) and the violations still to minimize stay pending in the
// store, for the next session (RunOptions.WaitMinimize: minimize them
// all first). It says which on Stderr.
//
// It first removes the temporary directories that processes killed
// earlier left behind (RemoveStale).
func Run(st *Store, target interpose.Target, w *Workers, ro RunOptions) (Snapshot, error) {
	if w.Command == nil {
		return Snapshot{}, fmt.Errorf("campaign: %w", ErrNoWorkers)
	}
	cfg, err := st.Config()
	if err != nil {
		return Snapshot{}, err
	}
	if cfg.Target != target.Name() {
		return Snapshot{}, fmt.Errorf("campaign %s: its target is %s, not %s", st.Dir(), cfg.Target, target.Name())
	}
	_, opts, err := ParseWorkload(cfg.FuzzArgs)
	if err != nil {
		return Snapshot{}, err
	}
	opts = fuzz.ApplyWorkload(target, opts)
	if ro.Program == "" {
		ro.Program = "faultline"
	}
	opts.Command = ro.Program + " fuzz " + strings.Join(cfg.FuzzArgs, " ")
	if ro.Workers <= 0 {
		ro.Workers = runtime.NumCPU()
	}
	stderr := ro.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	// Best effort: a directory it cannot remove is no reason not to fuzz.
	_, _ = RemoveStale()
	plan, err := st.Plan()
	if err != nil {
		return Snapshot{}, err
	}
	base, err := st.BeginSession()
	if err != nil {
		return Snapshot{}, err
	}
	co := &coordinator{st: st, cfg: cfg, target: target, w: w, ro: ro, opts: opts, dir: st.Dir(), plan: plan,
		stderr: stderr, base: base, start: time.Now(), known: map[string]bool{}, minq: make(chan string, 1024),
		aborted: make(chan struct{}), stopped: make(chan struct{})}
	vs, err := st.Violations()
	if err != nil {
		return Snapshot{}, err
	}
	for _, v := range vs {
		co.known[v.Fingerprint] = true
		if v.Status == Pending && cfg.MinimizeBudgetS > 0 {
			co.minq <- v.ID
		}
	}
	if holes := plan.Holes(); len(holes) > 0 {
		fmt.Fprintf(stderr, "campaign %s: resuming; %d unfinished ranges first (%v ...)\n", co.dir, len(holes), holes[0])
	}
	co.snapshot(true)

	// Stop on the time limit or Stop: no new ranges, the ranges in flight
	// finish. Abort stops at once.
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { plan.Close(); close(co.stopped) }) }
	co.stop = stop
	var timer <-chan time.Time
	if ro.Time > 0 {
		timer = time.After(ro.Time)
	}
	watchDone := make(chan struct{})
	defer close(watchDone)
	go func() {
		select {
		case <-timer:
			stop()
		case <-ro.Stop:
			stop()
		case <-ro.Abort:
		case <-watchDone:
			return
		}
		select {
		case <-ro.Abort:
			close(co.aborted)
			stop()
			w.Kill()
		case <-watchDone:
		}
	}()

	minDone := make(chan struct{})
	go func() { defer close(minDone); co.minimizer() }()
	progressDone := make(chan struct{})
	if ro.Progress {
		go co.drawProgress(minDone, progressDone, ro.ProgressLines)
	} else {
		close(progressDone)
	}
	var wg sync.WaitGroup
	for i := range ro.Workers {
		wg.Go(func() { co.work(i, stop) })
	}
	wg.Wait()
	stop()
	co.mu.Lock()
	co.stoppedAt = co.elapsed()
	co.workersDone = true
	cur := co.minimizing
	co.mu.Unlock()
	close(co.minq)
	minimizing := cfg.MinimizeBudgetS > 0 && !co.isAborted()
	if minimizing && (!ro.Progress || ro.ProgressLines) {
		if co.waitAll() {
			if n := co.pendingMinimizations(); n > 0 {
				fmt.Fprintf(stderr, "campaign: minimizing %d violation(s) before stopping (a second interrupt stops at once)\n", n)
			}
		} else if cur.id != "" {
			fmt.Fprintf(stderr, "campaign: finishing the minimization in progress, of %s (%s), started %s ago, budget %s (a second interrupt stops at once)\n",
				cur.id, cur.invariant, FormatElapsed(time.Since(cur.start).Seconds()), co.budget())
		}
	}
	<-minDone
	<-progressDone
	if n := co.pendingMinimizations(); minimizing && n > 0 {
		fmt.Fprintf(stderr, "campaign: %d violation(s) left pending; `%s campaign resume --dir %s` minimizes them\n", n, ro.Program, co.dir)
	}
	co.mu.Lock()
	err = co.st.SetElapsed(co.elapsed())
	fatal := co.fatal
	co.mu.Unlock()
	if err != nil {
		return Snapshot{}, err
	}
	co.snapshot(true)
	sn, err := st.Snapshot()
	if err != nil {
		return sn, err
	}
	sn.Running = false
	if err := WriteSnapshot(co.dir, sn); err != nil {
		return sn, err
	}
	if co.isAborted() {
		return sn, ErrAborted
	}
	return sn, fatal
}

func (co *coordinator) isAborted() bool {
	select {
	case <-co.aborted:
		return true
	default:
		return false
	}
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

// worker is one worker process of a campaign.
type worker struct {
	slot     int
	dir      string
	cmd      *exec.Cmd
	requests *os.File
	replies  *bufio.Scanner
	stderr   *limitedBuffer
}

// spawnWorker starts a serving worker with its request and reply pipes (its
// file descriptors 3 and 4).
func (co *coordinator) spawnWorker(slot int) (*worker, error) {
	w := &worker{slot: slot, dir: filepath.Join(co.dir, "workers", strconv.Itoa(slot))}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	os.Remove(filepath.Join(w.dir, workerRun))
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, fmt.Errorf("campaign: %w", err)
	}
	cmd, stderr, err := co.w.start(w.dir, Job{Kind: JobServe, Target: co.target.Name(), Fuzz: co.opts}, nil, reqR, repW)
	reqR.Close() // the child's ends
	repW.Close()
	if err != nil {
		reqW.Close()
		repR.Close()
		return nil, err
	}
	w.cmd, w.stderr, w.requests = cmd, stderr, reqW
	w.replies = bufio.NewScanner(repR)
	w.replies.Buffer(make([]byte, 0, 1<<20), 256<<20)
	return w, nil
}

// ask sends a request and reads the reply; false when the worker died.
func (w *worker) ask(req serveRequest) (serveReply, bool) {
	var rep serveReply
	data, _ := json.Marshal(req)
	if _, err := w.requests.Write(append(data, '\n')); err != nil {
		return rep, false
	}
	if !w.replies.Scan() {
		return rep, false
	}
	if err := json.Unmarshal(w.replies.Bytes(), &rep); err != nil {
		return rep, false
	}
	return rep, rep.First == req.First && rep.Count == req.Count
}

// end closes the worker's input and waits for it.
func (co *coordinator) end(w *worker) (code int) {
	w.requests.Close()
	return co.w.wait(w.cmd)
}

// work runs ranges in one worker process, restarting it after a run that
// crashed it.
func (co *coordinator) work(slot int, stop func()) {
	var w *worker
	defer func() {
		if w != nil {
			co.end(w)
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
				co.plan.Return(r)
				if co.isAborted() || co.fail(err, stop) {
					return
				}
				continue
			}
		}
		rep, ok := w.ask(serveRequest{First: r.First, Count: r.Count, Known: co.knownList()})
		if ok {
			co.record(Piece{First: r.First, Count: r.Count, Events: rep.Events, ElapsedS: rep.ElapsedS,
				Worker: slot, RSSKB: rep.RSSKB, HeapKB: rep.HeapKB, RSSNowKB: rep.RSSNowKB, Monitors: rep.Monitors,
				Faults: rep.Faults, Checks: rep.Checks}, rep.Found)
			continue
		}
		code := co.end(w)
		dead := w
		w = nil
		if co.isAborted() {
			co.plan.Return(r)
			return
		}
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
		fmt.Fprintf(co.stderr, "campaign: %v (restarting the worker)\n", err)
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
func (co *coordinator) crashed(w *worker, r Range, code int) error {
	c, ok := parseCrash(w.stderr.String())
	if !ok {
		return fmt.Errorf("worker exited with status %d: %s", code, firstLine(w.stderr.String()))
	}
	run, err := readRun(w.dir)
	if err != nil || run < r.First || run >= r.End() {
		return fmt.Errorf("worker crashed (%s) outside a run", c.Message)
	}
	co.plan.Return(Range{First: r.First, Count: run - r.First})
	co.plan.Return(Range{First: run + 1, Count: r.End() - run - 1})
	f, err := co.w.captureCrash(co.target, co.opts, w.dir, run, c, 0)
	if err != nil {
		return err
	}
	sched, err := json.Marshal(f.Sched)
	if err != nil {
		return err
	}
	co.record(Piece{First: run, Count: 1, Events: len(f.Sched.Events), Worker: w.slot},
		[]Finding{{Fingerprint: f.Fingerprint, Invariant: f.Invariant, Detail: f.Detail, Run: run, Count: 1,
			Events: f.Events, Flaky: f.Flaky, Crash: true, Schedule: sched, Strategy: f.Strategy}})
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
func (co *coordinator) record(p Piece, found []Finding) {
	co.mu.Lock()
	defer co.mu.Unlock()
	p.At = co.elapsed()
	fresh, err := co.st.Record(p, found)
	if err != nil {
		if co.fatal == nil {
			co.fatal = fmt.Errorf("campaign: recording %v: %w", Range{First: p.First, Count: p.Count}, err)
		}
		co.stop()
		return
	}
	co.failures = 0
	for _, f := range found {
		co.known[f.Fingerprint] = true
	}
	for _, id := range fresh {
		co.last = id
		for _, f := range found {
			if ID(f.Fingerprint) == id {
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
	if co.ro.StopAt > 0 && len(co.known) >= co.ro.StopAt {
		if !co.isStopped() {
			co.stoppedAtCount = true
		}
		co.stop()
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
	sn.Running, sn.PID, sn.Workers, sn.Last = running, os.Getpid(), co.ro.Workers, co.last
	_ = WriteSnapshot(co.dir, sn)
}

// drawProgress draws a progress line on stderr once a second until the
// minimizer is done: the campaign's runs while it fuzzes, then its
// wind-down, so that a session that is finishing a minimization never
// looks hung. With lines, it writes the line once a minute, each a line
// of its own.
func (co *coordinator) drawProgress(minDone <-chan struct{}, done chan<- struct{}, lines bool) {
	defer close(done)
	every := time.Second
	if lines {
		every = progressLineEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	width := 0
	draw := func(line string) {
		if lines {
			fmt.Fprintln(co.stderr, line)
			return
		}
		fmt.Fprintf(co.stderr, "\r%-*s", width, line)
		width = max(width, len(line))
	}
	for {
		select {
		case <-minDone:
			if !lines {
				fmt.Fprintln(co.stderr)
			}
			return
		case <-t.C:
		}
		select {
		case <-co.stopped:
			draw(co.windDownLine())
			continue
		default:
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
		line := fmt.Sprintf("%s  %d runs  %.0f events/s  %d distinct violations", FormatElapsed(el), st.Runs,
			float64(st.Events)/max(el, 1e-9), distinct)
		if last != "" {
			line += "  last: " + inv + " (" + last + ")"
		}
		draw(line)
	}
}

// progressLineEvery is how often a campaign writes its progress as a line
// of its own (RunOptions.ProgressLines).
var progressLineEvery = time.Minute

// windDownLine is the progress line of a session that is stopping: the
// runs in flight, the minimization in progress and its time, and how many
// violations stay pending.
func (co *coordinator) windDownLine() string {
	co.mu.Lock()
	cur, workersDone := co.minimizing, co.workersDone
	co.mu.Unlock()
	line := "stopping:"
	if !workersDone {
		line += " the runs in flight;"
	}
	if cur.id != "" {
		line += fmt.Sprintf(" minimizing %s (%s) %s of %s;", cur.id, cur.invariant,
			FormatElapsed(time.Since(cur.start).Seconds()), co.budget())
	}
	n := co.pendingMinimizations()
	if cur.id != "" {
		n-- // the one in progress
	}
	switch {
	case co.cfg.MinimizeBudgetS <= 0:
	case co.waitAll():
		line += fmt.Sprintf(" %d more to minimize", max(n, 0))
	default:
		line += fmt.Sprintf(" %d left pending", max(n, 0))
	}
	return strings.TrimSuffix(line, ";")
}

// waitAll reports whether the session, stopping, minimizes every
// violation still pending first (RunOptions.WaitMinimize, or StopAt
// stopped it).
func (co *coordinator) waitAll() bool {
	co.mu.Lock()
	defer co.mu.Unlock()
	return co.ro.WaitMinimize || co.stoppedAtCount
}

// budget is a minimization's budget, as hh:mm:ss.
func (co *coordinator) budget() string { return FormatElapsed(co.cfg.MinimizeBudgetS) }

// FormatElapsed writes seconds as hh:mm:ss.
func FormatElapsed(s float64) string {
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
		if v.Status == Pending {
			n++
		}
	}
	return n
}
