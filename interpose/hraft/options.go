package hraft

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/internal/linked"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// Options describes a raft-based service to put under control. The zero value
// is a 3-node cluster of the built-in key-value FSM over raft's in-memory
// stores, with snapshots on.
type Options struct {
	// Nodes is the cluster size (default 3). A TargetSpec's Nodes overrides it.
	Nodes int

	// NewFSM returns a fresh state machine for a node. It is called at every
	// start and recovery: a recovered node rebuilds its state from its
	// snapshot and log, as after a real restart. Default: NewKV.
	NewFSM func(node int) raft.FSM

	// NewLogStore, NewStableStore and NewSnapshotStore return a node's
	// durable stores. Each is called once per node per run; the stores
	// survive the node's crashes. Defaults: raft.NewInmemStore and
	// raft.NewInmemSnapshotStore. A store that implements Crasher loses, at
	// each crash, what it had not made durable.
	NewLogStore      func(node int) (raft.LogStore, error)
	NewStableStore   func(node int) (raft.StableStore, error)
	NewSnapshotStore func(node int) (raft.SnapshotStore, error)

	// Config adjusts a node's raft.Config after faultline's defaults (see
	// DefaultConfig). LocalID is set by faultline and must not change.
	Config func(node int, c *raft.Config)

	// SerialHeartbeats hands heartbeats to raft's main loop through
	// Consumer(), like any other RPC, instead of to the handler raft
	// registers with SetHeartbeatHandler. NetworkTransport uses that fast
	// path, and so does faultline by default; the race of hashicorp/raft#695
	// (a heartbeat bumps the term under a leader loop that goes on appending)
	// needs it.
	SerialHeartbeats bool
	// FailCallsToDown fails a call to a node that is not running as raft's
	// transports fail it: the requests in the network to a node that
	// crashes fail at the crash (the connection resets), and those sent to
	// a node while it is down, or before it first starts, fail when it
	// starts (nothing was listening). Each caller that still waits gets
	// an error. Off (the default, and how every schedule recorded before it
	// replays), such requests stay in the network and are delivered to the
	// node once it runs, unless the walk drops them: executions a real
	// cluster cannot produce, about a fifth of the request deliveries of
	// hraft-serial's random walks. Schedules record it
	// (Config["calls_to_down"] "fail"), and a replay follows the schedule.
	FailCallsToDown bool
	// StaleReads serves the built-in KV's reads (ReadPrefix) from the
	// node's own state machine with no check: any node answers,
	// leader or not, and may answer with old data. A target with a bug on
	// purpose, to show that the linearizability check finds stale reads.
	StaleReads bool
	// VerifyReads serves the built-in KV's reads as raft's documentation
	// suggests for reads off the log: VerifyLeader (is this node still the
	// leader?), then the node's own state machine. Off, reads go through
	// the log.
	VerifyReads bool
	// BarrierReads serves them by Barrier (an entry through the log, which
	// the node's state machine has applied when it returns), then the
	// node's own state machine: what VerifyReads lacks, a state machine
	// as current as the log a leader of this term committed.
	BarrierReads bool
	// ReadIndex serves them the way hashicorp/raft's maintainers describe
	// the Raft thesis's read index for this library (hashicorp/raft#603): a
	// Barrier once per term the node leads (its state machine then holds
	// everything committed before its term), then VerifyLeader for each
	// read, then the node's own state machine. One Barrier per term, not
	// one per read.
	ReadIndex bool

	// Model is your service's sequential specification: with it, every
	// client command is an operation of the run's history (the command as
	// sent, the event that sent it, the event that answered it and the
	// answer: fmt.Sprint of what Apply returned), checked against the
	// model at the end of every run; a history no order of which the model
	// explains is a Linearizability violation with its witness. Reads go
	// through the log unless LocalRead and a read mode (StaleReads,
	// VerifyReads, BarrierReads, ReadIndex) say otherwise.
	Model *invariants.Model
	// Clients makes your service's client operations for the fuzzer (the
	// target is then a fuzz.ClientMaker): one command per call, drawn from
	// r, the walk's seeded source, so that a seed's walk is reproducible.
	// Nil: the fuzzer's Options.Clients, or the built-in KV's writes.
	Clients func(r *rand.Rand) string
	// LocalRead answers a read (a command Model.Read says changes nothing)
	// from a node's own state machine, for the read modes above: the
	// answer a client would get. It runs while the node's goroutines wait
	// on the read, so it may read the FSM under its own lock.
	LocalRead func(fsm raft.FSM, op string) string

	// Watchdog is how long (in real time) a node may take over one event
	// before it is declared stuck (0: DefaultWatchdog): a Liveness:Stuck
	// violation naming where its goroutines are blocked. It catches what
	// the fake clock cannot see: a state machine blocked on a sync.Mutex or
	// on a channel made outside the node, or spinning. A node blocked where
	// the fake clock sees it (a channel of its own, select {}) is declared
	// stuck after StuckAfter of virtual time instead, deterministically and
	// at once. The watchdog is the only thing that reads the real clock; it
	// decides nothing in a run whose events all finish.
	Watchdog time.Duration

	// Invariants are checked over the live nodes' state machines (and, with
	// CheckNodes, their Raft facts) at every check. They run while the
	// cluster is quiescent, so they may read the FSMs without locks.
	Invariants []Invariant
}

