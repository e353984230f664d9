package hraft

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

var nullLogger = hclog.NewNullLogger()

// addresses matches pointers that raft prints in some errors ("cannot find
// replication state for 0xc000123456"); a result must not change between two
// replays of one schedule.
var addresses = regexp.MustCompile(`0x[0-9a-f]{6,}`)

// Cluster is a hashicorp/raft cluster under control. It implements
// interpose.System. Each node runs in a testing/synctest bubble of its own,
// with its own fake clock, driven by an agent goroutine inside the bubble; the
// Cluster (the controller's side) sits outside every bubble and talks to the
// agents over channels made outside them. While an agent waits for a command,
// its node's clock is frozen.
type Cluster struct {
	t     *testing.T
	spec  interpose.TargetSpec
	opts  Options
	nodes []*node

	// mu guards what bubble goroutines write: the network and the
	// observations. The controller never holds it while a node runs.
	mu      sync.Mutex
	pending []*message // in arrival order
	seq     uint64
	obs     interpose.View // observations since the last View
	claimed map[[2]uint64]bool

	stats Stats

	out   interpose.View        // what View returned last
	facts []interpose.RaftState // per node, what out.Nodes point to
	net   interpose.Network
	occ   map[string]int // occurrences of each event, for reseeding
	// reseedAll reseeds before every event: a spec without
	// Config["reseed"] (recorded before ReseedSparse).
	reseedAll bool
	pendBuf   []interpose.Message
	closed    bool

	applied    int        // events applied, for gcEvents
	unanswered []*message // requests a crash reset (reset), for resets
	watch      watchdog
	applying   applying // the event being applied, for a stuck node's violation
	// applyingIndex is that event's index, read by the goroutines that
	// complete client operations (under mu): the clock of the history.
	applyingIndex int

	// The history of the service's own operations, for its Model (under
	// mu): each in order of invocation, with its completion when it came.
	history []interpose.ClientOp
	opAt    map[int]int // event → its place in history
}

// gcEvents is how many events go by between two collections within a run.
const gcEvents = 4096

// applying is the event a cluster is applying.
type applying struct {
	kind interpose.Kind
	node int
	m    *message
}

// String describes it: "crash n2", "deliver AppendEntries n1->n2 ...".
func (a applying) String() string {
	if a.m != nil {
		return string(a.kind) + " " + a.m.fp.String()
	}
	if a.node > 0 {
		return string(a.kind) + " n" + strconv.Itoa(a.node)
	}
	return string(a.kind)
}

var _ interpose.System = (*Cluster)(nil)

// Open builds a cluster of spec.Nodes nodes, none started, under the test t.
// Every node's goroutines run in a testing/synctest bubble; Close releases them.
//
// Open makes the process deterministic enough to replay: it sets GOMAXPROCS
// to 1 and turns the garbage collector off until the last open cluster is
// closed, and it reseeds math/rand before every event. The module that builds
// the binary must say `godebug randseednop=0` in its go.mod, or math/rand
// cannot be reseeded; Open returns an error saying so.
//
// A spec whose Config["heartbeat_fast_path"] is "false" runs with
// Options.SerialHeartbeats whatever opts say: a schedule recorded on the fast
// path can then be replayed without it, which is how fuzz.Upstream tells
// hashicorp/raft#695 (a race of the fast path) from a bug of the service.
// Targets record the value their options give, so replaying a schedule on
// its own target changes nothing.
func Open(t *testing.T, spec interpose.TargetSpec, opts Options) (*Cluster, error) {
	if err := checkSeedable(); err != nil {
		return nil, err
	}
	if spec.Config["heartbeat_fast_path"] == "false" {
		opts.SerialHeartbeats = true
	}
	// The schedule says how calls to a node that is not running went.
	opts.FailCallsToDown = spec.Config["calls_to_down"] == "fail"
	if spec.Nodes < 1 {
		return nil, fmt.Errorf("hraft: %d nodes; need at least 1", spec.Nodes)
	}
	if opts.Model != nil {
		if err := opts.Model.Valid(); err != nil {
			return nil, fmt.Errorf("hraft: %w", err)
		}
	}
	c := &Cluster{
		t:         t,
		spec:      spec,
		opts:      opts,
		claimed:   map[[2]uint64]bool{},
		opAt:      map[int]int{},
		occ:       map[string]int{},
		reseedAll: spec.Config["reseed"] != ReseedSparse,
		stats:     Stats{Delivered: map[string]int{}},
	}
	c.watch.init(opts.Watchdog)
	enterRun()
	for i := 1; i <= spec.Nodes; i++ {
		n, err := c.newNode(i)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		n.launch()
	}
	return c, nil
}

// Nodes implements interpose.System.
func (c *Cluster) Nodes() int { return len(c.nodes) }

func (c *Cluster) node(i int) *node {
	if i < 1 || i > len(c.nodes) {
		return nil
	}
	return c.nodes[i-1]
}

