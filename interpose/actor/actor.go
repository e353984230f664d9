package actor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

// Message is what processes send each other.
type Message interface {
	// Type names the message's type ("AppendEntries").
	Type() string
	// Key renders the fields that matter, canonically ("term=3 prev=2/1"):
	// with the type, source and destination, the message's fingerprint. It
	// must not be empty.
	Key() string
}

// Timer is the message a process receives when its timer Name fires.
type Timer struct{ Name string }

// Type implements Message: a timer's type is its name.
func (t Timer) Type() string { return t.Name }

// Key implements Message.
func (t Timer) Key() string { return timerKey }

const timerKey = "timer"

// Process is one node's program.
type Process interface {
	// Init runs when the node starts or recovers, with the persistent state
	// it had when it crashed.
	Init(ctx *Context)
	// Receive handles one message; from is 0 for a client's message and the
	// node itself for a timer.
	Receive(ctx *Context, from int, m Message)
}

// Publisher is implemented by processes that publish facts about their
// state: what `faultline show`, the reports and the JSON formats print for
// the node, and what checks that know the system read (the Raft invariants
// read an *interpose.RaftState through interpose.RaftOf). The runtime
// supplies the node's number and life cycle; a node that is down has no
// process and publishes nothing.
type Publisher interface {
	// Facts returns the process's facts at a quiescent point, after every
	// event the controller checks. The value stays valid until the next
	// call: a process may return a pointer to a typed value it keeps and
	// updates here (fast: nothing is formatted until a schedule is
	// rendered), or an interpose.FactList, ordered, whose first fact
	// reads alone as the node's headline (a role, a state).
	Facts() interpose.Facts
}

// Program describes a target's processes.
type Program struct {
	// New returns the process of node id (1-based) in a cluster of n.
	New func(id, n int) Process
	// Client turns a client operation's payload into the message handed to
	// a node; an error rejects the operation (its result says why). Nil: no
	// client operations.
	Client func(data string) (Message, error)
	// Nodes is the default cluster size (0: 3).
	Nodes int
	// Choices lists the controlled choices node's process makes
	// (Context.Choose), so that a walk can settle them before the first is
	// made; a choice a process makes that is not listed is learned when it
	// is first made. Nil: learned only.
	Choices func(node int) []interpose.ChoicePoint
	// Invariants are properties of the whole system, checked at every
	// quiescent point the controller checks, over every node's process
	// (nil for a node that is down or never started): a failover
	// manager's storage against its deployments, say.
	Invariants []Invariant
	// Monitors are the system's liveness monitors, observed at every
	// quiescent point the controller checks (interpose.View.Monitors):
	// one still hot at the end of a run's stabilization phase is a
	// Liveness:NAME violation. A program with monitors of its own is
	// judged by them, not by Raft's.
	Monitors []Monitor
	// Config is recorded in schedule files, for readers.
	Config map[string]string
}

// Invariant is a property of an actor system's processes. The violation's
// fingerprint is Name: keep the error's details out of it. Check gets one
// process per node (index node-1, nil while down), in a slice valid for the
// call only.
type Invariant struct {
	Name  string
	Check func(procs []Process) error
}

// Monitor is a liveness property of an actor system: Hot says whether
// something is owed (a pool not yet steady) and why. It reads the
// processes as Invariant's Check does.
type Monitor struct {
	Name string
	Hot  func(procs []Process) (hot bool, why string)
}

// Target is an actor system under control: an interpose.Target.
type Target struct {
	name, bug string
	prog      Program
}

// NewTarget returns a target. name is how schedule files and the CLI refer
// to it; bug names the injected bug, if any.
func NewTarget(name, bug string, prog Program) *Target {
	return &Target{name: name, bug: bug, prog: prog}
}

// Name implements interpose.Target.
func (t *Target) Name() string { return t.name }

// MonitorNames names the program's liveness monitors (Program.Monitors),
// for the checker to observe them (invariants.MonitorsFor).
func (t *Target) MonitorNames() []string {
	names := make([]string, len(t.prog.Monitors))
	for i, m := range t.prog.Monitors {
		names[i] = m.Name
	}
	return names
}

// Spec implements interpose.Target.
func (t *Target) Spec(nodes int, seed uint64) interpose.TargetSpec {
	if nodes <= 0 {
		nodes = t.prog.Nodes
	}
	if nodes <= 0 {
		nodes = 3
	}
	cfg := map[string]string{"runtime": "faultline interpose/actor"}
	for k, v := range t.prog.Config {
		cfg[k] = v
	}
	return interpose.TargetSpec{Name: t.name, Nodes: nodes, Seed: seed, Bug: t.bug, Config: cfg}
}

