package hraft

import (
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
)

// node is one server. Its durable stores outlive its incarnations; everything
// else is rebuilt at each start or recovery, inside the node's bubble.
type node struct {
	c  *Cluster
	id int

	cmds   chan func() // made outside the bubble: waiting on it freezes the clock
	done   chan any    // the panic of a command, or nil
	exited chan struct{}
	exit   error // set before exited is closed
	// exitFrames are where the goroutines left in the bubble when it ended
	// were blocked (set with exit); ended is set once cmds is closed.
	exitFrames []string
	ended      bool
	bubble     string // "synctest bubble N", as goroutine dumps name the node's bubble

	// stuck is set when a command did not finish (see agent and do): the
	// node then takes no event, and its bubble is abandoned at Close.
	stuck bool

	logs   *logStore
	stable *stableStore
	snaps  *snapStore
	disk   disk // storage faults (Disk events)

	conf       *raft.Config // this node's configuration template
	advanceCap time.Duration

	// Owned by the agent; read by the controller only between events.
	started, up  bool
	bootstrapped bool
	inc          int
	raft         atomic.Pointer[raft.Raft]
	userFSM      raft.FSM
	tr           *transport
	sent         chan struct{} // made inside the bubble
	// dead is set when a tear kills the incarnation (tear.go), until the
	// crash that follows; tornCh is closed then (made inside the bubble).
	dead   atomic.Pointer[torn]
	tornCh chan struct{}
	// tornLast is, for a node down since a tear, its last index then
	// (raft's own ran on past it); 0 otherwise.
	tornLast uint64

	// The configuration last read from raft, for views, and the value of
	// confGen then; store wrappers bump confGen (mayReconfigure).
	confGen  atomic.Uint64
	confSeen uint64
	members  *interpose.RaftConfig

	// readReady is where the read index last made the node's state
	// machine current (Options.ReadIndex).
	readReady atomic.Pointer[readMark]
}

func (c *Cluster) newNode(id int) (*node, error) {
	n := &node{
		c:      c,
		id:     id,
		cmds:   make(chan func()),
		done:   make(chan any),
		exited: make(chan struct{}),
	}
	n.conf = DefaultConfig(id)
	if c.opts.Config != nil {
		c.opts.Config(id, n.conf)
	}
	n.conf.LocalID = serverID(id)
	if err := raft.ValidateConfig(n.conf); err != nil {
		return nil, fmt.Errorf("hraft: n%d: %w", id, err)
	}
	n.advanceCap = 2*max(n.conf.HeartbeatTimeout, n.conf.ElectionTimeout) + n.conf.LeaderLeaseTimeout

	var logs raft.LogStore = raft.NewInmemStore()
	var stable raft.StableStore
	var snaps raft.SnapshotStore
	var err error
	if f := c.opts.NewLogStore; f != nil {
		if logs, err = f(id); err != nil {
			return nil, fmt.Errorf("hraft: n%d: log store: %w", id, err)
		}
	}
	if f := c.opts.NewStableStore; f != nil {
		if stable, err = f(id); err != nil {
			return nil, fmt.Errorf("hraft: n%d: stable store: %w", id, err)
		}
	} else if s, ok := logs.(raft.StableStore); ok && c.opts.NewLogStore == nil {
		stable = s // raft.InmemStore is both
	} else {
		stable = raft.NewInmemStore()
	}
	if f := c.opts.NewSnapshotStore; f != nil {
		if snaps, err = f(id); err != nil {
			return nil, fmt.Errorf("hraft: n%d: snapshot store: %w", id, err)
		}
	} else {
		snaps = raft.NewInmemSnapshotStore()
	}
	_, lossy := logs.(Crasher)
	n.logs = &logStore{n: n, inner: logs, lossy: lossy}
	n.stable = &stableStore{n: n, inner: stable}
	n.snaps = &snapStore{n: n, inner: snaps}
	return n, nil
}

// launch starts the node's bubble. The bubble lives until shutdown, across
// crashes and recoveries, so that the node keeps one clock.
func (n *node) launch() {
	go func() {
		defer close(n.exited)
		defer func() {
			if r := recover(); r != nil {
				n.exitFrames = blockedFrames(n.bubble)
				n.exit = fmt.Errorf("hraft: n%d: bubble: %v%s", n.id, r, blockedIn(n.exitFrames))
			}
		}()
		synctest.Test(n.c.t, n.agent)
	}()
}

