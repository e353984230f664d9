package baseline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/internal/cputime"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// Timers are a cluster's raft timeouts on the real clock.
type Timers struct {
	Name                                     string
	Heartbeat, Election, LeaderLease, Commit time.Duration
}

// The timer settings a Go engineer would pick: raft's own test settings
// (its inmemConfig), and raft's defaults divided by ten.
var (
	RaftTest     = Timers{Name: "raft's test settings", Heartbeat: 50 * time.Millisecond, Election: 50 * time.Millisecond, LeaderLease: 50 * time.Millisecond, Commit: 5 * time.Millisecond}
	DefaultsBy10 = Timers{Name: "raft's defaults ÷ 10", Heartbeat: 100 * time.Millisecond, Election: 100 * time.Millisecond, LeaderLease: 50 * time.Millisecond, Commit: 5 * time.Millisecond}
)

// Options configure Run. The zero value runs one 3-node cluster with
// raft's test settings, an action every 10–50 ms, for at most a minute.
type Options struct {
	Nodes  int    // cluster size (0: 3)
	Timers Timers // zero: RaftTest
	// MinInterval and MaxInterval bound the pause between two chaos
	// actions (0: 10 and 50 ms).
	MinInterval, MaxInterval time.Duration
	// Time bounds the run (0: one minute).
	Time time.Duration
	// Clusters run side by side, each with its own chaos loop seeded
	// Seed, Seed+1, ...; the first violation of any ends them all (0: 1).
	Clusters int
	Seed     uint64
	// Invariant is what the run looks for (zero: ElectionSafety): one of
	// Invariants. The run ends at its first violation; the others'
	// detectors stay quiet.
	Invariant string
}

// Result is what a run found.
type Result struct {
	Found     bool
	Invariant string // Options.Invariant
	Detail    string
	// Wall and CPU are the time to the violation (to the end of the run
	// when none was found): wall-clock time, and the process's user and
	// system CPU time over the same span.
	Wall, CPU time.Duration
	// Actions is how many chaos actions the clusters took.
	Actions int
	// Panics are the restarts whose raft.NewRaft panicked (hashicorp/raft
	// #85: a restart over a log with a gap); the node then stays down and
	// the run goes on without it.
	Panics []string
	// Refused are the restarts raft.NewRaft refused with an error (a log
	// store that lost what it had acknowledged can leave it none to start
	// from); the node then stays down too.
	Refused []string
	// Crashed, set by a caller that ran the baseline in a process of its
	// own (campaign.Workers.Baseline), is the panic that ended that
	// process: raft panicking in one of its own goroutines, which no test
	// can recover from.
	Crashed string `json:",omitempty"`
}

// The invariants the baseline checks, one per run, as a Go engineer's
// test would: two leaders of one term, seen in raft's leadership
// observations; two nodes' state machines applying different commands at
// one index, seen by wrapping each node's FSM; a restart whose
// raft.NewRaft panics (hashicorp/raft#85 and any store that leaves raft
// an inconsistent log), caught by the restart itself; a restart raft
// refuses with an error (a store whose last index names an entry it lost).
// A panic in raft's own goroutines kills the test process, and is not
// among them. Each has the name of faultline's invariant for the same.
const (
	ElectionSafety     = "ElectionSafety"
	StateMachineSafety = "StateMachineSafety"
	NoPanic            = "NoPanic"
	NodeStarts         = "NodeStarts"
)

// Invariants lists them.
var Invariants = []string{ElectionSafety, StateMachineSafety, NoPanic, NodeStarts}

// CheckInvariant refuses a name that is not one of Invariants.
func CheckInvariant(inv string) error {
	if !slices.Contains(Invariants, inv) {
		return fmt.Errorf("invariant %q: the baseline checks %s", inv, strings.Join(Invariants, ", "))
	}
	return nil
}