// Stats counts what the network carried, so a test or a campaign can tell
// which paths of raft it exercised.
type Stats struct {
	// Delivered counts delivered messages by fingerprint type.
	Delivered map[string]int
	// FastPath counts heartbeats handed to raft's heartbeat handler; the
	// others went through Consumer().
	FastPath int
}

// Stats returns the counts so far. Read it between events.
func (c *Cluster) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Delivered = maps.Clone(s.Delivered)
	return s
}

// State implements interpose.System.
func (c *Cluster) State(i int) interpose.NodeState {
	n := c.node(i)
	switch {
	case n == nil || !n.started:
		return interpose.NotStarted
	case n.up:
		return interpose.Up
	}
	return interpose.Down
}

// FSM returns the state machine of node i's current incarnation, or nil when
// the node is down. Read it only between events.
func (c *Cluster) FSM(i int) raft.FSM {
	n := c.node(i)
	if n == nil || !n.up {
		return nil
	}
	return n.userFSM
}

// Raft returns node i's current raft instance, or nil before its first start.
// Only its read-only accessors (State, CurrentTerm, LastIndex, ...) may be
// called from outside the node's bubble.
func (c *Cluster) Raft(i int) *raft.Raft {
	n := c.node(i)
	if n == nil {
		return nil
	}
	return n.raft.Load()
}

// Pending implements interpose.System.
func (c *Cluster) Pending() []interpose.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pendBuf = c.pendBuf[:0]
	for _, m := range c.pending {
		c.pendBuf = append(c.pendBuf, interpose.Message{Seq: m.seq, Msg: m.fp, Request: m.request, Deliverable: c.deliverable(m)})
	}
	slices.SortFunc(c.pendBuf, func(a, b interpose.Message) int { return interpose.CompareMessages(&a, &b) })
	return c.pendBuf
}

// deliverable reports whether m can be delivered now. c.mu is held.
func (c *Cluster) deliverable(m *message) bool {
	dst := c.nodes[m.to-1]
	if !dst.up {
		return false
	}
	return c.net.Passes(m.from, m.to)
}

// resolve returns the message a deliver, drop or duplicate event acts on:
// the oldest pending message that matches it (and is deliverable, for a
// delivery; is a request, for a duplicate), or nil.
func (c *Cluster) resolve(ev interpose.Event) *message {
	switch ev.Kind {
	case interpose.Deliver, interpose.Drop, interpose.Duplicate:
	default:
		return nil
	}
	if ev.Msg == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.pending {
		if !ev.Msg.Matches(m.fp) {
			continue
		}
		switch {
		case ev.Kind == interpose.Deliver && c.deliverable(m),
			ev.Kind == interpose.Drop,
			ev.Kind == interpose.Duplicate && m.request:
			return m
		}
	}
	return nil
}

// remove takes m out of the network.
func (c *Cluster) remove(m *message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.pending, m); i >= 0 {
		c.pending = slices.Delete(c.pending, i, i+1)
	}
}

func (c *Cluster) postRequest(from, to int, req any, data []byte, w chan reply, inc int) {
	req = cloneRequest(req)
	typ, key, hb := requestPrint(req)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.pending = append(c.pending, &message{
		seq: c.seq, fp: interpose.Msg{Type: typ, From: from, To: to, Key: key}, request: true,
		from: from, to: to, req: req, data: data, heartbeat: hb, waiter: w, inc: inc, waitNode: from,
	})
	if term, ok := leaderClaim(req); ok {
		k := [2]uint64{uint64(from), term}
		if !c.claimed[k] {
			c.claimed[k] = true
			c.obs.Claims = append(c.obs.Claims, interpose.Claim{Node: from, Term: term})
		}
	}
}

// postResponse turns raft's answer to req into a pending response, unless
// nobody waits for it (a duplicate, or a caller that crashed since).
func (c *Cluster) postResponse(req *message, resp raft.RPCResponse) {
	caller := c.nodes[req.from-1]
	if req.waiter == nil || !caller.up || caller.inc != req.inc {
		return
	}
	typ, key := responsePrint(req.fp.Type, resp)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.pending = append(c.pending, &message{
		seq: c.seq, fp: interpose.Msg{Type: typ, From: req.to, To: req.from, Key: key},
		from: req.to, to: req.from, resp: resp, waiter: req.waiter, inc: req.inc, waitNode: req.from,
	})
}

// purge forgets what a crashed node was waiting for: responses addressed to
// it are discarded, and its requests still in the network lose their caller.
// reset records a request whose callee crashed (its transport closed)
// before answering: its caller gets an error, as a connection reset would
// give it, once the crash is done (resets). Without it, a caller whose
// request was delivered to a node that then crashed (a handler asleep on a
// slow disk) would wait for ever. Called in the callee's bubble.
func (c *Cluster) reset(m *message) {
	if m.waiter == nil {
		return
	}
	c.mu.Lock()
	c.unanswered = append(c.unanswered, m)
	c.mu.Unlock()
}