// agent runs inside the bubble: it executes commands one at a time and
// answers only when every goroutine of the bubble is durably blocked.
//
// A command that has not returned after StuckAfter of the node's virtual
// time never will: the fake clock moves only while every goroutine of the
// bubble is durably blocked, so nothing is left to wake it. A timer of the
// bubble then answers for it, errStuck, and tells raft to shut down (so that
// its goroutines with timers end), without waiting; the agent stays blocked
// in the command, and if it ever returns it answers nothing more: the
// controller sends a stuck node no command.
func (n *node) agent(*testing.T) {
	n.bubble = bubbleOf()
	n.sent = make(chan struct{}, 1)
	var stuck atomic.Bool
	timer := time.AfterFunc(StuckAfter, func() {
		stuck.Store(true)
		n.done <- errStuck{blocked: blockedFrames(n.bubble)}
		n.abandon()
	})
	timer.Stop()
	for f := range n.cmds {
		timer.Reset(StuckAfter)
		p := guarded(f)
		timer.Stop()
		if stuck.Load() {
			continue
		}
		synctest.Wait()
		n.done <- p
	}
}

func guarded(f func()) (p any) {
	defer func() { p = recover() }()
	f()
	return nil
}

// StuckAfter is how much of a node's virtual time a command of the
// controller (a delivery, a crash, a start...) may take before the node is
// declared stuck: a Liveness:Stuck violation, with the goroutines of the
// node left blocked. Every goroutine of the bubble is durably blocked by
// then, with no timer of its own due sooner, so nothing can wake it: a
// state machine's Apply blocked for good makes raft's shutdown wait for
// ever, for example. It costs nothing in real time.
const StuckAfter = 5 * time.Minute

// errStuck answers a command that never finished: the frames at which the
// bubble's goroutines were blocked.
type errStuck struct{ blocked []string }

// do runs f in the node's bubble and waits until the bubble is quiescent.
// A node that gets stuck in f (see agent), or that the cluster's watchdog
// finds blocked in it for longer than Options.Watchdog of real time, is
// reported as a Liveness:Stuck violation and marked stuck; a stuck node is
// sent no command.
func (n *node) do(f func()) {
	if n.stuck {
		return
	}
	w := &n.c.watch
	w.enter()
	defer w.leave()
	select {
	case n.cmds <- f:
	case <-n.exited:
		return
	case <-w.fired:
		n.hang()
		return
	}
	select {
	case p := <-n.done:
		if s, ok := p.(errStuck); ok {
			n.stuck = true
			n.stuckFault(s.blocked, fmt.Sprintf("%s did not finish within %v of its virtual time", n.c.applying, StuckAfter))
		} else if p != nil {
			n.fault("hraft agent", p)
		}
	case <-w.fired:
		n.hang()
	}
}

// hang marks a node the watchdog gave up on: blocked outside what the fake
// clock can see (a lock, a channel made outside its bubble, a loop).
func (n *node) hang() {
	n.stuck = true
	n.stuckFault(blockedFrames(n.bubble), fmt.Sprintf("%s did not finish within %v of real time (the watchdog)", n.c.applying, n.c.watch.after))
}

// stuckFault records a Liveness:Stuck violation for the node: what it was
// doing (the event the cluster was applying), and where its goroutines are
// blocked. The fingerprint names the frames outside raft and faultline
// where some are (a state machine's Apply), else raft's.
func (n *node) stuckFault(blocked []string, what string) {
	where := stuckWhere(blocked)
	detail := fmt.Sprintf("n%d stuck: %s", n.id, what)
	if len(blocked) > 0 {
		detail += "; blocked in it: " + strings.Join(blocked, ", ")
	}
	n.c.observeFault(interpose.Violation{
		Invariant:   interpose.Stuck,
		Fingerprint: interpose.Stuck + ": " + where,
		Detail:      detail,
	})
}

func (n *node) notifySent() {
	select {
	case n.sent <- struct{}{}:
	default:
	}
}

// role returns whether the node is leader, and its term, for log writes.
func (n *node) role() (bool, uint64) {
	r := n.raft.Load()
	if r == nil {
		return false, 0
	}
	return r.State() == raft.Leader, n.currentTerm(r)
}