// Invariant is a property of your service: of the state machines of the
// live nodes, and of what raft says about each node. The violation's
// fingerprint is Name: keep the error's details out of the name. Set Check,
// CheckNodes or both; each returns a non-nil error when the property does
// not hold.
type Invariant struct {
	Name string
	// Check gets one FSM per node (index node-1), nil for a node that is
	// down.
	Check func(fsms []raft.FSM) error
	// CheckNodes gets one NodeState per node (index node-1): its FSM and
	// its Raft facts, so that a property such as "two nodes that applied
	// the same index hold the same state" needs no bookkeeping in the
	// FSM. The slice is made for this call only.
	CheckNodes func(nodes []NodeState) error
}

// NodeState is a node as CheckNodes sees it, at a quiescent point.
type NodeState struct {
	// Node is the node's number, 1-based; Started and Up its life cycle.
	Node        int
	Started, Up bool
	// FSM is the state machine of the node's current incarnation, nil when
	// the node is down.
	FSM raft.FSM
	// Raft is the node's facts as its view publishes them: role, term,
	// vote, last, commit and applied indexes, snapshot index, and Config,
	// its latest configuration (voters and non-voters, nil while down).
	// A down node has its durable term, vote and last index only; a node
	// that never started, a zero RaftState.
	Raft interpose.RaftState
	// Leader is the leader the node knows of, 0 if none (or down).
	Leader int
}

// Crasher is implemented by stores that lose state in a crash (for example a
// write-back cache). Crash is called once per crash of the node that owns the
// store, after raft has shut down and before it is recovered.
type Crasher interface {
	Crash()
}

// DefaultConfig returns the raft configuration faultline gives each node
// before Options.Config adjusts it: raft's defaults, with snapshots taken
// every few entries and logs compacted so that InstallSnapshot happens, and
// logging off. Times are on the node's fake clock, so they cost nothing.
func DefaultConfig(node int) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = serverID(node)
	c.LogOutput = nil
	c.Logger = nullLogger
	c.SnapshotThreshold = 4
	c.SnapshotInterval = time.Second
	c.TrailingLogs = 2
	quietTelemetry(c)
	return c
}

func serverID(node int) raft.ServerID        { return raft.ServerID("n" + strconv.Itoa(node)) }
func serverAddr(node int) raft.ServerAddress { return raft.ServerAddress("n" + strconv.Itoa(node)) }

// nodeOf parses a server address or ID ("n3") back to its node number.
func nodeOf(s string) (int, bool) {
	if len(s) < 2 || s[0] != 'n' {
		return 0, false
	}
	n, err := strconv.Atoi(s[1:])
	return n, err == nil && n > 0
}

// Target is a named raft-based service that faultline can fuzz and replay.
type Target struct {
	name    string
	bug     string
	options Options
}