// resets gives each caller of a request reset by a crash its error, in the
// caller's bubble, if the caller is still the incarnation that asked, and
// returns what that changed in the callers' states.
func (c *Cluster) resets() string {
	c.mu.Lock()
	ms := c.unanswered
	c.unanswered = nil
	c.mu.Unlock()
	res := ""
	for _, m := range ms {
		if w := c.nodes[m.waitNode-1]; w.up && w.inc == m.inc && !w.stuck {
			res = join(res, c.via(w, func() { m.waiter <- reply{err: errReset} }))
		}
	}
	return res
}

// failCallsTo fails, under Options.FailCallsToDown, every request in the
// network to n, which is not running (it just crashed, or is about to
// start): its caller, if it still waits, gets the error of a reset
// connection, as raft's transports would give it. It returns what changed
// in the callers' states, for the event's result.
func (c *Cluster) failCallsTo(n *node) string {
	if !c.opts.FailCallsToDown {
		return ""
	}
	c.mu.Lock()
	keep := c.pending[:0]
	for _, m := range c.pending {
		if m.request && m.to == n.id {
			if m.waiter != nil {
				c.unanswered = append(c.unanswered, m)
			}
			continue
		}
		keep = append(keep, m)
	}
	clear(c.pending[len(keep):])
	c.pending = keep
	c.mu.Unlock()
	return c.resets()
}

func (c *Cluster) purge(n *node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := c.pending[:0]
	for _, m := range c.pending {
		if !m.request && m.waitNode == n.id {
			continue
		}
		if m.request && m.from == n.id {
			m.waiter = nil
		}
		keep = append(keep, m)
	}
	clear(c.pending[len(keep):])
	c.pending = keep
}

func (c *Cluster) observeLog(ops ...interpose.LogOp) {
	c.mu.Lock()
	c.obs.LogOps = append(c.obs.LogOps, ops...)
	c.mu.Unlock()
}

// clientOp reads the payload of the client event at index as an operation
// of the run's history (interpose.ClientOp, pending): every command when
// the target has a Model (Options.Model: the command, its key and whether
// it is a read, by the model), else the built-in KV's operations when the
// cluster runs that KV (Options.NewFSM nil).
func (c *Cluster) clientOp(index int, n *node, data string) (interpose.ClientOp, bool) {
	at := index + 1 // events are numbered from 1, as show and reports number them
	if m := c.opts.Model; m != nil {
		op := interpose.ClientOp{Event: at, Node: n.id, Op: data, Write: true, Call: at, Return: at, Pending: true}
		if m.Key != nil {
			op.Key = m.Key(data)
		}
		if m.Read != nil && m.Read(data) {
			op.Write = false
		}
		return op, true
	}
	if c.opts.NewFSM != nil {
		return interpose.ClientOp{}, false
	}
	key, value, write, ok := kvOp(data)
	return interpose.ClientOp{Event: at, Node: n.id, Key: key, Value: value, Write: write, Call: at, Return: at,
		Pending: true}, ok
}

// localReads reports whether a read of the history (op, a read) is served
// from the node's own state machine, by a read mode of the target's
// (Options.StaleReads, VerifyReads, BarrierReads, ReadIndex): always for
// the built-in KV, for a service's own reads when it says how to read
// them (Options.LocalRead).
func (c *Cluster) localReads(op interpose.ClientOp) bool {
	if op.Write || op.Op != "" && c.opts.LocalRead == nil {
		return false
	}
	return c.opts.StaleReads || c.opts.VerifyReads || c.opts.BarrierReads || c.opts.ReadIndex
}

// readLocal answers read op from state machine fsm (a node's, taken when
// the read was issued): the built-in KV's value of the key, or a service's
// own LocalRead.
func (c *Cluster) readLocal(fsm raft.FSM, op interpose.ClientOp) string {
	if op.Op != "" {
		return c.opts.LocalRead(fsm, op.Op)
	}
	kv, _ := fsm.(*KV)
	if kv == nil {
		return ""
	}
	v, _ := kv.Get(op.Key)
	return v
}

// staleRead serves a read from node n's own state machine, with no check
// (Options.StaleReads): at once, whatever n has applied.
func (c *Cluster) staleRead(n *node, op interpose.ClientOp) string {
	op.Value, op.Pending = c.readLocal(n.userFSM, op), false
	c.observeOp(op)
	return fmt.Sprintf("%q (local, unchecked)", op.Value)
}

