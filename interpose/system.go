package interpose

import (
	"errors"
	"testing"
)

// ErrNotEnabled is returned by System.Apply when an event cannot happen in the
// current state: its message is not pending, its node is down, and so on.
// Replay skips such an event.
var ErrNotEnabled = errors.New("event not enabled")

// System is a cluster under control. An adapter (interpose/hraft) implements it.
//
// Between two calls the system is quiescent: nothing moves until the next
// event. A System is used from one goroutine.
// Grouper is a System whose Pending marks each message that repeats the
// fingerprint of the one before it (Message.Repeat), and whose messages
// with one fingerprint are alike in Deliverable and Timer: a walk then
// finds the distinct fingerprints without comparing them. The systems
// that keep their messages in an Inflight are Groupers.
type Grouper interface {
	System
	// MarksRepeats does nothing; it declares the contract.
	MarksRepeats()
}

type System interface {
	// Nodes is the number of processes, numbered 1..Nodes.
	Nodes() int
	// State tells whether a node is not started, up or down, without
	// consuming observations.
	State(node int) NodeState
	// Pending lists the messages in the network in canonical order: by
	// fingerprint, then by arrival.
	Pending() []Message
	// Apply applies one event, waits until the system is quiescent again, and
	// returns the event as it happened: with its Result, and for an advance
	// with Until set to the message that ended it. index is the event's
	// position in the schedule being recorded, which later Completions refer
	// to. It returns ErrNotEnabled (wrapped) when the event cannot happen now.
	Apply(index int, ev Event) (Event, error)
	// View returns the state of every node and what was observed since the
	// previous call. The returned View is valid until the next call to any
	// method, except the nodes' Facts: those may point into the system's
	// storage, which only View refills, and stay valid until the next View
	// (the controller keeps them as the schedule's Final without a copy).
	View() *View
	// Close tears the system down, releasing every goroutine it started.
	Close() error
}

// NodeState is a process's life-cycle state.
type NodeState uint8

// Life-cycle states.
const (
	NotStarted NodeState = iota
	Up
	Down
)

// Target builds systems. Each Open returns a fresh system in its initial
// configuration, with no node started.
type Target interface {
	// Name is the target's name in schedule files and on the command line.
	Name() string
	// Spec returns the specification of a system with n nodes (0: the
	// target's default) and the given seed.
	Spec(nodes int, seed uint64) TargetSpec
	// Open builds a system. t is the test (or testing.Main's test) the system
	// runs under; adapters that use testing/synctest need it.
	Open(t *testing.T, spec TargetSpec) (System, error)
}

// Holder is implemented by targets that prepare the process for runs (for
// hraft: one P, the collector off). A campaign calls Hold once and the
// returned release at its end, instead of paying the switch at every run.
type Holder interface {
	Hold() (release func())
}

// Checker checks invariants at a quiescent point. A Checker may keep history
// between calls (leaders per term, committed entries); one Checker serves one
// run.
type Checker interface {
	Check(v *View) []Violation
}

// Settler is a Checker that also watches liveness: monitors that are hot
// while something is owed (a leader, a write applied) and cold once it is
// delivered. The controller asks it, during a run's stabilization phase,
// whether any is hot (a phase may end early once none is), and at the end
// of the run for a violation per monitor still hot.
type Settler interface {
	Checker
	// Hot reports whether some monitor is hot, as of the last Check.
	Hot() bool
	// Settle returns a violation for each monitor still hot.
	Settle() []Violation
}

// Finalizer is a Checker with a check that only the end of a run can make
// (a client history's linearizability): Controller.Settle calls Final once,
// after its last Check, and records what it returns.
type Finalizer interface {
	Checker
	Final() []Violation
}

// ChoicePoint is a controlled choice a node's process makes: its name
// ("storage.write") and its outcomes, the first the default ("ok",
// "etag-mismatch", "error", "error-after-write").
type ChoicePoint struct {
	Name     string
	Outcomes []string
}

// Chooser is a System whose processes make controlled choices (Choice
// events settle them): ChoicePoints lists those node makes, for a walk to
// draw from; none while the node is down. A system that is not a Chooser,
// or lists none, gets no Choice events.
type Chooser interface {
	System
	ChoicePoints(node int) []ChoicePoint
}

// SystemFinalizer is a System with an end-of-run check of its own (a
// service's own client history against its model, hraft.Options.Model):
// Controller.Settle calls Final once, after the checker's Final, and
// records what it returns.
type SystemFinalizer interface {
	System
	Final() []Violation
}