// start starts the node for the first time, bootstrapping it with a
// configuration of every node as a voter.
func (n *node) start() {
	n.started = true
	if err := n.boot(); err != nil && !errors.Is(err, errNewRaftPanicked) {
		n.startErr(err)
	}
}

func (n *node) boot() error {
	// A new incarnation: responses to the old one's requests are discarded.
	n.inc++
	n.disk.arm()
	n.dead.Store(nil)
	n.tornLast = 0
	n.tornCh = make(chan struct{})
	tr := newTransport(n, n.inc)
	n.tr = tr // a tear during the start closes it (tear.go)
	if !n.bootstrapped {
		n.bootstrapped = true
		has, err := raft.HasExistingState(n.logs, n.stable, n.snaps)
		if err != nil {
			return err
		}
		if !has {
			var conf raft.Configuration
			for i := range n.c.nodes {
				conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: serverID(i + 1), Address: serverAddr(i + 1)})
			}
			if err := raft.BootstrapCluster(n.conf, n.logs, n.stable, n.snaps, tr, conf); err != nil {
				return err
			}
		}
	}
	conf := *n.conf
	user := raft.FSM(NewKV())
	if f := n.c.opts.NewFSM; f != nil {
		user = f(n.id)
	}
	n.snaps.reload()
	n.mayReconfigure()
	r, err := n.newRaft(&conf, wrapFSM(n, user), tr)
	if err != nil {
		return err
	}
	n.userFSM = user
	n.raft.Store(r)
	n.up = true
	return nil
}

var errNewRaftPanicked = errors.New("raft.NewRaft panicked")

// newRaft is raft.NewRaft, with a panic (raft panics when its stores do not
// agree, for example a log that misses entries after its latest snapshot)
// recorded as a fault of raft.NewRaft.
func (n *node) newRaft(conf *raft.Config, f raft.FSM, tr *transport) (r *raft.Raft, err error) {
	defer func() {
		if p := recover(); p != nil {
			n.fault("raft.NewRaft", p)
			err = fmt.Errorf("%w: %v", errNewRaftPanicked, p)
		}
	}()
	return raft.NewRaft(conf, f, n.logs, n.stable, n.snaps, tr)
}

// startErr records a failure to start as a fault: a node that cannot restart
// on its own stores is a bug worth a schedule.
func (n *node) startErr(err error) {
	n.c.observeFault(interpose.Violation{
		Invariant:   "NodeStarts",
		Fingerprint: "NodeStarts: " + interpose.StableText(err.Error()),
		Detail:      fmt.Sprintf("n%d could not start: %v", n.id, err),
	})
}

// recover restarts a crashed node on its durable stores with a fresh FSM.
func (n *node) recover() {
	if err := n.boot(); err != nil && !errors.Is(err, errNewRaftPanicked) {
		n.startErr(err)
	}
}

// crash stops the node as a power failure would: its transport first, so that
// goroutines parked in it return, then raft. Stores that implement Crasher
// lose what they had not made durable.
func (n *node) crash() {
	n.stop()
	crashStores(n.logs.inner, n.stable.inner, n.snaps.inner)
	if n.logs.lossy {
		n.logs.afterCrash() // what did it lose?
	}
	if t := n.dead.Swap(nil); t != nil { // what it wrote after the tear is lost
		n.tornLast = t.last
	}
	if _, lossy := n.stable.inner.(Crasher); lossy {
		n.stable.afterCrash()
	} else {
		n.stable.reload()
	}
}

// stop shuts the node's raft down.
func (n *node) stop() {
	n.tr.Close()
	n.disk.disarm()
	if r := n.raft.Load(); r != nil {
		_ = r.Shutdown().Error()
	}
	n.up = false
}