// Open implements interpose.Target. t is not used: nothing runs outside the
// caller's goroutine.
func (t *Target) Open(_ *testing.T, spec interpose.TargetSpec) (interpose.System, error) {
	if spec.Name != t.name {
		return nil, fmt.Errorf("actor: spec is for target %q, not %q", spec.Name, t.name)
	}
	if spec.Nodes <= 0 {
		return nil, fmt.Errorf("actor: %d nodes", spec.Nodes)
	}
	if t.prog.New == nil {
		return nil, errors.New("actor: program has no New")
	}
	s := &System{prog: &t.prog, seed: spec.Seed, nodes: make([]node, spec.Nodes+1)}
	s.fl, _ = inflights.Get().(*interpose.Inflight[Message])
	if s.fl == nil {
		s.fl = &interpose.Inflight[Message]{}
	}
	s.sum = s.fl.Summarize()
	for i := range s.nodes {
		s.nodes[i].id = i
	}
	s.ctx.sys = s
	return s, nil
}

// System is a running actor cluster: an interpose.System.
type System struct {
	prog  *Program
	seed  uint64
	nodes []node // 1..n; index 0 unused
	net   interpose.Network

	// fl holds the messages in flight and the armed timers, in canonical
	// order, with what each carries (nil for a timer), each with its Timer
	// and Deliverable flags: set as it is put in flight, and all of them
	// again (by Pending) after a node goes up or down or the network
	// changes, which flagsStale says.
	fl         *interpose.Inflight[Message] // nil once closed
	flagsStale bool
	sum        *interpose.Summary // fl's
	obs        interpose.View     // observations since the last View
	out        interpose.View     // View's answer
	ctx        Context
	procs      []Process // scratch: the processes the program's checks read
}

type node struct {
	id          int
	proc        Process
	pub         Publisher // proc, when it publishes facts: asserted once, not at every view
	started, up bool
	incarnation uint64
	store       map[string]any
	timers      []armed // in the order they were armed
	rng         *rand.Rand
	// points are the node's choice points, Program.Choices' then those
	// learned, in that order; preset the outcomes Choice events settled
	// for the next choice of each name (cleared by a crash).
	points []interpose.ChoicePoint
	preset map[string]int
	// facts is what pub.Facts last returned, nil once the process ran
	// since: a view asks only the processes that ran for their facts.
	facts interpose.Facts
}

// armed is an armed timer: a pending message of its node to itself.
type armed struct {
	name string
	seq  uint64
}

// insert puts a message (m nil: a timer) in flight.
func (s *System) insert(fp interpose.Msg, m Message) uint64 {
	seq, at := s.fl.Insert(fp, m, m != nil)
	s.setFlags(at)
	return seq
}

// setFlags sets the i-th message's Timer and Deliverable flags.
func (s *System) setFlags(i int) {
	s.fl.SetFlags(i, s.fl.Load[i] == nil, s.deliverable(i))
}

// Nodes implements interpose.System.
func (s *System) Nodes() int { return len(s.nodes) - 1 }

// State implements interpose.System.
func (s *System) State(i int) interpose.NodeState {
	if i < 1 || i >= len(s.nodes) {
		return interpose.NotStarted
	}
	n := &s.nodes[i]
	switch {
	case !n.started:
		return interpose.NotStarted
	case n.up:
		return interpose.Up
	}
	return interpose.Down
}

// MarksRepeats implements interpose.Grouper: its Inflight marks them, and
// messages of one fingerprint share their destination and kind.
func (*System) MarksRepeats() {}

// Pending implements interpose.System. The slice is valid until the next
// event and must not be changed.
func (s *System) Pending() []interpose.Message {
	if s.flagsStale {
		for i := range s.fl.Msgs {
			s.setFlags(i)
		}
		s.flagsStale = false
	}
	return s.fl.Msgs
}

// Summary implements interpose.Summarizer.
func (s *System) Summary() *interpose.Summary {
	s.Pending() // flags set again after a change of nodes or network
	return s.sum
}

// deliverable reports whether the i-th message in flight can be delivered:
// its node is up, and it is a timer or the network passes it.
func (s *System) deliverable(i int) bool {
	m := &s.fl.Msgs[i].Msg
	return s.nodes[m.To].up && (s.fl.Load[i] == nil || s.net.Passes(m.From, m.To))
}