// leaderRead serves a read from node n's own state machine after the check
// the target's option asks for: VerifyLeader (Options.VerifyReads), a
// Barrier (Options.BarrierReads), or the read index (Options.ReadIndex): a
// Barrier once per term of n's leadership, then VerifyLeader for each read.
// The read takes effect at the event that resolves the check; an error
// answers the client with no value.
func (c *Cluster) leaderRead(n *node, index int, op interpose.ClientOp) string {
	c.observeOp(op)
	fsm := n.userFSM // this incarnation's: a recovery makes another
	return c.async(n, index, func(r *raft.Raft) string {
		how, err := "verified leader", error(nil)
		switch {
		case c.opts.BarrierReads:
			how, err = "barrier", r.Barrier(0).Error()
		case c.opts.ReadIndex:
			how, err = "read index", n.readIndex(r)
		default:
			err = r.VerifyLeader().Error()
		}
		if !n.answers() {
			return unanswered(err, how)
		}
		if err != nil {
			op.Failed = true // the client got an error, no value
			c.observeOp(op)
			return err.Error()
		}
		op.Value = c.readLocal(fsm, op)
		op.Pending, op.Return = false, c.now()
		c.observeOp(op)
		return fmt.Sprintf("%q (%s, local)", op.Value, how)
	})
}

// readIndex makes n's state machine safe to read, as hashicorp/raft's
// maintainers describe the Raft thesis's read index (6.4) for this
// library (hashicorp/raft#603): a leader first commits and applies an
// entry of its own term (a Barrier, once per term: it then has applied
// everything committed before its term), then confirms for each read that
// it still leads (VerifyLeader). A term that changed under the check fails
// the read.
func (n *node) readIndex(r *raft.Raft) error {
	term := n.currentTerm(r)
	if m := n.readReady.Load(); m == nil || m.r != r || m.term != term {
		if err := r.Barrier(0).Error(); err != nil {
			return err
		}
		n.readReady.Store(&readMark{r: r, term: term})
	}
	if err := r.VerifyLeader().Error(); err != nil {
		return err
	}
	if t := n.currentTerm(r); t != term {
		return fmt.Errorf("term changed from %d to %d during the read", term, t)
	}
	return nil
}

// readMark is the raft instance and term in which a node's Barrier made its
// state machine current (node.readIndex).
type readMark struct {
	r    *raft.Raft
	term uint64
}

// now is the number of the event being applied (from 1): the clock of a
// history.
func (c *Cluster) now() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applyingIndex + 1
}

func (c *Cluster) observeOp(o interpose.ClientOp) {
	c.mu.Lock()
	c.obs.Ops = append(c.obs.Ops, o)
	if o.Op != "" {
		if i, ok := c.opAt[o.Event]; ok {
			c.history[i] = o // its completion
		} else {
			c.opAt[o.Event] = len(c.history)
			c.history = append(c.history, o)
		}
	}
	c.mu.Unlock()
}

// answer is a state machine's response as a history records it: fmt.Sprint
// of it, "" for nil.
func answer(resp any) string {
	if resp == nil {
		return ""
	}
	return fmt.Sprint(resp)
}

// Final implements interpose.SystemFinalizer: with a Model
// (Options.Model), the run's history of the service's own operations,
// checked against it (invariants.CheckModel).
func (c *Cluster) Final() []interpose.Violation {
	if c.opts.Model == nil {
		return nil
	}
	c.mu.Lock()
	hist := invariants.HistoryOf(c.history)
	c.mu.Unlock()
	if len(hist) == 0 {
		return nil
	}
	if v := invariants.CheckModel(hist, c.opts.Model, invariants.LinOptions{}).Violation(); v != nil {
		return []interpose.Violation{*v}
	}
	return nil
}

func (c *Cluster) observeAck(a interpose.Ack) {
	c.mu.Lock()
	c.obs.Acked = append(c.obs.Acked, a)
	c.mu.Unlock()
}

func (c *Cluster) observeApplied(a interpose.Applied) {
	c.mu.Lock()
	c.obs.Applied = append(c.obs.Applied, a)
	c.mu.Unlock()
}

func (c *Cluster) observeLoss(what string) {
	c.mu.Lock()
	c.obs.Losses = append(c.obs.Losses, what)
	c.mu.Unlock()
}

func (c *Cluster) observeFault(v interpose.Violation) {
	c.mu.Lock()
	c.obs.Faults = append(c.obs.Faults, v)
	c.mu.Unlock()
}

func (c *Cluster) complete(index int, result string) {
	result = addresses.ReplaceAllString(result, "0x…")
	c.mu.Lock()
	c.obs.Completions = append(c.obs.Completions, interpose.Completion{Index: index, Result: result})
	c.mu.Unlock()
}

// takeCompletion removes and returns the completion of the event at index, if
// it already came.
func (c *Cluster) takeCompletion(index int) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, comp := range c.obs.Completions {
		if comp.Index == index {
			c.obs.Completions = slices.Delete(c.obs.Completions, i, i+1)
			return comp.Result, true
		}
	}
	return "", false
}

func notEnabled(format string, args ...any) error {
	return fmt.Errorf("%w: %s", interpose.ErrNotEnabled, fmt.Sprintf(format, args...))
}