// Stopper is a System that can stop its nodes before it is closed, as the
// last step of a run (Controller.Finish), and say what stopping them found:
// a node that cannot stop (a goroutine of it blocked for good, so that its
// shutdown waits for ever) is a violation, Liveness:Stuck, that the run
// must report rather than hang or fail in Close. After Stop the system
// takes no event; Close releases it.
type Stopper interface {
	System
	Stop() []Violation
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(v *View) []Violation

// Check calls f(v).
func (f CheckerFunc) Check(v *View) []Violation { return f(v) }

// View is what a checker sees at a quiescent point: every node's state, plus
// what happened since the previous View (on the wire, in the log stores, in
// the state machines). The adapter fills it; invariants read it.
type View struct {
	Nodes []NodeView
	// Claims are leadership claims seen on the wire: a node sent an
	// AppendEntries (or InstallSnapshot) as leader of Term.
	Claims []Claim
	// LogOps are writes to the nodes' log stores, in order.
	LogOps []LogOp
	// Applied are entries handed to the nodes' state machines, in order.
	Applied []Applied
	// Faults are violations the adapter saw directly: a panic in a node, a
	// user's invariant over its state machines.
	Faults []Violation
	// Completions are results of earlier asynchronous events (a client
	// operation that committed, a membership change that failed).
	Completions []Completion
	// Acked are the client writes whose clients were told they succeeded:
	// the log index each got, and its entry's content, for LostWrite.
	Acked []Ack
	// Ops are client operations on a key-value store as a history holds
	// them: each at its invocation (pending) and again when it completes,
	// under the same Event, for linearizability (invariants.CheckKV).
	Ops []ClientOp
	// Losses are durable state that a node's store lost at a crash after
	// acknowledging it (a stable store that forgot its term or vote), in
	// words: not a violation of their own (raft cannot tell), but the cause
	// that the violations they lead to name.
	Losses []string
	// Monitors are the states of a system's own liveness monitors (an
	// actor program's Monitors), as of this view: which are hot (something
	// is owed) and why. The checker's monitors of those names read them
	// (invariants.MonitorsFor).
	Monitors []MonitorState
	// Step is the number of events applied, and Stabilizing is set once the
	// run's stabilization phase has begun (a Stabilize event): the
	// controller fills both in before a check.
	Step        int
	Stabilizing bool
	// Excused are the nodes the stabilization phase keeps faulty for good
	// (a Stabilize event's Op and Node): liveness owes them nothing, and
	// the rest must make progress without them.
	Excused []int
}

// Reset empties the observations, keeping their storage.
func (v *View) Reset() {
	v.Claims = v.Claims[:0]
	v.LogOps = v.LogOps[:0]
	v.Applied = v.Applied[:0]
	v.Faults = v.Faults[:0]
	v.Completions = v.Completions[:0]
	v.Acked = v.Acked[:0]
	v.Ops = v.Ops[:0]
	v.Losses = v.Losses[:0]
	v.Monitors = v.Monitors[:0]
}

// MonitorState is a system's liveness monitor as of a view.
type MonitorState struct {
	Name string
	Hot  bool
	Why  string
}

// Unwrap returns the target a wrapper wraps (a target with a default
// workload, say), through every layer: what a caller asks for the
// target's own methods (its model, its monitors).
func Unwrap(t Target) Target {
	for {
		u, ok := t.(interface{ Unwrap() Target })
		if !ok {
			return t
		}
		t = u.Unwrap()
	}
}

// Claim is a leadership claim seen on the wire.
type Claim struct {
	Node int
	Term uint64
}

// LogOpKind says what a log store write did.
type LogOpKind uint8

// Log store operations.
const (
	// LogStore stores the entry (Index, Term).
	LogStore LogOpKind = iota
	// LogTruncate deletes the suffix Index..Hi.
	LogTruncate
	// LogCompact deletes the prefix up to Hi.
	LogCompact
)

// LogOp is one write to a node's log store.
type LogOp struct {
	Node  int
	Kind  LogOpKind
	Index uint64 // first index stored or deleted
	Hi    uint64 // last index deleted
	Term  uint64 // term of the stored entry
	Hash  uint64 // hash of the stored entry's type and data
	// Leader and NodeTerm are the node's role and term when it wrote.
	Leader   bool
	NodeTerm uint64
}

// Applied is an entry handed to a node's state machine.
type Applied struct {
	Node  int
	Index uint64
	Term  uint64
	Hash  uint64
}

// Ack is a client write acknowledged as successful: issued by event Event
// (numbered from 1) through Node, it got log index Index, with an entry whose content hashes
// to Hash (as Applied hashes it).
type Ack struct {
	Node  int
	Event int
	Index uint64
	Hash  uint64
}

// KVRead starts a client payload that reads a key of a key-value store
// ("?k"), where "k=v" writes one: the built-in KV of package hraft, and the
// walks that draw reads (fuzz.Options.Reads).
const KVRead = "?"

// ClientOp is a client operation on a key-value store: a write of Value
// to Key, or a read of Key that returned Value; or, with Op set, an
// operation of a service's own (Op is the command as sent, Value what the
// service answered, Key the part of its state it touches, Write false for
// one that changes nothing). It was issued by event Event
// through Node. Call and Return are the events at which it was issued and
// answered, numbered from 1 as show numbers them (the run's order of events
// is its clock). Pending is set until
// it has a definite answer, and stays set for one that never gets one (it
// may or may not have taken effect). Index is the log index a write took.
type ClientOp struct {
	Event   int    `json:"event"`
	Node    int    `json:"node"`
	Key     string `json:"key"`
	Value   string `json:"value"`
	Write   bool   `json:"write,omitempty"`
	Call    int    `json:"call"`
	Return  int    `json:"return"`
	Pending bool   `json:"pending,omitempty"`
	Index   uint64 `json:"index,omitempty"`
	// Failed is set on a completion that says the operation did not take
	// effect (a write refused by a node that does not lead): it leaves the
	// history.
	Failed bool `json:"failed,omitempty"`
	// Op is the command of an operation of a service's own model; "" for
	// the built-in key-value store's.
	Op string `json:"op,omitempty"`
}

// Completion is the later result of the event at Index. The controller
// fills in Node, the node the event went to (its Event.Node), before a
// checker sees it.
type Completion struct {
	Index  int
	Node   int
	Result string
}