func notEnabled(format string, args ...any) error {
	return fmt.Errorf("actor: %s: %w", fmt.Sprintf(format, args...), interpose.ErrNotEnabled)
}

// Apply implements interpose.System.
func (s *System) Apply(index int, ev interpose.Event) (interpose.Event, error) {
	switch ev.Kind {
	case interpose.Deliver, interpose.Drop, interpose.Duplicate:
		if ev.Msg == nil {
			return ev, fmt.Errorf("actor: %s without a message", ev.Kind)
		}
	case interpose.Partition, interpose.Heal:
	case interpose.Membership, interpose.Transfer:
		return ev, notEnabled("%s is not supported by actor targets", ev.Kind)
	default:
		if ev.Node < 1 || ev.Node >= len(s.nodes) {
			return ev, fmt.Errorf("actor: no node n%d", ev.Node)
		}
	}
	ev.Result = ""
	switch ev.Kind {
	case interpose.Deliver:
		i := s.fl.FindAt(ev.Msg, ev.Hint)
		if i < 0 || !s.deliverable(i) {
			return ev, notEnabled("no deliverable %s", ev.Msg)
		}
		fp, m := s.fl.Msgs[i].Msg, s.fl.Load[i]
		ev.Msg = interpose.Named(ev.Msg, &s.fl.Msgs[i].Msg)
		if m == nil {
			n := &s.nodes[fp.To]
			ev.Result = s.fire(n, slices.IndexFunc(n.timers, func(t armed) bool { return t.name == fp.Type }), i)
			break
		}
		s.fl.RemoveAt(i)
		ev.Result = s.dispatch(fp.To, fp.From, m)
	case interpose.Drop:
		i := s.fl.FindAt(ev.Msg, ev.Hint)
		if i < 0 {
			return ev, notEnabled("no pending %s", ev.Msg)
		}
		fp := s.fl.Msgs[i].Msg
		ev.Msg = interpose.Named(ev.Msg, &s.fl.Msgs[i].Msg)
		if s.fl.Load[i] == nil { // a dropped timer never fires
			n := &s.nodes[fp.To]
			n.timers = slices.DeleteFunc(n.timers, func(t armed) bool { return t.name == fp.Type })
		}
		s.fl.RemoveAt(i)
	case interpose.Duplicate:
		i := s.fl.FindAt(ev.Msg, ev.Hint)
		if i < 0 || s.fl.Load[i] == nil {
			return ev, notEnabled("no pending message %s (timers are not duplicated)", ev.Msg)
		}
		fp := s.fl.Msgs[i].Msg
		ev.Msg = interpose.Named(ev.Msg, &s.fl.Msgs[i].Msg)
		s.insert(fp, s.fl.Load[i])
	case interpose.Advance:
		n := &s.nodes[ev.Node]
		if !n.up {
			return ev, notEnabled("n%d is down", n.id)
		}
		k := -1
		for i, t := range n.timers {
			if ev.Until == nil || ev.Until.Matches(timerFP(n.id, t.name)) {
				k = i
				break
			}
		}
		if k < 0 {
			return ev, notEnabled("n%d has no timer %v armed", n.id, ev.Until)
		}
		fp := timerFP(n.id, n.timers[k].name)
		ev.Until, ev.UntilN = &fp, 0
		ev.Result = s.fire(n, k, -1)
	case interpose.Start:
		n := &s.nodes[ev.Node]
		if n.started {
			return ev, notEnabled("n%d already started", n.id)
		}
		n.started = true
		n.store = map[string]any{}
		if s.prog.Choices != nil {
			n.points = slices.Clone(s.prog.Choices(n.id))
		}
		ev.Result = s.boot(n)
	case interpose.Crash:
		n := &s.nodes[ev.Node]
		if !n.up {
			return ev, notEnabled("n%d is down", n.id)
		}
		s.crash(n)
	case interpose.Recover:
		n := &s.nodes[ev.Node]
		if !n.started || n.up {
			return ev, notEnabled("n%d is not down", n.id)
		}
		ev.Result = s.boot(n)
	case interpose.Client:
		n := &s.nodes[ev.Node]
		if !n.up {
			return ev, notEnabled("n%d is down", n.id)
		}
		if s.prog.Client == nil {
			return ev, notEnabled("the target takes no client operations")
		}
		m, err := s.prog.Client(ev.Data)
		if err != nil {
			ev.Result = "rejected: " + err.Error()
			break
		}
		ev.Result = s.dispatch(n.id, 0, m)
	case interpose.Disk:
		return ev, notEnabled("an actor system has no disk")
	case interpose.Choice:
		n := &s.nodes[ev.Node]
		if !n.up {
			return ev, notEnabled("n%d is down", n.id)
		}
		k := slices.IndexFunc(n.points, func(p interpose.ChoicePoint) bool { return p.Name == ev.Data })
		if k < 0 {
			return ev, notEnabled("n%d makes no choice %q", n.id, ev.Data)
		}
		o := slices.Index(n.points[k].Outcomes, ev.Op)
		if o < 0 {
			return ev, notEnabled("choice %q has no outcome %q", ev.Data, ev.Op)
		}
		if n.preset == nil {
			n.preset = map[string]int{}
		}
		n.preset[ev.Data] = o
		ev.Result = "next " + ev.Data + ": " + ev.Op
	case interpose.Partition:
		s.net.Cut(ev, len(s.nodes)-1)
		s.flagsStale = true
	case interpose.Heal:
		if !s.net.Heal() {
			return ev, notEnabled("the network is whole")
		}
		s.flagsStale = true
	default:
		return ev, fmt.Errorf("actor: unknown event kind %q", ev.Kind)
	}
	return ev, nil
}