// eventSeed derives the seed math/rand gets before an event from the run's
// seed, the event and how many times that same event happened before: later
// timeouts stay the same when a minimizer removes an unrelated event.
func eventSeed(seed uint64, key string, occ int) int64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(key))
	h.Write([]byte(strconv.Itoa(occ)))
	return int64(h.Sum64() >> 1)
}

// ReseedSparse is the value of a spec's Config["reseed"] under which
// math/rand is reseeded only before the events that draw from it now and
// then (reseeds); a spec without the key (every schedule recorded before
// it) is replayed reseeding before every event, as it was recorded.
const ReseedSparse = "sparse"

// reseeds reports whether math/rand is reseeded before ev under
// ReseedSparse. Reseeding costs about as much as the rest of an event
// together (rand.Seed fills 607 words: about 10 µs); it makes the
// timeouts an event draws a function of the event, so that they stay put
// when a minimizer removes an unrelated event. Measured over 100 runs of
// hraft (30,000 events; `go test -run SparseReseedingCoversTheDraws -v
// ./interpose/hraft` prints the table), these kinds of event drew from
// math/rand in at most 2% of their occurrences, and most in none: a
// duplicate, a partition or its heal (which run no raft code); a client
// write (12 of 1,627), a membership change, a leadership transfer; a
// delivery of Heartbeat (0 of 715), RequestPreVote (49 of 6,820) or
// TimeoutNowResp (0 of 44), and the drop of any message but AppendEntries
// and its answer and InstallSnapshot and its answer (whose sender's
// goroutine fails and sets a timer; a dropped RequestPreVoteResp drew in 3
// of 142). The kinds reseeded draw in 10-100% of theirs (a delivered
// RequestPreVoteResp 14%, AppendEntries 33%, AppendEntriesResp 87%, an
// advance 77%): 62% of all events are reseeded, 32% draw. They are not
// reseeded: when one does draw, it draws on from the last event that was,
// which replays the same.
func reseeds(ev interpose.Event) bool {
	if ev.Msg == nil && (ev.Kind == interpose.Deliver || ev.Kind == interpose.Drop) {
		return true // not a message this cluster has: Apply says so
	}
	switch ev.Kind {
	case interpose.Duplicate, interpose.Partition, interpose.Heal, interpose.Client, interpose.Membership, interpose.Transfer:
		return false
	case interpose.Deliver:
		switch ev.Msg.Type {
		case "Heartbeat", "RequestPreVote", "TimeoutNowResp":
			return false
		}
	case interpose.Drop:
		switch ev.Msg.Type {
		case "AppendEntries", "AppendEntriesResp", "InstallSnapshot", "InstallSnapshotResp":
		default:
			return false
		}
	}
	return true
}

// drawProbe, when set (by a test), is told after every event whether it
// drew from math/rand; every event is then reseeded, so that the next can
// be told too.
var drawProbe func(ev interpose.Event, drew bool)

// Apply implements interpose.System.
func (c *Cluster) Apply(index int, ev interpose.Event) (interpose.Event, error) {
	if c.closed {
		return ev, errors.New("hraft: cluster closed")
	}
	// Name a message event by the message it acts on, so that its seed is
	// the same whether it was recorded exactly or matched by type.
	m := c.resolve(ev)
	if m != nil {
		ev.Msg = interpose.Named(ev.Msg, &m.fp)
	}
	if err := c.stuckOn(ev, m); err != nil {
		return ev, err
	}
	c.applying = applying{ev.Kind, ev.Node, m}
	c.mu.Lock()
	c.applyingIndex = index
	c.mu.Unlock()
	// Whether an event reseeds depends on its kind and message type, both
	// part of its key: the occurrences of a key that never reseeds are
	// never needed, and neither is its key.
	probe := drawProbe
	reseed := c.reseedAll || probe != nil || reseeds(ev)
	var key string
	var seed int64
	if reseed {
		key = ev.Key()
		seed = eventSeed(c.spec.Seed, key, c.occ[key])
		rand.Seed(seed) //nolint:staticcheck // raft's timeouts use the global source
	}
	res, err := c.apply(index, &ev, m)
	if err != nil {
		return ev, err
	}
	if probe != nil {
		// A stream untouched by the event starts where a fresh one does.
		probe(ev, rand.Int63() != rand.New(rand.NewSource(seed)).Int63())
	}
	if c.applied++; c.applied%gcEvents == 0 {
		// The collector is off while a cluster is open; a long run (a
		// stabilization phase of a livelock runs tens of thousands of
		// events) collects here, after an event, when every bubble is
		// quiescent and nothing it does can reorder a goroutine.
		runtime.GC()
	}
	if reseed {
		c.occ[key]++
	}
	ev.Result = res
	return ev, nil
}