// advance moves the node's clock until it sends a message, or by advanceCap.
// Timers that fire without sending (a leader's lease check, a snapshot) fire
// on the way. It returns what it did, the message that ended the advance
// (nil at the cap), how many such messages of the node were then pending,
// and how far the clock moved.
//
// A replay passes the recorded want and wantN: the clock moves until wantN
// messages matching want are pending, so that the recorded timer fires even
// if another timer of the node comes first this time, and not at all if the
// node already sent it. An advance that ended at the cap records wantN = -1,
// and its replay moves the clock by the whole cap. A timed replay passes the
// recorded took as well: the clock moves by exactly that much, and want
// and wantN are returned as they were recorded (the message that ended the
// recorded advance is sent at its very end, once the node runs on).
func (n *node) advance(want *interpose.Msg, wantN int, took time.Duration) (string, *interpose.Msg, int, time.Duration) {
	select {
	case <-n.sent:
	default:
	}
	if want == nil && wantN < 0 {
		// Recorded at the cap: move the clock by the cap, whatever is sent.
		start := time.Now()
		time.Sleep(n.advanceCap)
		d := time.Since(start)
		return "+" + d.String() + " (cap)", nil, -1, d
	}
	if took > 0 && want != nil {
		start := time.Now()
		time.Sleep(took)
		d := time.Since(start)
		return "+" + d.String(), want, wantN, d
	}
	wantN = max(wantN, 1)
	if want != nil && n.c.countFrom(n.id, want) >= wantN {
		fp, k := n.resolve(want, wantN)
		return "+0s", fp, k, 0
	}
	n.c.mu.Lock()
	seq := n.c.seq
	n.c.mu.Unlock()
	start := time.Now()
	t := time.NewTimer(n.advanceCap)
	defer t.Stop()
	for {
		select {
		case <-n.tornCh:
			// The node died on the way (a tear): it sends nothing more.
			d := time.Since(start)
			return "+" + d.String() + " (torn)", nil, -1, d
		case <-n.sent:
			fp := want
			if fp == nil {
				fp = n.c.firstSince(n.id, seq)
			}
			if fp == nil {
				continue
			}
			if k := n.c.countFrom(n.id, fp); k >= wantN || want == nil {
				fp, k = n.resolve(fp, k)
				d := time.Since(start)
				return "+" + d.String(), fp, k, d
			}
		case <-t.C:
			d := time.Since(start)
			return "+" + d.String() + " (cap)", nil, -1, d
		}
	}
}

// resolve returns what an advance that ended on k pending messages matching
// fp records: fp itself when it is a full fingerprint; for a type-only one
// (a wildcard replay), the node's newest matching message and how many
// with its full fingerprint are pending, so that the schedule replayed
// records what happened.
func (n *node) resolve(fp *interpose.Msg, k int) (*interpose.Msg, int) {
	if fp.Key != "" {
		return fp, k
	}
	last := n.c.lastFrom(n.id, fp)
	if last == nil {
		return fp, k
	}
	return last, n.c.countFrom(n.id, last)
}

// shutdown stops the node if it is up and ends its bubble. A stuck node's
// bubble cannot end: it is abandoned (its raft was told to shut down when it
// got stuck).
func (n *node) shutdown() error {
	if n.ended {
		return nil // ended by Stop, which reported what it found
	}
	if n.up && !n.stuck {
		n.do(n.stop)
	}
	n.ended = true
	close(n.cmds)
	if n.stuck {
		return nil // reported by Stop, when a run asks it
	}
	<-n.exited
	return n.exit
}

// abandon tells a stuck node's raft to shut down, so that its goroutines
// with timers end, without waiting for the ones that cannot. It runs in the
// bubble, on the timer that found the node stuck.
func (n *node) abandon() {
	if n.tr != nil {
		n.tr.Close()
	}
	n.disk.disarm()
	if r := n.raft.Load(); r != nil {
		r.Shutdown()
	}
}

// view returns the node's view, its Raft facts written to st (which the
// view points to): a node that never started publishes none.
func (n *node) view(st *interpose.RaftState) interpose.NodeView {
	v := interpose.NodeView{Node: n.id, Started: n.started, Up: n.up}
	if n.started {
		n.fill(st)
		v.Facts = st
	}
	return v
}

// fill writes the node's Raft facts to st: for a down node, its durable
// term, vote and last index.
func (n *node) fill(st *interpose.RaftState) {
	*st = interpose.RaftState{}
	st.Term, st.VoteTerm, st.Vote = n.stable.snapshot()
	r := n.raft.Load()
	switch {
	case !n.up:
		st.Role = "down"
		switch {
		case n.tornLast != 0:
			st.LastIndex = n.tornLast
		case r != nil:
			st.LastIndex = r.LastIndex()
		}
	default:
		st.Role = roleName(r.State())
		st.Term = n.currentTerm(r)
		st.LastIndex = r.LastIndex()
		st.CommitIndex = commitIndex(r)
		st.AppliedIndex = r.AppliedIndex()
		st.SnapshotIndex = n.snaps.index.Load()
		st.Config = n.configuration(r)
	}
}