// Run runs the baseline on a cluster built from opts until the first
// violation, o.Time or ctx's end.
func Run(ctx context.Context, opts hraft.Options, o Options) (Result, error) {
	if o.Nodes <= 0 {
		o.Nodes = 3
		if opts.Nodes > 0 {
			o.Nodes = opts.Nodes
		}
	}
	if o.Timers == (Timers{}) {
		o.Timers = RaftTest
	}
	if o.MinInterval <= 0 {
		o.MinInterval = 10 * time.Millisecond
	}
	if o.MaxInterval < o.MinInterval {
		o.MaxInterval = max(50*time.Millisecond, o.MinInterval)
	}
	if o.Time <= 0 {
		o.Time = time.Minute
	}
	if o.Clusters <= 0 {
		o.Clusters = 1
	}
	if o.Invariant == "" {
		o.Invariant = ElectionSafety
	}
	if err := CheckInvariant(o.Invariant); err != nil {
		return Result{}, fmt.Errorf("baseline: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Time)
	defer cancel()
	found := make(chan string, o.Clusters)
	cpu0 := CPUTime()
	start := time.Now()
	clusters := make([]*cluster, o.Clusters)
	for i := range clusters {
		c, err := newCluster(opts, o, o.Seed+uint64(i), found)
		if err != nil {
			for _, c := range clusters[:i] {
				c.close()
			}
			return Result{}, err
		}
		clusters[i] = c
	}
	var wg sync.WaitGroup
	for _, c := range clusters {
		wg.Go(func() { c.chaos(ctx) })
	}
	res := Result{}
	select {
	case detail := <-found:
		res = Result{Found: true, Invariant: o.Invariant, Detail: detail}
	case <-ctx.Done():
	}
	res.Wall, res.CPU = time.Since(start), CPUTime()-cpu0
	cancel()
	wg.Wait()
	var errs []error
	for _, c := range clusters {
		res.Actions += c.actions
		res.Panics = append(res.Panics, c.panics...)
		res.Refused = append(res.Refused, c.refused...)
		errs = append(errs, c.close())
	}
	return res, errors.Join(errs...)
}

// CPUTime is the user and system CPU time so far of the process and of
// its children that have ended (a faultline worker process, once waited
// for).
func CPUTime() time.Duration { return cputime.WithChildren() }

// cluster is one cluster of the baseline and its chaos loop.
type cluster struct {
	opts    hraft.Options
	o       Options
	rng     *rand.Rand
	nodes   []*node
	cut     int // the node partitioned away, 0 for none
	found   chan<- string
	actions int
	writes  int
	panics  []string
	refused []string

	mu      sync.Mutex
	leaders map[uint64]raft.ServerID // leader of each term, as observed
	applied map[uint64]appliedEntry  // what a state machine applied at each index
	done    bool
}

// appliedEntry is the first command a node's state machine applied at an
// index.
type appliedEntry struct {
	node int
	term uint64
	data string
}

// node is a member: its stores survive its restarts.
type node struct {
	id       int
	addr     raft.ServerAddress
	logs     raft.LogStore
	stable   raft.StableStore
	snaps    raft.SnapshotStore
	trans    *raft.InmemTransport
	r        *raft.Raft
	obs      *raft.Observer
	dead     bool // its restart panicked: down for good
	stop     chan struct{}
	watching sync.WaitGroup
}

func newCluster(opts hraft.Options, o Options, seed uint64, found chan<- string) (*cluster, error) {
	c := &cluster{opts: opts, o: o, rng: rand.New(rand.NewPCG(seed, 0x6261736531696e65)), found: found,
		leaders: map[uint64]raft.ServerID{}, applied: map[uint64]appliedEntry{}}
	var servers []raft.Server
	for id := 1; id <= o.Nodes; id++ {
		n := &node{id: id, addr: raft.ServerAddress("n" + strconv.Itoa(id))}
		var err error
		if n.logs, n.stable, n.snaps, err = stores(opts, id); err != nil {
			return nil, err
		}
		servers = append(servers, raft.Server{ID: raft.ServerID(n.addr), Address: n.addr})
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		if err := raft.BootstrapCluster(c.config(n.id), n.logs, n.stable, n.snaps, transport(n.addr), raft.Configuration{Servers: servers}); err != nil {
			return nil, fmt.Errorf("baseline: bootstrap n%d: %w", n.id, err)
		}
	}
	for _, n := range c.nodes {
		if err := c.start(n); err != nil {
			c.close()
			return nil, err
		}
	}
	c.connect()
	return c, nil
}

func transport(addr raft.ServerAddress) *raft.InmemTransport {
	_, t := raft.NewInmemTransport(addr)
	return t
}

// stores makes a node's durable stores as the target does.
func stores(opts hraft.Options, id int) (raft.LogStore, raft.StableStore, raft.SnapshotStore, error) {
	var logs raft.LogStore = raft.NewInmemStore()
	var stable raft.StableStore = raft.NewInmemStore()
	var snaps raft.SnapshotStore = raft.NewInmemSnapshotStore()
	var err error
	if opts.NewLogStore != nil {
		if logs, err = opts.NewLogStore(id); err != nil {
			return nil, nil, nil, fmt.Errorf("baseline: n%d's log store: %w", id, err)
		}
	}
	if opts.NewStableStore != nil {
		if stable, err = opts.NewStableStore(id); err != nil {
			return nil, nil, nil, fmt.Errorf("baseline: n%d's stable store: %w", id, err)
		}
	}
	if opts.NewSnapshotStore != nil {
		if snaps, err = opts.NewSnapshotStore(id); err != nil {
			return nil, nil, nil, fmt.Errorf("baseline: n%d's snapshot store: %w", id, err)
		}
	}
	return logs, stable, snaps, nil
}

// config is faultline's configuration of the node with the baseline's timers.
func (c *cluster) config(id int) *raft.Config {
	conf := hraft.DefaultConfig(id)
	if c.opts.Config != nil {
		c.opts.Config(id, conf)
	}
	// Snapshots as often, in election timeouts, as faultline's nodes take
	// them on their fake clocks.
	t := c.o.Timers
	conf.SnapshotInterval = time.Duration(float64(t.Election) * float64(conf.SnapshotInterval) / float64(conf.ElectionTimeout))
	conf.HeartbeatTimeout, conf.ElectionTimeout, conf.LeaderLeaseTimeout, conf.CommitTimeout = t.Heartbeat, t.Election, t.LeaderLease, t.Commit
	return conf
}

// start starts a node's raft over its stores, with a new transport (raft
// closes its transport when it shuts down) and a watcher of its
// leadership.
func (c *cluster) start(n *node) (err error) {
	n.trans = transport(n.addr)
	fsm := raft.FSM(hraft.NewKV())
	if c.opts.NewFSM != nil {
		fsm = c.opts.NewFSM(n.id)
	}
	fsm = recording(fsm, func(l *raft.Log) { c.apply(n, l) })
	defer func() {
		if p := recover(); p != nil {
			n.dead = true
			detail := fmt.Sprintf("n%d: raft.NewRaft panicked: %v", n.id, p)
			c.panics = append(c.panics, detail)
			c.report(NoPanic, detail)
			err = nil
		}
	}()
	r, err := raft.NewRaft(c.config(n.id), fsm, n.logs, n.stable, n.snaps, n.trans)
	if err != nil {
		return fmt.Errorf("baseline: start n%d: %w", n.id, err)
	}
	n.r, n.stop = r, make(chan struct{})
	ch := make(chan raft.Observation)
	n.obs = raft.NewObserver(ch, true, func(o *raft.Observation) bool { return o.Data == raft.Leader })
	r.RegisterObserver(n.obs)
	n.watching.Go(func() {
		for {
			select {
			case <-ch:
				// raft waits in its observe until this is read (a
				// blocking observer): its term is the one it leads,
				// which it stored before taking it (the stable store
				// rather than Raft.CurrentTerm, which releases before
				// v1.7.2 lack).
				term, err := n.stable.GetUint64(keyCurrentTerm)
				if err == nil {
					c.leader(n, term)
				}
			case <-n.stop:
				return
			}
		}
	})
	return nil
}

// keyCurrentTerm is the stable store's key of raft's current term.
var keyCurrentTerm = []byte("CurrentTerm")

// leader records that n leads term, and reports a second leader of a term.
func (c *cluster) leader(n *node, term uint64) {
	id := raft.ServerID(n.addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, ok := c.leaders[term]
	if !ok {
		c.leaders[term] = id
		return
	}
	if prev != id {
		c.reportLocked(ElectionSafety, fmt.Sprintf("%s and %s both lead term %d", prev, id, term))
	}
}

// apply records that n's state machine applied l, and reports another
// command applied at its index before.
func (c *cluster) apply(n *node, l *raft.Log) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, ok := c.applied[l.Index]
	if !ok {
		c.applied[l.Index] = appliedEntry{node: n.id, term: l.Term, data: string(l.Data)}
		return
	}
	if prev.term != l.Term || prev.data != string(l.Data) {
		c.reportLocked(StateMachineSafety, fmt.Sprintf("n%d applied %q (term %d) at index %d; n%d applied %q (term %d)",
			prev.node, prev.data, prev.term, l.Index, n.id, l.Data, l.Term))
	}
}

// report ends the run with a violation of inv, if inv is what it looks for.
func (c *cluster) report(inv, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reportLocked(inv, detail)
}

func (c *cluster) reportLocked(inv, detail string) {
	if inv == c.o.Invariant && !c.done {
		c.done = true
		c.found <- detail
	}
}

// recording wraps a state machine so that every log it applies is told to
// seen first (a raft.BatchingFSM stays one).
func recording(fsm raft.FSM, seen func(*raft.Log)) raft.FSM {
	r := recorder{FSM: fsm, seen: seen}
	if b, ok := fsm.(batchApplier); ok {
		return batchRecorder{r, b}
	}
	return r
}

// batchApplier is what raft.BatchingFSM adds to an FSM, named here because
// the hashicorp/raft releases faultline bisects over include some without
// that type.
type batchApplier interface {
	ApplyBatch([]*raft.Log) []any
}

type recorder struct {
	raft.FSM
	seen func(*raft.Log)
}

func (r recorder) Apply(l *raft.Log) any {
	r.seen(l)
	return r.FSM.Apply(l)
}

type batchRecorder struct {
	recorder
	b batchApplier
}

func (r batchRecorder) ApplyBatch(logs []*raft.Log) []any {
	for _, l := range logs {
		r.seen(l)
	}
	return r.b.ApplyBatch(logs)
}

// connect wires every pair of nodes but the one cut off.
func (c *cluster) connect() {
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			switch {
			case a == b:
			case c.cut == a.id || c.cut == b.id || a.dead || b.dead:
				a.trans.Disconnect(b.addr)
			default:
				a.trans.Connect(b.addr, b.trans)
			}
		}
	}
}