// stuckOn refuses an event that would run in a stuck node.
func (c *Cluster) stuckOn(ev interpose.Event, m *message) error {
	id := ev.Node
	if m != nil {
		id = m.to
		if ev.Kind == interpose.Drop {
			id = m.waitNode
		}
	}
	if n := c.node(id); n != nil && n.stuck {
		return notEnabled("n%d is stuck", id)
	}
	return nil
}

// apply carries out ev; m is the message a deliver, drop or duplicate acts
// on (nil when none is pending).
func (c *Cluster) apply(index int, ev *interpose.Event, m *message) (string, error) {
	switch ev.Kind {
	case interpose.Deliver, interpose.Drop, interpose.Duplicate:
		if ev.Msg == nil {
			return "", fmt.Errorf("hraft: %s without a message", ev.Kind)
		}
	case interpose.Partition, interpose.Heal:
	default:
		if c.node(ev.Node) == nil {
			return "", fmt.Errorf("hraft: no node n%d", ev.Node)
		}
	}
	n := c.node(ev.Node)
	switch ev.Kind {
	case interpose.Deliver:
		if m == nil {
			return "", notEnabled("no deliverable %s", ev.Msg)
		}
		c.remove(m)
		dst := c.nodes[m.to-1]
		c.mu.Lock()
		c.stats.Delivered[m.fp.Type]++
		c.mu.Unlock()
		if m.request {
			return c.via(dst, func() { dst.tr.receive(m) }), nil
		}
		return c.via(dst, func() { m.waiter <- reply{resp: m.resp.Response, err: m.resp.Error} }), nil

	case interpose.Drop:
		if m == nil {
			return "", notEnabled("no pending %s", ev.Msg)
		}
		c.remove(m)
		if w := c.nodes[m.waitNode-1]; m.waiter != nil && w.up && w.inc == m.inc {
			return c.via(w, func() { m.waiter <- reply{err: errDropped} }), nil
		}
		return "", nil

	case interpose.Duplicate:
		if m == nil {
			return "", notEnabled("no pending request %s", ev.Msg)
		}
		dup := *m
		dup.req = cloneRequest(m.req)
		dup.waiter = nil // its answer has nobody waiting
		c.mu.Lock()
		c.seq++
		dup.seq = c.seq
		c.pending = append(c.pending, &dup)
		c.mu.Unlock()
		return "", nil

	case interpose.Advance:
		if !n.up {
			return "", notEnabled("n%d is down", n.id)
		}
		var res string
		change := c.via(n, func() { res, ev.Until, ev.UntilN, ev.Took = n.advance(ev.Until, ev.UntilN, ev.Took) })
		return join(res, change), nil

	case interpose.Start:
		if n.started {
			return "", notEnabled("n%d already started", n.id)
		}
		return join(c.failCallsTo(n), c.via(n, n.start)), nil

	case interpose.Crash:
		if !n.up {
			return "", notEnabled("n%d is down", n.id)
		}
		n.do(n.crash)
		c.purge(n)
		c.resets()
		return c.failCallsTo(n), nil

	case interpose.Recover:
		if !n.started || n.up {
			return "", notEnabled("n%d is not down", n.id)
		}
		return join(c.failCallsTo(n), c.via(n, n.recover)), nil

	case interpose.Client:
		if !n.up {
			return "", notEnabled("n%d is down", n.id)
		}
		data := []byte(ev.Data)
		id := n.id
		op, hist := c.clientOp(index, n, ev.Data)
		if hist && c.localReads(op) {
			if c.opts.StaleReads {
				return c.staleRead(n, op), nil
			}
			return c.leaderRead(n, index, op), nil
		}
		if hist {
			c.observeOp(op)
		}
		return c.async(n, index, func(r *raft.Raft) string {
			f := r.Apply(data, 0)
			err := f.Error()
			if !n.answers() {
				// Its answer never reached the client: the op stays
				// pending, and nothing is acknowledged.
				return unanswered(err, fmt.Sprintf("index %d", f.Index()))
			}
			if err != nil {
				if hist {
					// Refused by a node that does not lead: it did not
					// happen. Anything else (leadership lost while it
					// committed, raft shut down) may have: it stays
					// pending.
					op.Failed = errors.Is(err, raft.ErrNotLeader)
					if op.Failed {
						c.observeOp(op)
					}
				}
				return err.Error()
			}
			if hist {
				op.Pending, op.Return, op.Index = false, c.now(), f.Index()
				switch {
				case op.Op != "":
					op.Value = answer(f.Response())
				case !op.Write:
					op.Value, _ = f.Response().(string)
				}
				c.observeOp(op)
			}
			// Committed and applied by the leader: the client is told it
			// succeeded (even when the FSM answers an error, the entry
			// is in the log for good).
			c.observeAck(interpose.Ack{Node: id, Event: index + 1, Index: f.Index(),
				Hash: entryHash(&raft.Log{Type: raft.LogCommand, Data: data})})
			if err, ok := f.Response().(error); ok {
				return fmt.Sprintf("index %d: %v", f.Index(), err)
			}
			if hist && (!op.Write || op.Op != "") {
				return fmt.Sprintf("index %d: %q", f.Index(), op.Value)
			}
			return fmt.Sprintf("index %d", f.Index())
		}), nil

	case interpose.Membership:
		if !n.up {
			return "", notEnabled("n%d is down", n.id)
		}
		id, addr := serverID(ev.Peer), serverAddr(ev.Peer)
		op := ev.Op
		return c.async(n, index, func(r *raft.Raft) string {
			var f raft.IndexFuture
			switch op {
			case interpose.AddVoter:
				f = r.AddVoter(id, addr, 0, 0)
			case interpose.AddNonvoter:
				f = r.AddNonvoter(id, addr, 0, 0)
			case interpose.DemoteVoter:
				f = r.DemoteVoter(id, 0, 0)
			default:
				f = r.RemoveServer(id, 0, 0)
			}
			err := f.Error()
			if !n.answers() {
				return unanswered(err, fmt.Sprintf("index %d", f.Index()))
			}
			if err != nil {
				return err.Error()
			}
			return fmt.Sprintf("index %d", f.Index())
		}), nil

	case interpose.Transfer:
		if !n.up {
			return "", notEnabled("n%d is down", n.id)
		}
		peer := ev.Peer
		return c.async(n, index, func(r *raft.Raft) string {
			var f raft.Future
			if peer == 0 {
				f = r.LeadershipTransfer()
			} else {
				f = r.LeadershipTransferToServer(serverID(peer), serverAddr(peer))
			}
			err := f.Error()
			if !n.answers() {
				return unanswered(err, "done")
			}
			if err != nil {
				return err.Error()
			}
			return "done"
		}), nil

	case interpose.Disk:
		if !n.started {
			return "", notEnabled("n%d never started", n.id)
		}
		if ev.Op == interpose.DiskHeal {
			if !n.disk.faulty() {
				return "", notEnabled("n%d's disk has no fault", n.id)
			}
			return c.via(n, n.disk.heal), nil
		}
		n.disk.apply(*ev)
		return "", nil

	case interpose.Partition:
		c.mu.Lock()
		c.net.Cut(*ev, len(c.nodes))
		c.mu.Unlock()
		return "", nil

	case interpose.Heal:
		c.mu.Lock()
		healed := c.net.Heal()
		c.mu.Unlock()
		if !healed {
			return "", notEnabled("no partition")
		}
		return "", nil
	}
	return "", fmt.Errorf("hraft: unknown event kind %q", ev.Kind)
}