// roleName is a raft state's name in a node's facts, without the
// allocation of lowering its String every view.
func roleName(s raft.RaftState) string {
	switch s {
	case raft.Follower:
		return interpose.RoleFollower
	case raft.Candidate:
		return interpose.RoleCandidate
	case raft.Leader:
		return interpose.RoleLeader
	case raft.Shutdown:
		return "shutdown"
	}
	return strings.ToLower(s.String())
}

// configuration returns the node's latest configuration as raft has it.
// raft keeps a copy of it that GetConfiguration reads without its main
// loop (raft.go, getLatestConfiguration), but the call still allocates a
// future: it is made again only when raft may have changed the
// configuration since (mayReconfigure), which is rare. A configuration
// that cannot be read is an empty one, as raft's own answer then is.
func (n *node) configuration(r *raft.Raft) *interpose.RaftConfig {
	if g := n.confGen.Load(); g != n.confSeen || n.members == nil {
		n.confSeen = g
		c, _ := n.latestConfiguration(r)
		n.members = raftConfig(c)
	}
	return n.members
}

// mayReconfigure notes that raft may change the node's configuration: it
// stores a configuration entry, deletes entries (a follower drops a
// conflicting suffix and falls back to its committed configuration),
// takes in a snapshot, or starts.
func (n *node) mayReconfigure() { n.confGen.Add(1) }

// raftConfig converts a raft configuration to node numbers. A staging
// server, which raft no longer makes, counts as a non-voter.
func raftConfig(c raft.Configuration) *interpose.RaftConfig {
	out := &interpose.RaftConfig{}
	for _, s := range c.Servers {
		id, ok := nodeOf(string(s.ID))
		if !ok {
			continue
		}
		if s.Suffrage == raft.Voter {
			out.Voters = append(out.Voters, id)
		} else {
			out.Nonvoters = append(out.Nonvoters, id)
		}
	}
	slices.Sort(out.Voters)
	slices.Sort(out.Nonvoters)
	return out
}

// guard, deferred, turns a panic in user code into a fault and an error for
// raft.
func (n *node) guard(where string, errp *error) {
	if r := recover(); r != nil {
		n.fault(where, r)
		if errp != nil {
			*errp = errPanicked{where}
		}
	}
}

func (n *node) fault(where string, p any) {
	n.c.observeFault(interpose.Violation{
		Invariant:   "NoPanic",
		Fingerprint: "NoPanic: " + where + ": " + interpose.StableText(fmt.Sprint(p)),
		Detail:      fmt.Sprintf("n%d: %s panicked: %v", n.id, where, p),
	})
}

var (
	seedOnce sync.Once
	seedErr  error
)

// checkSeedable makes sure rand.Seed works: Go 1.24 made it a no-op unless
// the main module sets randseednop=0.
func checkSeedable() error {
	seedOnce.Do(func() {
		rand.Seed(1) //nolint:staticcheck
		a := rand.Int63()
		rand.Seed(1) //nolint:staticcheck
		if rand.Int63() != a {
			seedErr = errors.New("hraft: math/rand cannot be reseeded, so raft's timeouts would not replay: add `godebug randseednop=0` to your go.mod")
		}
	})
	return seedErr
}

var (
	runMu     sync.Mutex
	running   int
	savedGC   int
	savedProc int
	runsSince int
)

// gcEvery is how many runs go by between two forced collections.
const gcEvery = 16

// enterRun turns the collector off and pins the scheduler to one P while a
// cluster is open: both reorder goroutines between runs of the same schedule.
// exitRun puts both back when the last cluster closes.
func enterRun() {
	runMu.Lock()
	defer runMu.Unlock()
	// Collect between runs, never during one: every cluster is quiescent
	// while another is being opened.
	runsSince++
	if runsSince >= gcEvery {
		runsSince = 0
		runtime.GC()
	}
	if running == 0 {
		savedProc = runtime.GOMAXPROCS(0)
		if savedProc != 1 {
			runtime.GOMAXPROCS(1)
		}
		savedGC = debug.SetGCPercent(-1)
	}
	running++
}