// NewTarget returns a target. name is how schedule files and the CLI refer to
// it; bug, if not empty, names an injected bug for readers.
func NewTarget(name, bug string, opts Options) *Target {
	return &Target{name: name, bug: bug, options: opts}
}

// Name implements interpose.Target.
func (t *Target) Name() string { return t.name }

// Options returns the target's options.
func (t *Target) Options() Options { return t.options }

// Spec implements interpose.Target.
func (t *Target) Spec(nodes int, seed uint64) interpose.TargetSpec {
	if nodes <= 0 {
		nodes = t.options.Nodes
	}
	if nodes <= 0 {
		nodes = 3
	}
	c := DefaultConfig(1)
	if t.options.Config != nil {
		t.options.Config(1, c)
	}
	spec := interpose.TargetSpec{
		Name:  t.name,
		Nodes: nodes,
		Seed:  seed,
		Bug:   t.bug,
		Config: map[string]string{
			"raft":                RaftVersion(),
			"heartbeat_timeout":   c.HeartbeatTimeout.String(),
			"election_timeout":    c.ElectionTimeout.String(),
			"leader_lease":        c.LeaderLeaseTimeout.String(),
			"commit_timeout":      c.CommitTimeout.String(),
			"snapshot_threshold":  strconv.FormatUint(c.SnapshotThreshold, 10),
			"snapshot_interval":   c.SnapshotInterval.String(),
			"trailing_logs":       strconv.FormatUint(c.TrailingLogs, 10),
			"prevote":             strconv.FormatBool(preVoteOn(c)),
			"shutdown_on_remove":  strconv.FormatBool(c.ShutdownOnRemove),
			"pipelining":          "declined",
			"heartbeat_fast_path": strconv.FormatBool(!t.options.SerialHeartbeats),
			"reseed":              ReseedSparse,
		},
	}
	if t.options.FailCallsToDown {
		spec.Config["calls_to_down"] = "fail"
	}
	if t.options.StaleReads {
		spec.Config["stale_reads"] = "true"
	}
	if t.options.VerifyReads {
		spec.Config["verify_reads"] = "true"
	}
	if t.options.BarrierReads {
		spec.Config["barrier_reads"] = "true"
	}
	if t.options.ReadIndex {
		spec.Config["read_index"] = "true"
	}
	if t.options.Model != nil {
		spec.Config["model"] = "true"
	}
	return spec
}

// MakeClient implements fuzz.ClientMaker with Options.Clients.
func (t *Target) MakeClient(r *rand.Rand) (string, bool) {
	if t.options.Clients == nil {
		return "", false
	}
	return t.options.Clients(r), true
}

// Model returns the target's model of its client operations
// (Options.Model), nil without: what a report needs to draw a history.
func (t *Target) Model() *invariants.Model { return t.options.Model }

// Open implements interpose.Target.
func (t *Target) Open(tt *testing.T, spec interpose.TargetSpec) (interpose.System, error) {
	return Open(tt, spec, t.options)
}

// Hold keeps the process in the state runs need (one P, collector off)
// until the returned function is called, so that a campaign opening
// thousands of clusters does not switch it for each one. Campaigns call it
// when a target has it; Open and Close work without it.
func (t *Target) Hold() (release func()) {
	enterRun()
	return exitRun
}

// RaftVersion describes the hashicorp/raft linked into this binary, as
// schedules record it (TargetSpec.Config["raft"]) and reports print it:
// "hashicorp/raft v1.8.0"; with a replace directive in go.mod, the
// replacement ("hashicorp/raft v1.8.1-fix (replaced by github.com/me/raft)");
// "hashicorp/raft (unknown version)" when the binary does not say. It is the
// code that ran, not the version faultline was developed against: a user's
// go.mod may require another. Computed once (package linked says how, and
// why a test binary needs a fallback).
func RaftVersion() string { return raftVersion() }

var raftVersion = sync.OnceValue(func() string {
	m := linked.Lookup("github.com/hashicorp/raft", raft.NewRaft)
	if m == (linked.Module{}) {
		return "hashicorp/raft (unknown version)"
	}
	return "hashicorp/raft " + m.String()
})