// via runs f in node n's bubble, waits for quiescence and returns what changed
// in n's role or term.
func (c *Cluster) via(n *node, f func()) string {
	var before interpose.RaftState
	wasUp := n.up
	if n.started {
		n.fill(&before)
	}
	n.do(f)
	return c.changes(n, wasUp, before)
}

// async starts op in node n's bubble without waiting for its future, which
// may need deliveries to resolve. Its result is returned when it resolved
// before quiescence, and reported as a Completion otherwise.
func (c *Cluster) async(n *node, index int, op func(r *raft.Raft) string) string {
	r := n.raft.Load()
	change := c.via(n, func() {
		go func() { c.complete(index, op(r)) }()
	})
	res, ok := c.takeCompletion(index)
	if !ok {
		res = "pending"
	}
	return join(res, change)
}

// firstSince returns the fingerprint of the first request node posted after
// arrival number seq, or nil.
func (c *Cluster) firstSince(node int, seq uint64) *interpose.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.pending { // in arrival order
		if m.seq > seq && m.from == node && m.request {
			fp := m.fp
			return &fp
		}
	}
	return nil
}

// lastFrom returns the newest pending request of node that matches fp.
func (c *Cluster) lastFrom(node int, fp *interpose.Msg) *interpose.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last *message
	for _, m := range c.pending {
		if m.from == node && m.request && fp.Matches(m.fp) && (last == nil || m.seq > last.seq) {
			last = m
		}
	}
	if last == nil {
		return nil
	}
	fp2 := last.fp
	return &fp2
}

// countFrom counts the pending requests of node that match fp.
func (c *Cluster) countFrom(node int, fp *interpose.Msg) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.pending {
		if m.from == node && m.request && fp.Matches(m.fp) {
			n++
		}
	}
	return n
}