func exitRun() {
	runMu.Lock()
	defer runMu.Unlock()
	running--
	if running == 0 {
		debug.SetGCPercent(savedGC)
		if savedProc != 1 {
			runtime.GOMAXPROCS(savedProc)
		}
	}
}

// bubbleOf names the synctest bubble of the calling goroutine as goroutine
// dumps do ("synctest bubble 3"), "" outside a bubble.
func bubbleOf() string {
	buf := make([]byte, 256)
	header, _, _ := strings.Cut(string(buf[:runtime.Stack(buf, false)]), "\n")
	_, after, ok := strings.Cut(header, "synctest bubble ")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(after, "]")
	id, _, _ = strings.Cut(id, ",")
	return "synctest bubble " + id
}

// blockedIn says blockedFrames' frames as the error of a bubble that
// deadlocked does ("" when none were found).
func blockedIn(frames []string) string {
	if len(frames) == 0 {
		return ""
	}
	return "; blocked in it: " + strings.Join(frames, ", ")
}

// blockedFrames lists the goroutines of a bubble that remain blocked, each by
// the first function of its stack outside the runtime and its state: first
// those outside hashicorp/raft (a state machine's, a store's), then raft's,
// up to maxFrames of them ("..." after). The adapter's frames are passed
// over (a goroutine of raft waiting in the transport is named by raft's
// frame that called it); its own goroutines (the agent and its worker) have
// none other and are left out.
func blockedFrames(bubble string) []string {
	if bubble == "" {
		return nil
	}
	dump := allStacks()
	var own, raft []string
	for _, g := range strings.Split(dump, "\n\n") {
		lines := strings.Split(g, "\n")
		if !strings.Contains(lines[0], bubble+"]") && !strings.Contains(lines[0], bubble+",") {
			continue
		}
		state := lines[0]
		if i, j := strings.Index(state, "["), strings.Index(state, ", synctest"); i >= 0 && j > i {
			state = state[i+1 : j]
		}
		for _, l := range lines[1:] {
			if l == "" || strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "runtime.") || strings.HasPrefix(l, "internal/") ||
				strings.HasPrefix(l, "sync.") || strings.HasPrefix(l, "time.") || strings.HasPrefix(l, "testing.") || strings.HasPrefix(l, "testing/") {
				continue
			}
			if strings.HasPrefix(l, "created by ") {
				break
			}
			if strings.HasPrefix(l, adapterPrefix) {
				continue // the adapter's machinery: its caller is what matters
			}
			if i := strings.LastIndex(l, "("); i > 0 {
				l = l[:i]
			}
			if strings.HasPrefix(l, "github.com/hashicorp/raft.") {
				raft = append(raft, l+" ["+state+"]")
			} else {
				own = append(own, l+" ["+state+"]")
			}
			break
		}
	}
	blocked := append(own, raft...)
	if len(blocked) > maxFrames {
		blocked = append(blocked[:maxFrames], "...")
	}
	return blocked
}

// allStacks dumps every goroutine's stack, however many there are (nodes
// stuck earlier in the process leave theirs).
func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		if n := runtime.Stack(buf, true); n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// adapterPrefix starts the frames of this package's own goroutines.
const adapterPrefix = "github.com/faultline-dev/faultline/interpose/hraft."

// maxFrames bounds the goroutines a stuck node's violation lists.
const maxFrames = 8

// stuckWhere names where a stuck node is blocked, for a fingerprint: the
// functions (without their state) of the blocked goroutines outside
// hashicorp/raft and this adapter, by their package's last element
// ("mysvc.(*Bank).Apply"), sorted and each once; raft's when there are none;
// "unknown" when nothing was found.
func stuckWhere(blocked []string) string {
	var own, all []string
	for _, b := range blocked {
		f, _, _ := strings.Cut(b, " [")
		if f == "..." {
			continue
		}
		all = append(all, f)
		if !strings.HasPrefix(f, "github.com/hashicorp/raft.") && !strings.HasPrefix(f, adapterPrefix) {
			own = append(own, f)
		}
	}
	if len(own) == 0 {
		own = all
	}
	if len(own) == 0 {
		return "unknown"
	}
	for i, f := range own {
		own[i] = f[strings.LastIndex(f, "/")+1:] // "mysvc.(*Bank).Apply"
	}
	slices.Sort(own)
	return strings.Join(slices.Compact(own), ", ")
}