func timerFP(node int, name string) interpose.Msg {
	return interpose.Msg{Type: name, From: node, To: node, Key: timerKey}
}

// fire disarms and fires a node's k-th timer, which is in flight at
// position at (-1: to be found).
func (s *System) fire(n *node, k, at int) string {
	t := n.timers[k]
	n.timers = slices.Delete(n.timers, k, k+1)
	if at < 0 {
		at = s.fl.Index(timerFP(n.id, t.name), t.seq)
	}
	if at >= 0 {
		s.fl.RemoveAt(at)
	}
	return s.dispatch(n.id, n.id, Timer{Name: t.name})
}

// boot creates a node's process and runs its Init.
func (s *System) boot(n *node) string {
	n.up, s.flagsStale = true, true
	n.incarnation++
	s.disarm(n)
	n.rng = rand.New(rand.NewPCG(s.seed, uint64(n.id)<<32|n.incarnation))
	return s.run(n, "Init", func() {
		n.proc = s.prog.New(n.id, s.Nodes())
		n.pub, _ = n.proc.(Publisher)
		n.proc.Init(&s.ctx)
	})
}

// crash takes a node down: its process, timers and settled choices go,
// its store stays.
func (s *System) crash(n *node) {
	n.up, s.flagsStale = false, true
	n.proc, n.pub, n.facts = nil, nil, nil
	clear(n.preset)
	s.disarm(n)
}

// ChoicePoints implements interpose.Chooser: the choices node's process
// makes, none while it is down. The slice must not be changed.
func (s *System) ChoicePoints(node int) []interpose.ChoicePoint {
	if node < 1 || node >= len(s.nodes) || !s.nodes[node].up {
		return nil
	}
	return s.nodes[node].points
}

// disarm cancels every timer of a node.
func (s *System) disarm(n *node) {
	for _, t := range n.timers {
		if i := s.fl.Index(timerFP(n.id, t.name), t.seq); i >= 0 {
			s.fl.RemoveAt(i)
		}
	}
	n.timers = n.timers[:0]
}

// dispatch hands a message to a node's process.
func (s *System) dispatch(to, from int, m Message) string {
	n := &s.nodes[to]
	return s.run(n, m.Type(), func() { n.proc.Receive(&s.ctx, from, m) })
}

// run calls into a node's process with the context set up, turning a panic
// into a NoPanic fault and a crash of the node. It returns what the process
// passed to Respond.
func (s *System) run(n *node, what string, f func()) (result string) {
	n.facts = nil
	s.ctx.node = n
	s.ctx.result = ""
	s.ctx.chose = s.ctx.chose[:0]
	defer func() {
		if p := recover(); p != nil {
			s.obs.Faults = append(s.obs.Faults, interpose.Violation{
				Invariant:   "NoPanic",
				Fingerprint: "NoPanic: " + what + ": " + interpose.StableText(fmt.Sprint(p)),
				Detail:      fmt.Sprintf("n%d panicked handling %s: %v", n.id, what, p),
			})
			s.crash(n)
			result = fmt.Sprintf("n%d panicked: %v", n.id, p)
		}
		s.ctx.node = nil
	}()
	f()
	if len(s.ctx.chose) > 0 {
		return joinChoices(s.ctx.result, s.ctx.chose)
	}
	return s.ctx.result
}