// join joins two parts of a result with "; ", skipping empty ones.
func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// changes notices a node that stopped itself (raft shuts down a server
// removed from the configuration) and describes a change of its role or
// term, from its views before and after (interpose.Change: "n1
// follower→candidate term 1"). Most events change neither: those are told
// apart on the typed facts, so that nothing is formatted or allocated for
// them.
func (c *Cluster) changes(n *node, wasUp bool, before interpose.RaftState) string {
	if t := n.dead.Load(); t != nil && n.up {
		n.do(n.crash)
		c.purge(n)
		c.resets()
		return "n" + strconv.Itoa(n.id) + " crashed just before its " + t.where + " (torn)"
	}
	if n.up && n.raft.Load().State() == raft.Shutdown {
		n.do(n.stop)
		c.purge(n)
		c.resets()
		return "n" + strconv.Itoa(n.id) + " shut itself down"
	}
	if !n.up {
		return ""
	}
	var after interpose.RaftState
	n.fill(&after)
	if wasUp && before.Role == after.Role && before.Term == after.Term {
		return ""
	}
	b, a := before, after // escape only here
	return interpose.Change(interpose.NodeView{Node: n.id, Started: true, Up: wasUp, Facts: &b},
		interpose.NodeView{Node: n.id, Started: true, Up: true, Facts: &a})
}

// View implements interpose.System. Each node's facts are an
// *interpose.RaftState the cluster keeps and refills at every View.
func (c *Cluster) View() *interpose.View {
	c.mu.Lock()
	c.out.Reset()
	c.out, c.obs = c.obs, c.out
	c.mu.Unlock()
	if len(c.facts) != len(c.nodes) {
		c.facts = make([]interpose.RaftState, len(c.nodes))
	}
	c.out.Nodes = c.out.Nodes[:0]
	for i, n := range c.nodes {
		c.out.Nodes = append(c.out.Nodes, n.view(&c.facts[i]))
	}
	if len(c.opts.Invariants) > 0 {
		c.checkUser()
	}
	return &c.out
}

// checkUser runs the user's invariants over the views just taken, building
// what they ask for: the FSMs, and for CheckNodes each node's state.
func (c *Cluster) checkUser() {
	var fsms []raft.FSM
	var nodes []NodeState
	for _, inv := range c.opts.Invariants {
		if inv.Check != nil && fsms == nil {
			fsms = make([]raft.FSM, len(c.nodes))
			for i := range c.nodes {
				fsms[i] = c.FSM(i + 1)
			}
		}
		if inv.CheckNodes != nil && nodes == nil {
			nodes = c.nodeStates()
		}
		if err := checkUser(inv, fsms, nodes); err != nil {
			c.out.Faults = append(c.out.Faults, interpose.Violation{
				Invariant: inv.Name, Fingerprint: inv.Name, Detail: err.Error(),
			})
		}
	}
}

// nodeStates returns each node's state for CheckNodes, from the views just
// taken.
func (c *Cluster) nodeStates() []NodeState {
	out := make([]NodeState, len(c.nodes))
	for i, n := range c.nodes {
		v := c.out.Nodes[i]
		out[i] = NodeState{Node: n.id, Started: v.Started, Up: v.Up, FSM: c.FSM(n.id)}
		if st, ok := interpose.RaftOf(v); ok {
			out[i].Raft = *st
		}
		if r := n.raft.Load(); r != nil && n.up {
			out[i].Leader, _ = nodeOf(leaderID(r))
		}
	}
	return out
}

// checkUser runs a user's invariant, turning a panic into a failure.
func checkUser(inv Invariant, fsms []raft.FSM, nodes []NodeState) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invariant %s panicked: %v", inv.Name, r)
		}
	}()
	if inv.Check != nil {
		if err := inv.Check(fsms); err != nil {
			return err
		}
	}
	if inv.CheckNodes != nil {
		return inv.CheckNodes(nodes)
	}
	return nil
}

// Stop implements interpose.Stopper: it shuts every node that is up down and
// ends its bubble, as Close would, and returns the violations that found: a
// node whose shutdown does not finish (raft waits for its goroutines, and
// one is blocked for good, in a state machine's Apply say), or whose bubble
// keeps a goroutine blocked for good after raft shut down (a caller waiting
// on a future raft never resolves), is Liveness:Stuck.
func (c *Cluster) Stop() []interpose.Violation {
	if c.closed {
		return nil
	}
	c.mu.Lock()
	from := len(c.obs.Faults)
	c.mu.Unlock()
	c.applying = applying{kind: "stop"}
	for _, n := range c.nodes {
		c.applying.node = n.id
		if n.up && !n.stuck {
			n.do(n.stop)
		}
		if n.stuck {
			continue
		}
		// The bubble ends: a goroutine left blocked in it for good (a
		// caller waiting on a future raft never resolves) is stuck too.
		if err := n.shutdown(); err != nil {
			n.stuckFault(n.exitFrames, "after raft shut down, a goroutine of its bubble stayed blocked for good")
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var found []interpose.Violation
	for _, v := range c.obs.Faults[from:] {
		if v.Invariant == interpose.Stuck {
			found = append(found, v)
		}
	}
	return found
}

// Close implements interpose.System: it shuts every node down and waits until
// every goroutine of every bubble has exited.
func (c *Cluster) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	defer c.watch.close()
	var errs []error
	for _, n := range c.nodes {
		if err := n.shutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	exitRun()
	return errors.Join(errs...)
}