// stopNode shuts a node's raft down and stops its watcher; a node stopped
// has no raft until it starts again.
func stopNode(n *node) error {
	err := n.r.Shutdown().Error()
	n.r.DeregisterObserver(n.obs)
	close(n.stop)
	n.watching.Wait()
	n.r = nil
	return err
}

// chaos runs the chaos loop until ctx ends: a restart, a partition or heal,
// or a write, in equal parts.
func (c *cluster) chaos(ctx context.Context) {
	span := int64(c.o.MaxInterval - c.o.MinInterval)
	for {
		pause := c.o.MinInterval
		if span > 0 {
			pause += time.Duration(c.rng.Int64N(span + 1))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		c.actions++
		switch c.rng.IntN(3) {
		case 0:
			n := c.nodes[c.rng.IntN(len(c.nodes))]
			if n.dead {
				continue
			}
			if stopNode(n) != nil {
				return
			}
			for _, s := range []any{n.logs, n.stable, n.snaps} {
				if cr, ok := s.(hraft.Crasher); ok {
					cr.Crash() // what it had not made durable is lost
				}
			}
			if err := c.start(n); err != nil {
				// raft refused to start over the stores: the test
				// would fail here; the node stays down.
				n.dead = true
				c.refused = append(c.refused, err.Error())
				c.report(NodeStarts, err.Error())
			}
			c.connect()
		case 1:
			if c.cut == 0 {
				c.cut = 1 + c.rng.IntN(len(c.nodes))
			} else {
				c.cut = 0
			}
			c.connect()
		default:
			c.writes++
			for _, n := range c.nodes {
				if !n.dead && n.r.State() == raft.Leader {
					n.r.Apply([]byte("k"+strconv.Itoa(c.rng.IntN(4))+"="+strconv.Itoa(c.writes)), c.o.Timers.Election)
					break
				}
			}
		}
	}
}

// close shuts every node down.
func (c *cluster) close() error {
	var errs []error
	for _, n := range c.nodes {
		if n.r != nil && !n.dead {
			if err := stopNode(n); err != nil && !errors.Is(err, raft.ErrRaftShutdown) {
				errs = append(errs, fmt.Errorf("baseline: n%d: %w", n.id, err))
			}
		}
	}
	return errors.Join(errs...)
}