// joinChoices adds the choices a call made to its result: "ok [storage.write:
// etag-mismatch]".
func joinChoices(result string, chose []string) string {
	c := "[" + strings.Join(chose, ", ") + "]"
	if result == "" {
		return c
	}
	return result + " " + c
}

// View implements interpose.System.
func (s *System) View() *interpose.View {
	s.out.Reset()
	s.out.Nodes = s.out.Nodes[:0]
	for i := 1; i < len(s.nodes); i++ {
		n := &s.nodes[i]
		v := interpose.NodeView{Node: n.id, Started: n.started, Up: n.up}
		if n.pub != nil && n.up {
			if n.facts == nil {
				n.facts = n.pub.Facts()
			}
			v.Facts = n.facts
		}
		s.out.Nodes = append(s.out.Nodes, v)
	}
	s.out.Claims = append(s.out.Claims, s.obs.Claims...)
	s.out.LogOps = append(s.out.LogOps, s.obs.LogOps...)
	s.out.Applied = append(s.out.Applied, s.obs.Applied...)
	s.out.Faults = append(s.out.Faults, s.obs.Faults...)
	s.obs.Reset()
	if len(s.prog.Invariants)+len(s.prog.Monitors) > 0 {
		s.checkInvariants()
	}
	return &s.out
}

// checkInvariants runs the program's monitors and invariants over the
// processes; a panic in one is a finding, never faultline's crash.
func (s *System) checkInvariants() {
	procs := s.procs[:0]
	for i := 1; i < len(s.nodes); i++ {
		var p Process
		if n := &s.nodes[i]; n.up {
			p = n.proc
		}
		procs = append(procs, p)
	}
	s.procs = procs
	for _, m := range s.prog.Monitors {
		st := interpose.MonitorState{Name: m.Name}
		func() {
			defer func() {
				if p := recover(); p != nil {
					st.Hot, st.Why = true, fmt.Sprintf("the monitor panicked: %v", p)
				}
			}()
			st.Hot, st.Why = m.Hot(procs)
		}()
		s.out.Monitors = append(s.out.Monitors, st)
	}
	for _, inv := range s.prog.Invariants {
		var panicked any
		err := func() error {
			defer func() { panicked = recover() }()
			return inv.Check(procs)
		}()
		switch {
		case panicked != nil:
			// A check that panics is a bug of its own, not the property's
			// violation: another fingerprint, so that no minimizer takes
			// one for the other.
			s.out.Faults = append(s.out.Faults, interpose.Violation{Invariant: "NoPanic",
				Fingerprint: "NoPanic: invariant " + inv.Name + ": " + interpose.StableText(fmt.Sprint(panicked)),
				Detail:      fmt.Sprintf("the check of %s panicked: %v", inv.Name, panicked)})
		case err != nil:
			s.out.Faults = append(s.out.Faults, interpose.Violation{Invariant: inv.Name, Fingerprint: inv.Name, Detail: err.Error()})
		}
	}
}

// Close implements interpose.System.
func (s *System) Close() error {
	if s.fl != nil {
		// A walk opens a system per run: the next one takes over these
		// arrays instead of growing its own.
		s.fl.Reset()
		inflights.Put(s.fl)
		s.fl, s.sum = nil, nil
	}
	return nil
}

// inflights are the emptied networks of closed systems.
var inflights sync.Pool

// Context is a process's handle on the runtime during one call.
type Context struct {
	sys    *System
	node   *node
	result string
	chose  []string // the choices this call made, for its event's result
}

// Self is the node's number.
func (c *Context) Self() int { return c.node.id }

// Nodes is the cluster size; nodes are numbered 1..Nodes.
func (c *Context) Nodes() int { return c.sys.Nodes() }

// Send puts a message in flight to node to.
func (c *Context) Send(to int, m Message) {
	s := c.sys
	if to < 1 || to >= len(s.nodes) {
		panic("actor: send to n" + strconv.Itoa(to) + ", which does not exist")
	}
	s.insert(interpose.Msg{Type: m.Type(), From: c.node.id, To: to, Key: m.Key()}, m)
}

// SetTimer arms the timer name; an armed timer is re-armed, last in order.
// The scheduler decides when it fires.
func (c *Context) SetTimer(name string) {
	n := c.node
	if k := slices.IndexFunc(n.timers, func(t armed) bool { return t.name == name }); k >= 0 {
		// Re-armed in place when it can be: the same as cancelling it
		// and arming it anew.
		if i := c.sys.fl.Index(timerFP(n.id, name), n.timers[k].seq); i >= 0 {
			if seq, ok := c.sys.fl.Renew(i); ok {
				n.timers = append(slices.Delete(n.timers, k, k+1), armed{name: name, seq: seq})
				return
			}
		}
	}
	c.CancelTimer(name)
	seq := c.sys.insert(timerFP(n.id, name), nil)
	n.timers = append(n.timers, armed{name: name, seq: seq})
}

// CancelTimer disarms the timer name, if armed.
func (c *Context) CancelTimer(name string) {
	n := c.node
	if k := slices.IndexFunc(n.timers, func(t armed) bool { return t.name == name }); k >= 0 {
		if i := c.sys.fl.Index(timerFP(n.id, name), n.timers[k].seq); i >= 0 {
			c.sys.fl.RemoveAt(i)
		}
		n.timers = slices.Delete(n.timers, k, k+1)
	}
}

// Load returns a value of the node's persistent state.
func (c *Context) Load(key string) (any, bool) {
	v, ok := c.node.store[key]
	return v, ok
}

// Store sets a value of the node's persistent state, which survives
// crashes. Values are kept as they are: store values that are not changed
// afterwards.
func (c *Context) Store(key string, v any) { c.node.store[key] = v }

// Choose makes the controlled choice name among outcomes (at least two, the
// first the default): the outcome a Choice event settled for the node's
// next choice of that name, else the default. It returns the outcome's
// index. A choice not in Program.Choices is learned, with these outcomes,
// the first time it is made; a choice made with other outcomes than it was
// declared or first made with panics (a NoPanic fault of the process).
// The event's result names each choice made ("[storage.write:
// etag-mismatch]").
func (c *Context) Choose(name string, outcomes ...string) int {
	n := c.node
	if len(outcomes) < 2 {
		panic(fmt.Sprintf("actor: choice %q with %d outcomes; need at least two", name, len(outcomes)))
	}
	k := slices.IndexFunc(n.points, func(p interpose.ChoicePoint) bool { return p.Name == name })
	switch {
	case k < 0:
		n.points = append(n.points, interpose.ChoicePoint{Name: name, Outcomes: slices.Clone(outcomes)})
	case !slices.Equal(n.points[k].Outcomes, outcomes):
		panic(fmt.Sprintf("actor: choice %q made with outcomes %v, declared with %v", name, outcomes, n.points[k].Outcomes))
	}
	o, ok := n.preset[name]
	if ok {
		delete(n.preset, name)
	}
	c.chose = append(c.chose, name+": "+outcomes[o])
	return o
}

// Delete removes a value of the node's persistent state.
func (c *Context) Delete(key string) { delete(c.node.store, key) }

// Keys lists the keys of the node's persistent state that start with
// prefix, in order: a file-like store's directory listing.
func (c *Context) Keys(prefix string) []string {
	var keys []string
	for k := range c.node.store {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Violation reports that a property of the system does not hold, seen
// from inside the process (a scheduler that launched a task out of
// locality order): a violation whose fingerprint is name (keep the
// details out of it) and whose detail is detail. The process goes on.
func (c *Context) Violation(name, detail string) {
	c.sys.obs.Faults = append(c.sys.obs.Faults, interpose.Violation{Invariant: name, Fingerprint: name,
		Detail: fmt.Sprintf("n%d: %s", c.node.id, detail)})
}

// Rand is the node's random source, seeded by the target's seed, the node
// and its incarnation.
func (c *Context) Rand() *rand.Rand { return c.node.rng }

// Respond sets the result recorded for the event being handled (a client
// operation's outcome, for instance).
func (c *Context) Respond(result string) { c.result = result }

// Claim reports that the node acts as leader of term (it sent an
// AppendEntries as leader), for the election safety check on the wire.
func (c *Context) Claim(term uint64) {
	c.sys.obs.Claims = append(c.sys.obs.Claims, interpose.Claim{Node: c.node.id, Term: term})
}

// Log reports a write to the node's log; its Node is filled in.
func (c *Context) Log(op interpose.LogOp) {
	op.Node = c.node.id
	c.sys.obs.LogOps = append(c.sys.obs.LogOps, op)
}

// Applied reports an entry handed to the node's state machine; its Node is
// filled in.
func (c *Context) Applied(a interpose.Applied) {
	a.Node = c.node.id
	c.sys.obs.Applied = append(c.sys.obs.Applied, a)
}
