package etcdraft

import (
	"bytes"
	cryptorand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	mathrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/faultline-dev/faultline/internal/linked"
	"github.com/faultline-dev/faultline/interpose"
)

// Options configure a target: the cluster and the raft.Config flags users
// set. The zero value is a 3-node cluster with etcd raft's defaults
// (ElectionTick 10, HeartbeatTick 1, no PreVote, no CheckQuorum,
// ReadOnlySafe, 256 messages in flight).
type Options struct {
	// Nodes is the cluster size (0: 3). A TargetSpec's Nodes overrides it.
	Nodes int
	// ElectionTick and HeartbeatTick (0: 10 and 1).
	ElectionTick, HeartbeatTick int
	PreVote, CheckQuorum        bool
	// LeaseReads is ReadOnlyLeaseBased (it needs CheckQuorum); off,
	// ReadOnlySafe.
	LeaseReads bool
	// MaxInflightMsgs (0: 256).
	MaxInflightMsgs int
	// KeepLeaderOnRemoval leaves a leader removed from the configuration
	// or demoted to a learner leading (raft.Config.StepDownOnRemoval
	// false, the library's default, which etcd-io/raft#83 means to drop):
	// it then leads a group it is not a voter of, which LeaderIsVoter
	// reports. Off (the zero value), it steps down.
	KeepLeaderOnRemoval bool
	// NewStateMachine returns a node's state machine at each start and
	// recovery (nil: a key-value store of "k=v" writes).
	NewStateMachine func(node int) StateMachine
	// NewStorage returns a node's durable storage, once per node per run:
	// it survives the node's crashes (nil: a raft.MemoryStorage, which
	// loses nothing). One that implements Crasher loses, at each crash,
	// what it had not made durable.
	NewStorage func(node int) Storage
	// SnapshotEvery takes a snapshot after that many entries applied
	// since the last, and compacts the log up to two entries before it
	// (0: 4).
	SnapshotEvery uint64

	// ForgetHardState injects a storage bug: at a crash, the node's
	// storage loses its hard state's term and vote (its commit index and
	// log stay), as a store that caches them and never syncs would.
	ForgetHardState bool
	// JointConsensus proposes each membership change as a ConfChangeV2
	// that goes through a joint configuration (ConfChangeTransitionJoint
	// Implicit: raft enters the joint configuration when the change
	// applies, and its leader proposes leaving it on its own) instead of a
	// one-step ConfChange.
	JointConsensus bool

	// AsyncStorageWrites is raft.Config's: the storage writes and the
	// applying of each Ready are messages to the node's append and apply
	// threads, each thread's oldest pending as a message from the node to
	// itself (MsgStorageAppend, MsgStorageApply), which a delivery carries
	// out before it sends its responses: acknowledgements wait for the
	// write, and the fuzzer orders writes against the network. A crash
	// loses the writes not yet done.
	AsyncStorageWrites bool

	// LoseUnsynced injects another: each Ready's entries and hard state
	// are made durable only when the node handles its next Ready, while
	// its messages, acknowledgements included, go out at once; a crash
	// loses what was not yet durable. With AsyncStorageWrites it is the
	// append thread's bug: each write is durable only when the thread
	// does its next, while its responses go out at once.
	LoseUnsynced bool
}

// StateMachine is a node's replicated state machine, what the application
// applies committed entries to: yours through Options.NewStateMachine. It
// does not survive a crash: a recovered node gets a new one, restored from
// its storage's snapshot, and replays the log after it. A panic in any of
// its methods is a violation (NoPanic: state machine), and its node stops.
type StateMachine interface {
	// Apply applies a committed client command, as the client sent it,
	// and returns the answer the client gets ("" for none).
	Apply(cmd []byte) string
	// Snapshot returns the state, for a snapshot of the log up to the
	// last command applied; Restore replaces the state with a snapshot's.
	Snapshot() ([]byte, error)
	Restore(snapshot []byte) error
}

// Storage is a node's durable raft storage: what etcd raft reads
// (raft.Storage) and what the application writes to it, with
// raft.MemoryStorage's methods (*raft.MemoryStorage is one). The adapter
// writes a Ready's snapshot, entries and hard state through it before the
// Ready's messages go out, as the library requires; a write that returns
// it takes for durable. An error from a write (other than
// raft.ErrCompacted and raft.ErrSnapOutOfDate, which MemoryStorage returns
// for writes already covered) is a violation (Storage), as is a panic
// (NoPanic), and the node stops, as a process whose disk failed would.
type Storage interface {
	raft.Storage
	Append(entries []*pb.Entry) error
	SetHardState(st *pb.HardState) error
	ApplySnapshot(snap *pb.Snapshot) error
	CreateSnapshot(i uint64, cs *pb.ConfState, data []byte) (*pb.Snapshot, error)
	Compact(compactIndex uint64) error
}

// Crasher is implemented by a Storage that loses state in a crash (a
// write-back cache, a file not yet synced). Crash is called once per crash
// of the node that owns the storage, after its RawNode is gone and before
// it is recovered. What it lost is reported (the entries from its log's
// end, its hard state's term and vote) and the views follow it.
type Crasher interface {
	Crash()
}

// kv is the default state machine: a key-value store of "k=v" writes.
type kv map[string]string

func (m kv) Apply(cmd []byte) string {
	if k, v, ok := strings.Cut(string(cmd), "="); ok {
		m[k] = v
	}
	return ""
}

func (m kv) Snapshot() ([]byte, error) { return json.Marshal(map[string]string(m)) } // in key order

func (m kv) Restore(data []byte) error {
	clear(m)
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, (*map[string]string)(&m))
}

// Target builds etcd raft clusters.
type Target struct {
	name, bug string
	opts      Options
}

// NewTarget returns a target. name is how schedule files and the CLI refer
// to it; bug, if not empty, names an injected bug for readers.
func NewTarget(name, bug string, opts Options) *Target {
	return &Target{name: name, bug: bug, opts: opts}
}

// Name implements interpose.Target.
func (t *Target) Name() string { return t.name }

// Options returns the target's options.
func (t *Target) Options() Options { return t.opts }

func (o Options) withDefaults() Options {
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	if o.ElectionTick <= 0 {
		o.ElectionTick = 10
	}
	if o.HeartbeatTick <= 0 {
		o.HeartbeatTick = 1
	}
	if o.MaxInflightMsgs <= 0 {
		o.MaxInflightMsgs = 256
	}
	if o.SnapshotEvery == 0 {
		o.SnapshotEvery = 4
	}
	return o
}

// Spec implements interpose.Target.
func (t *Target) Spec(nodes int, seed uint64) interpose.TargetSpec {
	o := t.opts.withDefaults()
	if nodes <= 0 {
		nodes = o.Nodes
	}
	readOnly := "safe"
	if o.LeaseReads {
		readOnly = "lease-based"
	}
	return interpose.TargetSpec{
		Name: t.name, Nodes: nodes, Seed: seed, Bug: t.bug,
		Config: map[string]string{
			"raft":                 Version(),
			"election_tick":        strconv.Itoa(o.ElectionTick),
			"heartbeat_tick":       strconv.Itoa(o.HeartbeatTick),
			"prevote":              strconv.FormatBool(o.PreVote),
			"check_quorum":         strconv.FormatBool(o.CheckQuorum),
			"read_only":            readOnly,
			"max_inflight":         strconv.Itoa(o.MaxInflightMsgs),
			"snapshot_every":       strconv.FormatUint(o.SnapshotEvery, 10),
			"step_down_on_removal": strconv.FormatBool(!o.KeepLeaderOnRemoval),
			"state_machine":        stateMachine(o),
			"storage":              storage(o),
			"conf_change":          confChange(o),
			"tick":                 Tick.String(),
			"election_timeout":     (time.Duration(o.ElectionTick) * Tick).String(),
		},
	}
}

// proposal is a client write in flight: the node it was proposed to and,
// for the built-in key-value store, its operation of the history.
type proposal struct {
	node int
	op   *interpose.ClientOp
}

// readState is a read the leader answered with the index it must wait for.
type readState struct {
	event int
	index uint64
}

// tagSep separates a client write's payload from the index of the event
// that proposed it, in its entry.
const tagSep = "|event "

// Tick is the notional time of a tick: what an advance records it took, so
// that a stabilization phase measured in election timeouts knows how long
// its clocks ran.
const Tick = 100 * time.Millisecond

func confChange(o Options) string {
	if o.JointConsensus {
		return "v2-joint-implicit"
	}
	return "v1"
}

func storage(o Options) string {
	s := "synchronous"
	if o.AsyncStorageWrites {
		s = "asynchronous"
	}
	if o.NewStorage != nil {
		s += ", the target's own"
	}
	return s
}

func stateMachine(o Options) string {
	if o.NewStateMachine != nil {
		return "the target's own"
	}
	return "key-value (k=v writes)"
}

// Version is the etcd raft linked into the binary ("go.etcd.io/raft/v3
// v3.7.0").
func Version() string { return version() }

var version = sync.OnceValue(func() string {
	m := linked.Lookup("go.etcd.io/raft/v3", raft.NewRawNode)
	if m == (linked.Module{}) {
		return "go.etcd.io/raft/v3 (unknown version)"
	}
	return "go.etcd.io/raft/v3 " + m.String()
})

// Open implements interpose.Target.
func (t *Target) Open(_ *testing.T, spec interpose.TargetSpec) (interpose.System, error) {
	if spec.Nodes < 1 {
		return nil, fmt.Errorf("etcdraft: %d nodes; need at least 1", spec.Nodes)
	}
	o := t.opts.withDefaults()
	if o.NewStorage != nil && o.LoseUnsynced {
		return nil, errors.New("etcdraft: LoseUnsynced injects its bug into the built-in storage, not into Options.NewStorage's")
	}
	c := &Cluster{opts: o, nodes: make([]*node, spec.Nodes+1), proposals: map[int]proposal{}, reads: map[int]interpose.ClientOp{}, removed: map[int]bool{},
		rand: seeded(spec.Seed)}
	for id := 1; id <= spec.Nodes; id++ {
		c.nodes[id] = &node{id: id}
	}
	c.sum = c.fl.Summarize()
	return c, nil
}

// Cluster is a running etcd raft cluster under control.
type Cluster struct {
	opts  Options
	nodes []*node                         // 1-based
	fl    interpose.Inflight[*pb.Message] // messages in flight, in canonical order
	// sum is fl's summary; flagsStale says the Deliverable flags are to be
	// set again (a node went up or down, the network changed).
	sum        *interpose.Summary
	flagsStale bool
	net        interpose.Network
	sent       []interpose.Msg // what an advance's ticks sent
	// proposals are the client writes not yet applied by the node they
	// were proposed to, by the index of the event that proposed them; reads
	// the ReadIndex reads not yet answered.
	proposals map[int]proposal
	reads     map[int]interpose.ClientOp
	at        int // the event being applied, numbered from 1: a history's clock
	// removed are the nodes a committed configuration change removed:
	// etcd raft takes an id once only ("A given ID MUST be used only once
	// even if the old node has been removed"), so none is added again.
	removed map[int]bool
	obs     interpose.View // observed since the last View
	out     interpose.View
	// rand is etcd raft's randomness (its randomized election timeouts),
	// seeded by the spec's seed: raft draws it from crypto/rand.Reader,
	// which Apply points at it while it runs.
	rand io.Reader
}

// seeded returns a deterministic stream of random bytes from seed.
func seeded(seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return mathrand.NewChaCha8(key)
}

// randMu serializes the clusters' use of crypto/rand.Reader: raft reads
// the package variable, so a cluster's events run with it pointed at the
// cluster's own stream (two clusters of one process, in tests, take
// turns). randPrev, held under it, is the reader to put back.
var (
	randMu   sync.Mutex
	randPrev io.Reader
)

// useRand points crypto/rand.Reader at the cluster's stream until
// restoreRand: a pair rather than a returned closure, which would be an
// allocation on every event.
func (c *Cluster) useRand() {
	randMu.Lock()
	randPrev, cryptorand.Reader = cryptorand.Reader, c.rand
}

func restoreRand() {
	cryptorand.Reader, randPrev = randPrev, nil
	randMu.Unlock()
}

type node struct {
	id          int
	started, up bool
	gone        bool // it applied its own removal, and stopped for good
	// removed are the ids whose removal the node applied (or its snapshot
	// holds): a change that adds one back is applied with no node.
	removed       map[int]bool
	ms            Storage
	rn            *raft.RawNode
	sm            StateMachine
	applied, snap uint64
	cs            *pb.ConfState
	// synced is what LoseUnsynced keeps at a crash: the entries up to
	// lastSynced and the hard state as of the node's previous Ready.
	lastSynced uint64
	syncedHS   *pb.HardState
	readWait   []readState // ReadIndex answers waiting for the node to apply up to their index
	// appendQ and applyQ are the writes queued to the node's append and
	// apply threads (AsyncStorageWrites), oldest first; the first of each
	// is in flight when busy says so.
	appendQ, applyQ []*pb.Message
	busy            [2]bool
	facts           interpose.RaftState
	// config is cs as its facts publish it, made again only when cs
	// changes (a configuration applied, a snapshot installed, a restart):
	// a published one is never changed.
	config   *interpose.RaftConfig
	configOf *pb.ConfState
}

// quiet is raft's logger: it says nothing, and formats nothing (raft logs
// at Info on every election and restart, and a logger writing to
// io.Discard still formatted it: 13% of an event). Fatal and Panic panic,
// as a finding (NoPanic), where raft's default logger would exit the
// process on Fatal.
type quiet struct{}

func (quiet) Debug(...any)            {}
func (quiet) Debugf(string, ...any)   {}
func (quiet) Error(...any)            {}
func (quiet) Errorf(string, ...any)   {}
func (quiet) Info(...any)             {}
func (quiet) Infof(string, ...any)    {}
func (quiet) Warning(...any)          {}
func (quiet) Warningf(string, ...any) {}
func (quiet) Fatal(v ...any)          { panic(fmt.Sprint(v...)) }
func (quiet) Fatalf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
func (quiet) Panic(v ...any)            { panic(fmt.Sprint(v...)) }
func (quiet) Panicf(f string, v ...any) { panic(fmt.Sprintf(f, v...)) }

var logger raft.Logger = quiet{}

func id(n uint64) int { return int(n) }

// Nodes implements interpose.System.
func (c *Cluster) Nodes() int { return len(c.nodes) - 1 }

// State implements interpose.System.
func (c *Cluster) State(i int) interpose.NodeState {
	if i < 1 || i >= len(c.nodes) || !c.nodes[i].started {
		return interpose.NotStarted
	}
	if c.nodes[i].up {
		return interpose.Up
	}
	return interpose.Down
}

// MarksRepeats implements interpose.Grouper: its Inflight marks them, and
// messages of one fingerprint share their source and destination.
func (*Cluster) MarksRepeats() {}

// Pending implements interpose.System. The slice is valid until the next
// event and must not be changed.
func (c *Cluster) Pending() []interpose.Message {
	if c.flagsStale {
		for i := range c.fl.Msgs {
			c.fl.SetFlags(i, false, c.deliverable(i))
		}
		c.flagsStale = false
	}
	return c.fl.Msgs
}

// Summary implements interpose.Summarizer.
func (c *Cluster) Summary() *interpose.Summary {
	c.Pending() // flags set again after a change of nodes or network
	return c.sum
}

func (c *Cluster) deliverable(i int) bool {
	m := c.fl.Msgs[i].Msg
	return c.nodes[m.To].up && c.net.Passes(m.From, m.To)
}

// requests are the messages a duplicate may copy: those that ask for an
// answer or carry a leader's word. Not MsgProp: a proposal forwarded to the
// leader is a client's command, which raft appends as often as it comes;
// an application that must survive a duplicated one deduplicates it by a
// request id of its own (etcd's server does), which the built-in store does
// not: duplicating one applies a write twice, a lost update the
// fuzzer found in our first version (Linearizability, 3,334 runs in).
var requests = map[pb.MessageType]bool{pb.MsgApp: true, pb.MsgSnap: true, pb.MsgVote: true, pb.MsgPreVote: true,
	pb.MsgHeartbeat: true, pb.MsgTimeoutNow: true, pb.MsgReadIndex: true}

// keyTerm reads the term a fingerprint's key begins with ("term=3 ...").
func keyTerm(key string) (uint64, bool) {
	v, ok := strings.CutPrefix(key, "term=")
	if !ok {
		return 0, false
	}
	v, _, _ = strings.Cut(v, " ")
	t, err := strconv.ParseUint(v, 10, 64)
	return t, err == nil
}

// typeNames are the message types' names: protobuf's String looks each
// up through reflection, 8% of a minimizer's time.
var typeNames = func() []string {
	var names []string
	for v := range pb.MessageType_name {
		if v >= 0 && int(v) < 1<<10 {
			for len(names) <= int(v) {
				names = append(names, "")
			}
			names[v] = pb.MessageType(v).String()
		}
	}
	return names
}()

// typeName is t.String().
func typeName(t pb.MessageType) string {
	if t >= 0 && int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return t.String()
}

// fingerprint is a message's type and the fields that tell two of a type
// apart.
func fingerprint(m *pb.Message) interpose.Msg {
	t := m.GetType()
	var buf [96]byte
	b := append(buf[:0], "term="...)
	b = strconv.AppendUint(b, m.GetTerm(), 10)
	field := func(name string, v uint64) {
		b = append(b, ' ')
		b = append(b, name...)
		b = append(b, '=')
		b = strconv.AppendUint(b, v, 10)
	}
	switch t {
	case pb.MsgApp:
		field("index", m.GetIndex())
		field("logterm", m.GetLogTerm())
		field("commit", m.GetCommit())
		field("entries", uint64(len(m.GetEntries())))
	case pb.MsgAppResp:
		field("index", m.GetIndex())
		if m.GetReject() {
			b = append(b, " reject"...)
			field("hint", m.GetRejectHint())
		}
	case pb.MsgVote, pb.MsgPreVote:
		field("index", m.GetIndex())
		field("logterm", m.GetLogTerm())
	case pb.MsgVoteResp, pb.MsgPreVoteResp:
		if m.GetReject() {
			b = append(b, " reject"...)
		}
	case pb.MsgHeartbeat:
		field("commit", m.GetCommit())
	case pb.MsgSnap:
		field("index", m.GetSnapshot().GetMetadata().GetIndex())
	case pb.MsgProp:
		field("entries", uint64(len(m.GetEntries())))
	case pb.MsgReadIndex, pb.MsgReadIndexResp:
		field("index", m.GetIndex())
	}
	return interpose.Msg{Type: typeName(t), From: id(m.GetFrom()), To: id(m.GetTo()), Key: string(b)}
}

// send puts a message of n in flight (or steps n with one to itself).
func (c *Cluster) send(n *node, m *pb.Message) {
	to := id(m.GetTo())
	if to == n.id {
		_ = n.rn.Step(m)
		return
	}
	if to < 1 || to >= len(c.nodes) {
		return // to a node this cluster does not have
	}
	switch m.GetType() {
	case pb.MsgApp, pb.MsgSnap, pb.MsgHeartbeat:
		c.obs.Claims = append(c.obs.Claims, interpose.Claim{Node: n.id, Term: m.GetTerm()})
	}
	fp := fingerprint(m)
	c.sent = append(c.sent, fp)
	c.insert(fp, m)
}

func (c *Cluster) insert(fp interpose.Msg, m *pb.Message) { c.put(fp, m, requests[m.GetType()]) }

// put puts a message in flight with its flags.
func (c *Cluster) put(fp interpose.Msg, m *pb.Message, request bool) {
	_, at := c.fl.Insert(fp, m, request)
	c.fl.SetFlags(at, false, c.deliverable(at))
}

// up returns node id when it is up.
func (c *Cluster) up(id int) (*node, error) {
	if n := c.nodes[id]; n.up {
		return n, nil
	}
	return nil, notEnabled("n%d is down", id)
}

// leavesNoVoter reports whether a change of type typ to node peer would
// leave configuration cs without a voter, which etcd raft panics applying.
func leavesNoVoter(cs *pb.ConfState, typ pb.ConfChangeType, peer uint64) bool {
	return typ != pb.ConfChangeAddNode && !slices.ContainsFunc(cs.GetVoters(), func(v uint64) bool { return v != peer })
}

func notEnabled(format string, args ...any) error {
	return fmt.Errorf("etcdraft: %s: %w", fmt.Sprintf(format, args...), interpose.ErrNotEnabled)
}

// Apply implements interpose.System.
func (c *Cluster) Apply(index int, ev interpose.Event) (out interpose.Event, err error) {
	switch ev.Kind {
	case interpose.Deliver, interpose.Drop, interpose.Duplicate:
		if ev.Msg == nil {
			return ev, fmt.Errorf("etcdraft: %s without a message", ev.Kind)
		}
	case interpose.Partition, interpose.Heal:
	default:
		if ev.Node < 1 || ev.Node >= len(c.nodes) {
			return ev, fmt.Errorf("etcdraft: no node n%d", ev.Node)
		}
	}
	c.useRand()
	defer restoreRand()
	// etcd raft panics on what it takes for a corrupted log (a commit index
	// past the log's end, say): a finding, not faultline's crash.
	defer func() {
		if p := recover(); p != nil {
			node := ev.Node
			if ev.Msg != nil && ev.Kind == interpose.Deliver {
				node = ev.Msg.To
			}
			c.obs.Faults = append(c.obs.Faults, interpose.Violation{Invariant: "NoPanic",
				Fingerprint: "NoPanic: etcd raft: " + interpose.StableText(fmt.Sprint(p)),
				Detail:      fmt.Sprintf("n%d: etcd raft panicked: %v", node, p)})
			if node >= 1 && node < len(c.nodes) {
				c.stop(c.nodes[node])
			}
			out, err = ev, nil
		}
	}()
	ev.Result = ""
	c.at = index + 1
	switch ev.Kind {
	case interpose.Deliver:
		i := c.fl.FindAt(ev.Msg, ev.Hint)
		if i < 0 || !c.deliverable(i) {
			return ev, notEnabled("no deliverable %s", ev.Msg)
		}
		fp, m := c.fl.Msgs[i].Msg, c.fl.Load[i]
		ev.Msg = interpose.Named(ev.Msg, &c.fl.Msgs[i].Msg)
		c.fl.RemoveAt(i)
		n := c.nodes[fp.To]
		if localTypes[fp.Type] {
			c.threadDone(n, m)
			break
		}
		if err := n.rn.Step(m); err != nil {
			ev.Result = "ignored: " + err.Error()
		}
		c.ready(n)
		if from := c.nodes[fp.From]; m.GetType() == pb.MsgSnap && from.up {
			// A transport tells the sender its snapshot went through
			// (etcd's does once it is sent): without it, a leader whose
			// log was compacted past the snapshot meanwhile waits in
			// StateSnapshot for ever.
			from.rn.ReportSnapshot(uint64(fp.To), raft.SnapshotFinish)
			c.ready(from)
		}
	case interpose.Drop:
		i := c.fl.FindAt(ev.Msg, ev.Hint)
		if i < 0 {
			return ev, notEnabled("no pending %s", ev.Msg)
		}
		if localTypes[c.fl.Msgs[i].Msg.Type] {
			return ev, notEnabled("a node's own storage write is not the network's to lose")
		}
		fp, m := c.fl.Msgs[i].Msg, c.fl.Load[i]
		ev.Msg = interpose.Named(ev.Msg, &c.fl.Msgs[i].Msg)
		c.fl.RemoveAt(i)
		if from := c.nodes[fp.From]; from.up {
			// What a transport tells the sender of a message it lost.
			if m.GetType() == pb.MsgSnap {
				from.rn.ReportSnapshot(uint64(fp.To), raft.SnapshotFailure)
			} else {
				from.rn.ReportUnreachable(uint64(fp.To))
			}
			c.ready(from)
		}
	case interpose.Duplicate:
		i := c.fl.FindAt(ev.Msg, ev.Hint)
		if i < 0 || !c.fl.Msgs[i].Request {
			return ev, notEnabled("no pending request %s", ev.Msg)
		}
		fp := c.fl.Msgs[i].Msg
		ev.Msg = interpose.Named(ev.Msg, &c.fl.Msgs[i].Msg)
		c.insert(fp, proto.Clone(c.fl.Load[i]).(*pb.Message))
	case interpose.Advance:
		n, err := c.up(ev.Node)
		if err != nil {
			return ev, err
		}
		// Ticks until the node sends something (what Until names, when
		// set), as its clock would advance to its next timeout. Took is
		// the ticks' notional time, for the stabilization phase's
		// clocks; a replay given one ticks until the same message again:
		// how many ticks a follower's election takes is drawn at random
		// (seeded, but a minimizer's candidate draws in another order). A
		// walk's advance stops at the first message, or
		// after four election timeouts (a node that never campaigns); a
		// replay's may have to go through several elections to reach the
		// message it names (a minimized schedule whose earlier elections
		// were removed), each 1 to 2 election timeouts long at random:
		// its bound is far above what any such run needs, so that the
		// draws never decide where it stops.
		//
		// A replay's advance whose message can no longer come (the node
		// is past its term: a minimizer's candidate without the events
		// that led there) stops at once, not after its long bound: each
		// message carries its sender's term, and terms only grow. It is
		// recorded as an advance to its cap (UntilN -1) of the ticks it
		// took, which a replay of the recorded schedule ticks exactly, as
		// the candidate did, whatever the node sends on the way.
		c.sent = c.sent[:0]
		if ev.Until == nil && ev.UntilN < 0 {
			ticks := int(ev.Took / Tick)
			if ticks <= 0 {
				ticks = 4 * c.opts.ElectionTick
			}
			for i := 0; i < ticks && n.up; i++ {
				n.rn.Tick()
				c.ready(n)
			}
			ev.Took = time.Duration(ticks) * Tick
			break
		}
		limit, ticks := 4*c.opts.ElectionTick, 0
		past := func() bool { return false }
		if ev.Until != nil && ev.Until.Key != "" {
			limit = 100 * c.opts.ElectionTick
			if term, ok := keyTerm(ev.Until.Key); ok {
				want := *ev.Until
				campaign := want.Type == typeName(pb.MsgVote) || want.Type == typeName(pb.MsgPreVote)
				past = func() bool {
					st := n.rn.BasicStatus()
					t := st.HardState.GetTerm()
					if t > term || campaign && t >= term {
						return true
					}
					if term > t+1 && int(term-t-1)*c.opts.ElectionTick > limit-ticks {
						// Each election its clock starts moves its term
						// by one at most, and takes an election timeout
						// at least: the term is out of the bound's reach.
						return true
					}
					if st.RaftState == raft.StateFollower && !slices.Contains(n.cs.GetVoters(), uint64(n.id)) &&
						!slices.Contains(n.cs.GetVotersOutgoing(), uint64(n.id)) {
						return true // a follower that is no voter sends nothing by its clock
					}
					if campaign && st.RaftState == raft.StateLeader && !c.opts.CheckQuorum {
						// A leader that does not check its quorum
						// never campaigns by its clock: it would send
						// heartbeats until the bound, thousands of them.
						return true
					}
					for _, m := range c.sent {
						if mt, _ := keyTerm(m.Key); mt > term {
							return true // campaigning past it (a pre-vote does not store its term)
						}
						if want.Type == typeName(pb.MsgHeartbeat) && m.Type == want.Type && m.To == want.To {
							// A leader's heartbeats carry its commit
							// index, which ticks alone do not move: one
							// with another is all it will send.
							return true
						}
					}
					return false
				}
			}
		}
		var until *interpose.Msg
		for ticks < limit && until == nil && n.up {
			n.rn.Tick()
			ticks++
			c.ready(n)
			for i := range c.sent {
				if ev.Until == nil || ev.Until.Matches(c.sent[i]) {
					u := c.sent[i] // c.sent is reused: the event keeps a copy
					until = &u
					break
				}
			}
			if until == nil && n.up && past() {
				break
			}
		}
		untilN := 0
		if until == nil && ev.Until != nil {
			untilN = -1 // its message did not come: an advance to its cap
		}
		ev.Until, ev.UntilN, ev.Took = until, untilN, time.Duration(ticks)*Tick
	case interpose.Start:
		n := c.nodes[ev.Node]
		if n.started {
			return ev, notEnabled("n%d already started", n.id)
		}
		n.started = true
		n.ms = c.newStorage(n.id)
		voters := make([]uint64, 0, len(c.nodes)-1)
		for i := 1; i < len(c.nodes); i++ {
			voters = append(voters, uint64(i))
		}
		bootstrap := &pb.Snapshot{Metadata: &pb.SnapshotMetadata{ConfState: &pb.ConfState{Voters: voters}}}
		if !c.store(n, "ApplySnapshot", func() error { return n.ms.ApplySnapshot(bootstrap) }) {
			break // the storage failed: the node stays down, the violation says why
		}
		if err := c.boot(n); err != nil {
			return ev, err
		}
	case interpose.Crash:
		n, err := c.up(ev.Node)
		if err != nil {
			return ev, err
		}
		c.crash(n)
	case interpose.Recover:
		n := c.nodes[ev.Node]
		if !n.started || n.up || n.gone {
			return ev, notEnabled("n%d is not down, or was removed", n.id)
		}
		if err := c.boot(n); err != nil {
			return ev, err
		}
	case interpose.Client:
		n, err := c.up(ev.Node)
		if err != nil {
			return ev, err
		}
		// Operations of the built-in key-value store are a history,
		// checked for linearizability: reads ("?k") by ReadIndex, answered
		// once the node applied up to the index the leader gives.
		var op *interpose.ClientOp
		if key, value, write, ok := kvOp(ev.Data); ok && c.opts.NewStateMachine == nil {
			op = &interpose.ClientOp{Event: c.at, Node: n.id, Key: key, Value: value, Write: write, Call: c.at, Return: c.at, Pending: true}
			c.obs.Ops = append(c.obs.Ops, *op)
			if !write {
				c.reads[index] = *op
				n.rn.ReadIndex([]byte(strconv.Itoa(index)))
				ev.Result = "pending read"
				c.ready(n)
				break
			}
		}
		// The entry carries the event that proposed it, so that the
		// client hears when its node applies it (a Completion, "index
		// N"), wherever the proposal was forwarded.
		if err := n.rn.Propose([]byte(ev.Data + tagSep + strconv.Itoa(index))); err != nil {
			ev.Result = "dropped: " + err.Error()
			if op != nil {
				op.Failed = true // refused: it did not happen
				c.obs.Ops = append(c.obs.Ops, *op)
			}
			break
		}
		c.proposals[index] = proposal{node: n.id, op: op}
		ev.Result = "pending"
		c.ready(n)
	case interpose.Membership:
		n, err := c.up(ev.Node)
		if err != nil {
			return ev, err
		}
		if ev.Peer < 1 || ev.Peer >= len(c.nodes) {
			return ev, notEnabled("no node n%d to change", ev.Peer)
		}
		typ, ok := map[string]pb.ConfChangeType{interpose.AddVoter: pb.ConfChangeAddNode, interpose.AddNonvoter: pb.ConfChangeAddLearnerNode,
			interpose.DemoteVoter: pb.ConfChangeAddLearnerNode, interpose.RemoveServer: pb.ConfChangeRemoveNode}[ev.Op]
		if !ok {
			return ev, fmt.Errorf("etcdraft: unknown membership operation %q", ev.Op)
		}
		if c.removed[ev.Peer] {
			ev.Result = fmt.Sprintf("refused: n%d was removed, and etcd raft never takes an id again", ev.Peer)
			break
		}
		if leavesNoVoter(n.cs, typ, uint64(ev.Peer)) {
			// etcd raft panics applying a change that leaves no voter;
			// an application checks, as etcd's server does.
			ev.Result = "refused: it would leave no voter"
			break
		}
		var cc pb.ConfChangeI = &pb.ConfChange{Type: typ.Enum(), NodeId: proto.Uint64(uint64(ev.Peer))}
		if c.opts.JointConsensus {
			cc = &pb.ConfChangeV2{Transition: pb.ConfChangeTransitionJointImplicit.Enum(),
				Changes: []*pb.ConfChangeSingle{{Type: typ.Enum(), NodeId: proto.Uint64(uint64(ev.Peer))}}}
		}
		if err := n.rn.ProposeConfChange(cc); err != nil {
			ev.Result = "dropped: " + err.Error()
			break
		}
		c.ready(n)
	case interpose.Transfer:
		n, err := c.up(ev.Node)
		if err != nil {
			return ev, err
		}
		if ev.Peer < 1 || ev.Peer >= len(c.nodes) {
			return ev, notEnabled("no node n%d to transfer to", ev.Peer)
		}
		n.rn.TransferLeader(uint64(ev.Peer))
		c.ready(n)
	case interpose.Partition:
		c.net.Cut(ev, len(c.nodes)-1)
		c.flagsStale = true
	case interpose.Heal:
		if !c.net.Heal() {
			return ev, notEnabled("the network is whole")
		}
		c.flagsStale = true
	case interpose.Disk, interpose.Choice:
		return ev, notEnabled("etcdraft takes no %s events", ev.Kind)
	default:
		return ev, fmt.Errorf("etcdraft: unknown event kind %q", ev.Kind)
	}
	return ev, nil
}

// boot starts (or restarts) a node's RawNode over its storage, with its
// state machine rebuilt from the storage's snapshot.
func (c *Cluster) boot(n *node) error {
	var snap *pb.Snapshot
	if !c.store(n, "Snapshot", func() (err error) { snap, err = n.ms.Snapshot(); return err }) {
		return nil // the storage failed: the node stays down, the violation says why
	}
	n.sm = c.newStateMachine(n.id)
	if !c.restore(n, snap.GetData()) {
		return nil // the state machine failed: the node stays down, the violation says why
	}
	n.snap = snap.GetMetadata().GetIndex()
	n.applied = n.snap
	n.cs = proto.Clone(pb.EnsureConfState(snap.GetMetadata().GetConfState())).(*pb.ConfState)
	last, _ := n.ms.LastIndex()
	n.lastSynced = last
	hs, _, _ := n.ms.InitialState()
	n.syncedHS = cloneHS(hs)
	cfg := &raft.Config{
		ID: uint64(n.id), ElectionTick: c.opts.ElectionTick, HeartbeatTick: c.opts.HeartbeatTick,
		Storage: n.ms, Applied: n.applied, MaxSizePerMsg: 1 << 20, MaxInflightMsgs: c.opts.MaxInflightMsgs,
		CheckQuorum: c.opts.CheckQuorum, PreVote: c.opts.PreVote, Logger: logger,
		StepDownOnRemoval: !c.opts.KeepLeaderOnRemoval, AsyncStorageWrites: c.opts.AsyncStorageWrites,
	}
	if c.opts.LeaseReads {
		cfg.ReadOnlyOption = raft.ReadOnlyLeaseBased
	}
	rn, err := raft.NewRawNode(cfg)
	if err != nil {
		return fmt.Errorf("etcdraft: start n%d: %w", n.id, err)
	}
	n.rn, n.up = rn, true
	c.flagsStale = true
	c.ready(n)
	return nil
}

// crash stops a node: its RawNode and state machine are lost, its storage
// stays, less what an injected bug or a Crasher loses.
func (c *Cluster) crash(n *node) {
	c.stop(n)
	n.readWait = nil // its reads go unanswered: they stay pending
	if cr, ok := n.ms.(Crasher); ok {
		c.lose(n, "", func() bool { return c.store(n, "Crash", func() error { cr.Crash(); return nil }) })
	}
	if c.opts.LoseUnsynced {
		c.lose(n, ", which it had acknowledged", func() bool {
			n.ms = rebuild(n.ms.(*raft.MemoryStorage), n.lastSynced, n.syncedHS)
			return true
		})
	}
	if c.opts.ForgetHardState {
		hs, _, _ := n.ms.InitialState()
		switch {
		case hs.GetVote() != 0:
			c.obs.Losses = append(c.obs.Losses, fmt.Sprintf("n%d's storage lost its term (%d, now 0) and its vote for n%d at its crash", n.id, hs.GetTerm(), hs.GetVote()))
		case hs.GetTerm() != 0:
			c.obs.Losses = append(c.obs.Losses, fmt.Sprintf("n%d's storage lost its term (%d, now 0) at its crash", n.id, hs.GetTerm()))
		}
		_ = n.ms.SetHardState(&pb.HardState{Commit: proto.Uint64(hs.GetCommit())})
	}
}

// lose runs a crash's loss of the node's storage (a Crasher's, an
// injected bug's; false when it failed) and reports what went: its hard
// state's term and vote, and the entries at its log's end (a truncation,
// which the views' logs follow), those said with what.
func (c *Cluster) lose(n *node, what string, loss func() bool) {
	last, _ := n.ms.LastIndex()
	hs, _, _ := n.ms.InitialState()
	hs = cloneHS(hs)
	if !loss() {
		return
	}
	if now, _, _ := n.ms.InitialState(); now.GetTerm() != hs.GetTerm() || now.GetVote() != hs.GetVote() {
		c.obs.Losses = append(c.obs.Losses, fmt.Sprintf("n%d's storage lost its term %d and vote for n%d (back to term %d, vote for n%d) at its crash",
			n.id, hs.GetTerm(), hs.GetVote(), now.GetTerm(), now.GetVote()))
	}
	if kept, _ := n.ms.LastIndex(); kept < last {
		c.obs.LogOps = append(c.obs.LogOps, interpose.LogOp{Node: n.id, Kind: interpose.LogTruncate, Index: kept + 1, Hi: last})
		c.obs.Losses = append(c.obs.Losses, fmt.Sprintf("n%d's storage lost entries %d..%d%s at its crash", n.id, kept+1, last, what))
	}
}

// newStorage returns a node's storage: the target's own, or a
// MemoryStorage.
func (c *Cluster) newStorage(node int) Storage {
	if c.opts.NewStorage != nil {
		return c.opts.NewStorage(node)
	}
	return raft.NewMemoryStorage()
}

// store runs a call into the node's storage: an error (other than those
// MemoryStorage returns for a write already covered) or a panic is a
// violation and the node stops; store reports whether the call went well.
func (c *Cluster) store(n *node, method string, call func() error) bool {
	return c.call(n, "storage", "Storage", method, func() error {
		if err := call(); !errors.Is(err, raft.ErrCompacted) && !errors.Is(err, raft.ErrSnapOutOfDate) {
			return err
		}
		return nil
	})
}

// call runs a call into a part of the user's (the state machine, the
// storage): a panic is NoPanic, an error a violation of invariant, and
// either stops the node, as a process whose part failed would; call
// reports whether it went well.
func (c *Cluster) call(n *node, part, invariant, method string, f func() error) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			c.obs.Faults = append(c.obs.Faults, interpose.Violation{Invariant: "NoPanic",
				Fingerprint: "NoPanic: " + part + " " + method + ": " + interpose.StableText(fmt.Sprint(p)),
				Detail:      fmt.Sprintf("n%d: the %s's %s panicked: %v", n.id, part, method, p)})
			c.stop(n)
			ok = false
		}
	}()
	if err := f(); err != nil {
		c.obs.Faults = append(c.obs.Faults, interpose.Violation{Invariant: invariant,
			Fingerprint: invariant + ": " + method + " failed",
			Detail:      fmt.Sprintf("n%d: the %s's %s failed: %v", n.id, part, method, err)})
		c.stop(n)
		return false
	}
	return true
}

func (c *Cluster) newStateMachine(node int) StateMachine {
	if c.opts.NewStateMachine != nil {
		return c.opts.NewStateMachine(node)
	}
	return kv{}
}

// guard runs a call into the node's state machine: a panic or an error is
// a violation, and the node stops (as a process whose state machine failed
// would); guard reports whether the call went well.
func (c *Cluster) guard(n *node, method string, f func() error) bool {
	return c.call(n, "state machine", "StateMachine", method, f)
}

// rebuild returns a storage with ms's snapshot, its entries up to last and
// hard state hs (its commit no further than last).
func rebuild(ms *raft.MemoryStorage, last uint64, hs *pb.HardState) *raft.MemoryStorage {
	out := raft.NewMemoryStorage()
	snap, _ := ms.Snapshot()
	if snap.GetMetadata().GetIndex() > 0 {
		_ = out.ApplySnapshot(snap)
	} else {
		_ = out.ApplySnapshot(&pb.Snapshot{Metadata: &pb.SnapshotMetadata{ConfState: snap.GetMetadata().GetConfState()}})
	}
	first, _ := ms.FirstIndex()
	if l, _ := ms.LastIndex(); last > l {
		last = l // a later Ready replaced the log's end: what is left of it
	}
	if last >= first {
		ents, _ := ms.Entries(first, last+1, 1<<62)
		_ = out.Append(ents)
	}
	hs = cloneHS(hs)
	// The commit index stays within what was kept: no further than the
	// log, no nearer than the snapshot (which the application wrote after
	// applying up to it).
	snapIndex := snap.GetMetadata().GetIndex()
	hs.Commit = proto.Uint64(min(max(hs.GetCommit(), snapIndex), max(last, snapIndex)))
	_ = out.SetHardState(hs)
	return out
}

// ready handles the node's Readys until it has none, as etcd raft asks of
// a synchronous application: the snapshot, entries and hard state to
// storage, then the messages out, then the committed entries applied. With
// AsyncStorageWrites the storage writes and the applying are messages to
// the node's append and apply threads instead (readyAsync).
func (c *Cluster) ready(n *node) {
	if c.opts.AsyncStorageWrites {
		c.readyAsync(n)
		return
	}
	for n.up && n.rn.HasReady() {
		rd := n.rn.Ready()
		c.synced(n) // what the previous Ready wrote
		if !c.persist(n, rd.Snapshot, rd.Entries, rd.HardState) {
			return
		}
		for _, m := range rd.Messages {
			c.send(n, m)
		}
		c.readStates(n, rd.ReadStates)
		if !c.applyEntries(n, rd.CommittedEntries) {
			return
		}
		n.rn.Advance(rd)
		if c.afterApply(n); !n.up {
			return
		}
	}
}

// synced makes what the node's storage holds durable, for LoseUnsynced:
// what a crash keeps.
func (c *Cluster) synced(n *node) {
	if !c.opts.LoseUnsynced {
		return
	}
	n.lastSynced, _ = n.ms.LastIndex()
	hs, _, _ := n.ms.InitialState()
	n.syncedHS = cloneHS(hs)
}

// persist writes a Ready's (or a MsgStorageAppend's) snapshot, entries and
// hard state to the node's storage, in that order, and restores its state
// machine from the snapshot; false when the state machine failed and the
// node stopped.
func (c *Cluster) persist(n *node, snap *pb.Snapshot, ents []*pb.Entry, hs *pb.HardState) bool {
	st := n.rn.BasicStatus()
	leader, term := st.RaftState == raft.StateLeader, st.HardState.GetTerm()
	if snap != nil && !raft.IsEmptySnap(snap) {
		md := snap.GetMetadata()
		if last, _ := n.ms.LastIndex(); last > md.GetIndex() {
			// The storage keeps the snapshot alone: the entries after
			// it go too.
			c.obs.LogOps = append(c.obs.LogOps, interpose.LogOp{Node: n.id, Kind: interpose.LogTruncate, Index: md.GetIndex() + 1, Hi: last, Leader: leader, NodeTerm: term})
		}
		if !c.store(n, "ApplySnapshot", func() error { return n.ms.ApplySnapshot(snap) }) || !c.restore(n, snap.GetData()) {
			return false
		}
		n.snap, n.applied = md.GetIndex(), md.GetIndex()
		n.cs = proto.Clone(pb.EnsureConfState(md.GetConfState())).(*pb.ConfState)
		c.obs.LogOps = append(c.obs.LogOps, interpose.LogOp{Node: n.id, Kind: interpose.LogCompact, Hi: md.GetIndex(), Leader: leader, NodeTerm: term})
	}
	if len(ents) > 0 {
		first := ents[0].GetIndex()
		if last, _ := n.ms.LastIndex(); first <= last {
			c.obs.LogOps = append(c.obs.LogOps, interpose.LogOp{Node: n.id, Kind: interpose.LogTruncate, Index: first, Hi: last, Leader: leader, NodeTerm: term})
		}
		if !c.store(n, "Append", func() error { return n.ms.Append(ents) }) {
			return false
		}
		for _, e := range ents {
			c.obs.LogOps = append(c.obs.LogOps, interpose.LogOp{Node: n.id, Kind: interpose.LogStore, Index: e.GetIndex(),
				Term: e.GetTerm(), Hash: entryHash(e), Leader: leader, NodeTerm: term})
		}
	}
	if hs != nil && !raft.IsEmptyHardState(hs) {
		if old, _, _ := n.ms.InitialState(); old.GetCommit() > hs.GetCommit() {
			// A snapshot stored a later commit meanwhile (compact): a
			// commit index never goes back.
			hs = cloneHS(hs)
			hs.Commit = proto.Uint64(old.GetCommit())
		}
		if !c.store(n, "SetHardState", func() error { return n.ms.SetHardState(hs) }) {
			return false
		}
	}
	return true
}

// readStates queues the leader's answers to the node's ReadIndex reads.
func (c *Cluster) readStates(n *node, rss []raft.ReadState) {
	for _, rs := range rss {
		if at, err := strconv.Atoi(string(rs.RequestCtx)); err == nil {
			n.readWait = append(n.readWait, readState{event: at, index: rs.Index})
		}
	}
}

// applyEntries applies committed entries to the node's state machine;
// false when it failed and the node stopped.
func (c *Cluster) applyEntries(n *node, ents []*pb.Entry) bool {
	for _, e := range ents {
		if c.apply(n, e); !n.up {
			return false
		}
	}
	c.answerReads(n)
	return true
}

// afterApply takes a snapshot when it is time, and stops a node that
// applied its own removal.
func (c *Cluster) afterApply(n *node) {
	if c.compact(n); !n.up {
		return
	}
	if n.gone {
		c.stop(n)
	}
}

// stop takes a node down: its RawNode and state machine go, and with them
// the writes its storage threads had not done (AsyncStorageWrites).
func (c *Cluster) stop(n *node) {
	n.up, n.rn, n.sm = false, nil, nil
	c.flagsStale = true
	n.appendQ, n.applyQ, n.busy = nil, nil, [2]bool{}
	c.fl.RemoveFunc(func(m interpose.Msg) bool { return m.From == n.id && m.To == n.id })
}

// readyAsync handles the node's Readys under AsyncStorageWrites: messages
// to other nodes go out at once; those to the node's append and apply
// threads are queued, each thread's oldest pending (a message from the
// node to itself, which a delivery carries out: threadDone). A crash loses
// what they had not done.
func (c *Cluster) readyAsync(n *node) {
	for n.up && n.rn.HasReady() {
		rd := n.rn.Ready()
		for _, m := range rd.Messages {
			switch m.GetTo() {
			case raft.LocalAppendThread:
				n.appendQ = append(n.appendQ, m)
			case raft.LocalApplyThread:
				n.applyQ = append(n.applyQ, m)
			default:
				c.send(n, m)
			}
		}
		c.readStates(n, rd.ReadStates)
		c.nextLocal(n)
	}
}

// Local storage work is pending as messages of these types, from a node
// to itself: each thread's oldest write, in order.
var localTypes = map[string]bool{pb.MsgStorageAppend.String(): true, pb.MsgStorageApply.String(): true}

// nextLocal puts each thread's oldest queued write in flight unless one of
// it already is.
func (c *Cluster) nextLocal(n *node) {
	for i, q := range [2][]*pb.Message{n.appendQ, n.applyQ} {
		if len(q) > 0 && !n.busy[i] {
			n.busy[i] = true
			c.put(localPrint(n.id, q[0]), q[0], false)
		}
	}
}

// unpersisted is the lowest index of the node's log that a write queued
// to its append thread will change (0: none): raft holds that part of its
// log in memory only, and the storage may still hold older entries there.
func (n *node) unpersisted() uint64 {
	lo := uint64(0)
	for _, m := range n.appendQ {
		switch {
		case m.GetSnapshot() != nil && !raft.IsEmptySnap(m.GetSnapshot()):
			return 1
		case len(m.GetEntries()) > 0:
			if i := m.GetEntries()[0].GetIndex(); lo == 0 || i < lo {
				lo = i
			}
		}
	}
	return lo
}

// localPrint is the fingerprint of a write to a node's append or apply
// thread.
func localPrint(node int, m *pb.Message) interpose.Msg {
	var b strings.Builder
	ents := m.GetEntries()
	switch m.GetType() {
	case pb.MsgStorageAppend:
		fmt.Fprintf(&b, "term=%d vote=%d commit=%d", m.GetTerm(), m.GetVote(), m.GetCommit())
		if s := m.GetSnapshot(); s != nil && !raft.IsEmptySnap(s) {
			fmt.Fprintf(&b, " snapshot=%d", s.GetMetadata().GetIndex())
		}
	default:
		b.WriteString("term=0")
	}
	if len(ents) > 0 {
		fmt.Fprintf(&b, " index=%d entries=%d", ents[0].GetIndex(), len(ents))
	}
	return interpose.Msg{Type: typeName(m.GetType()), From: node, To: node, Key: b.String()}
}

// threadDone carries out a write of the node's append or apply thread (m,
// delivered): the storage write or the entries applied, then its responses
// (to the node itself, stepped at once; to others, sent).
func (c *Cluster) threadDone(n *node, m *pb.Message) {
	if m.GetType() == pb.MsgStorageAppend {
		n.appendQ, n.busy[0] = n.appendQ[1:], false
	} else {
		n.applyQ, n.busy[1] = n.applyQ[1:], false
	}
	var ok bool
	if m.GetType() == pb.MsgStorageAppend {
		c.synced(n) // what the thread's previous write wrote
		hs := &pb.HardState{Term: proto.Uint64(m.GetTerm()), Vote: proto.Uint64(m.GetVote()), Commit: proto.Uint64(m.GetCommit())}
		ok = c.persist(n, m.GetSnapshot(), m.GetEntries(), hs)
	} else {
		ok = c.applyEntries(n, m.GetEntries())
	}
	if !ok {
		return
	}
	for _, r := range m.GetResponses() {
		if r.GetTo() == uint64(n.id) {
			_ = n.rn.Step(r)
		} else {
			c.send(n, r)
		}
	}
	if m.GetType() == pb.MsgStorageApply {
		if c.afterApply(n); !n.up {
			return
		}
	}
	c.nextLocal(n)
	c.ready(n)
}

// answerReads answers the node's reads whose index it has applied, from
// its own state machine.
func (c *Cluster) answerReads(n *node) {
	kvs, _ := n.sm.(kv)
	n.readWait = slices.DeleteFunc(n.readWait, func(r readState) bool {
		op, ok := c.reads[r.event]
		if !ok || op.Node != n.id {
			return true
		}
		if r.index > n.applied {
			return false
		}
		delete(c.reads, r.event)
		op.Value, op.Pending, op.Return = kvs[op.Key], false, c.at
		c.obs.Ops = append(c.obs.Ops, op)
		return true
	})
}

// kvOp reads a client payload of the built-in key-value store: a write
// "k=v" or a read "?k".
func kvOp(data string) (key, value string, write, ok bool) {
	if k, found := strings.CutPrefix(data, interpose.KVRead); found {
		return k, "", false, true
	}
	k, v, found := strings.Cut(data, "=")
	return k, v, true, found
}

// apply hands a committed entry to the node's state machine.
func (c *Cluster) apply(n *node, e *pb.Entry) {
	switch e.GetType() {
	case pb.EntryNormal:
		cmd, tag, tagged := strings.Cut(string(e.GetData()), tagSep)
		answer := ""
		if len(cmd) > 0 && !c.guard(n, "Apply", func() error { answer = n.sm.Apply([]byte(cmd)); return nil }) {
			return
		}
		if at, err := strconv.Atoi(tag); tagged && err == nil && c.proposals[at].node == n.id {
			if op := c.proposals[at].op; op != nil {
				op.Pending, op.Return, op.Index = false, c.at, e.GetIndex()
				c.obs.Ops = append(c.obs.Ops, *op)
			}
			delete(c.proposals, at)
			result := "index " + strconv.FormatUint(e.GetIndex(), 10)
			if answer != "" {
				result += ": " + answer
			}
			c.obs.Completions = append(c.obs.Completions, interpose.Completion{Index: at, Node: n.id, Result: result})
			c.obs.Acked = append(c.obs.Acked, interpose.Ack{Node: n.id, Event: at + 1, Index: e.GetIndex(), Hash: entryHash(e)})
		}
	case pb.EntryConfChange:
		var cc pb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &cc); err == nil {
			if leavesNoVoter(n.cs, cc.GetType(), cc.GetNodeId()) || readds(n, cc.GetType(), cc.GetNodeId()) {
				// It would leave no voter, which etcd raft panics on, or
				// take a removed id back, which it forbids; etcd's server
				// applies such a change with no node, as here: every node
				// decides alike, from the same log.
				cc.NodeId = proto.Uint64(0)
			}
			n.cs = n.rn.ApplyConfChange(&cc)
			c.applyRemoval(n, cc.GetType(), cc.GetNodeId())
		}
	case pb.EntryConfChangeV2:
		var cc pb.ConfChangeV2
		if err := proto.Unmarshal(e.GetData(), &cc); err == nil {
			for _, ch := range cc.GetChanges() {
				if leavesNoVoter(n.cs, ch.GetType(), ch.GetNodeId()) || readds(n, ch.GetType(), ch.GetNodeId()) {
					ch.NodeId = proto.Uint64(0) // as for a ConfChange: no node
				}
			}
			n.cs = n.rn.ApplyConfChange(&cc)
			for _, ch := range cc.GetChanges() {
				c.applyRemoval(n, ch.GetType(), ch.GetNodeId())
			}
		}
	}
	n.applied = e.GetIndex()
	c.obs.Applied = append(c.obs.Applied, interpose.Applied{Node: n.id, Index: e.GetIndex(), Term: e.GetTerm(), Hash: entryHash(e)})
}

// readds reports whether a change of type typ to node peer would take back
// an id the node has applied the removal of. etcd raft forbids it ("A
// given ID MUST be used only once even if the old node has been
// removed"), and refusing it when it is proposed is not enough: a change
// proposed before the removal applied can be appended after it (a
// campaign on etcdraft-prevote found one: a promotion of n2 appended after
// n2's removal, whose node then refused every snapshot without it).
func readds(n *node, typ pb.ConfChangeType, peer uint64) bool {
	return typ != pb.ConfChangeRemoveNode && n.removed[id(peer)]
}

// applyRemoval notes a removal the node applied; a node that applies its
// own stops, as etcd's server does.
func (c *Cluster) applyRemoval(n *node, typ pb.ConfChangeType, peer uint64) {
	if typ != pb.ConfChangeRemoveNode || peer == 0 {
		return
	}
	if n.removed == nil {
		n.removed = map[int]bool{}
	}
	n.removed[id(peer)] = true
	c.removed[id(peer)] = true
	n.gone = n.gone || id(peer) == n.id
}

// removedHeader begins a snapshot's data when the node has applied
// removals: the ids, then the state machine's own snapshot. The set of
// removed ids is part of the replicated state, as etcd keeps its members
// in its backend: a node that installs a leader's snapshot learns of
// removals it never applied.
const removedHeader = "faultline-removed:"

// wrapSnapshot returns a snapshot's data: the removed ids, if any, before
// the state machine's.
func wrapSnapshot(removed map[int]bool, data []byte) []byte {
	if len(removed) == 0 {
		return data
	}
	ids := make([]int, 0, len(removed))
	for i := range removed {
		ids = append(ids, i)
	}
	slices.Sort(ids)
	b := []byte(removedHeader)
	for i, x := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	b = append(b, '\n')
	return append(b, data...)
}

// restore restores the node's state machine and removed ids from a
// snapshot's data; false when the state machine failed and the node
// stopped.
func (c *Cluster) restore(n *node, data []byte) bool {
	n.removed = nil
	if rest, ok := bytes.CutPrefix(data, []byte(removedHeader)); ok {
		var ids []byte
		ids, data, _ = bytes.Cut(rest, []byte("\n"))
		n.removed = map[int]bool{}
		for f := range strings.SplitSeq(string(ids), ",") {
			if x, err := strconv.Atoi(f); err == nil {
				n.removed[x] = true
			}
		}
	}
	return c.guard(n, "Restore", func() error { return n.sm.Restore(data) })
}

// compact takes a snapshot every SnapshotEvery applied entries and
// compacts the log up to two entries before it.
func (c *Cluster) compact(n *node) {
	if n.applied < n.snap+c.opts.SnapshotEvery {
		return
	}
	if c.opts.LoseUnsynced && n.applied > n.lastSynced {
		return // a snapshot covers durable entries only: the next Ready makes these durable
	}
	var data []byte
	if !c.guard(n, "Snapshot", func() (err error) { data, err = n.sm.Snapshot(); return err }) {
		return
	}
	created := false
	if !c.store(n, "CreateSnapshot", func() error {
		_, err := n.ms.CreateSnapshot(n.applied, n.cs, wrapSnapshot(n.removed, data))
		created = err == nil
		return err
	}) || !created {
		return
	}
	if hs, _, _ := n.ms.InitialState(); hs.GetCommit() < n.applied {
		// Under AsyncStorageWrites the apply thread can be ahead of the
		// commit index the append thread stored: the snapshot stores
		// that its entries are committed (raft refuses to restart from a
		// snapshot past its hard state's commit).
		hs = cloneHS(hs)
		hs.Commit = proto.Uint64(n.applied)
		if !c.store(n, "SetHardState", func() error { return n.ms.SetHardState(hs) }) {
			return
		}
	}
	n.snap = n.applied
	if n.applied > 2 {
		if first, _ := n.ms.FirstIndex(); n.applied-2 >= first {
			compacted := false
			if !c.store(n, "Compact", func() error { err := n.ms.Compact(n.applied - 2); compacted = err == nil; return err }) {
				return
			}
			if compacted {
				c.obs.LogOps = append(c.obs.LogOps, interpose.LogOp{Node: n.id, Kind: interpose.LogCompact, Hi: n.applied - 2})
			}
		}
	}
}

// cloneHS copies a hard state (nil: the empty one).
func cloneHS(hs *pb.HardState) *pb.HardState {
	if hs == nil {
		return &pb.HardState{}
	}
	return proto.Clone(hs).(*pb.HardState)
}

func entryHash(e *pb.Entry) uint64 {
	h := fnv.New64a()
	h.Write([]byte{byte(e.GetType())})
	h.Write(e.GetData())
	return h.Sum64()
}

// View implements interpose.System.
func (c *Cluster) View() *interpose.View {
	c.out.Reset()
	c.out.Nodes = c.out.Nodes[:0]
	for i := 1; i < len(c.nodes); i++ {
		n := c.nodes[i]
		v := interpose.NodeView{Node: n.id, Started: n.started, Up: n.up}
		if n.up {
			v.Facts = n.state()
		}
		c.out.Nodes = append(c.out.Nodes, v)
	}
	c.out.Claims = append(c.out.Claims, c.obs.Claims...)
	c.out.LogOps = append(c.out.LogOps, c.obs.LogOps...)
	c.out.Applied = append(c.out.Applied, c.obs.Applied...)
	c.out.Faults = append(c.out.Faults, c.obs.Faults...)
	c.out.Losses = append(c.out.Losses, c.obs.Losses...)
	c.out.Completions = append(c.out.Completions, c.obs.Completions...)
	c.out.Ops = append(c.out.Ops, c.obs.Ops...)
	c.out.Acked = append(c.out.Acked, c.obs.Acked...)
	c.obs.Reset()
	return &c.out
}

// state is the node's Raft facts.
func (n *node) state() *interpose.RaftState {
	st := n.rn.BasicStatus()
	role := interpose.RoleFollower
	switch st.RaftState {
	case raft.StateLeader:
		role = interpose.RoleLeader
	case raft.StateCandidate:
		role = interpose.RoleCandidate
	case raft.StatePreCandidate:
		role = "pre-candidate"
	}
	last, _ := n.ms.LastIndex()
	// The log the views publish is the storage's. Under AsyncStorageWrites
	// raft knows entries as committed before its append thread wrote them,
	// where the storage may still hold entries a leader overwrote: the
	// commit index published is no further than the storage agrees with.
	// A leader's log is checked for completeness once its writes land
	// (RaftState.Unpersisted).
	commit := min(st.HardState.GetCommit(), last)
	lo := n.unpersisted()
	if lo > 0 {
		commit = min(commit, lo-1)
	}
	n.facts = interpose.RaftState{Role: role, Term: st.HardState.GetTerm(), Vote: id(st.HardState.GetVote()),
		LastIndex: last, CommitIndex: commit, AppliedIndex: n.applied, SnapshotIndex: n.snap, Unpersisted: lo}
	if n.facts.Vote != 0 {
		n.facts.VoteTerm = n.facts.Term
	}
	if n.configOf != n.cs {
		// A joint configuration's voters are both halves' (a leader can
		// be in the outgoing one only); its nonvoters the learners, and
		// those it makes learners when it is left.
		voters := slices.Concat(n.cs.GetVoters(), n.cs.GetVotersOutgoing())
		slices.Sort(voters)
		learners := slices.DeleteFunc(slices.Concat(n.cs.GetLearners(), n.cs.GetLearnersNext()), func(l uint64) bool {
			_, found := slices.BinarySearch(voters, l)
			return found // a voter being demoted: a voter still
		})
		slices.Sort(learners)
		n.config, n.configOf = &interpose.RaftConfig{Voters: ids(slices.Compact(voters)), Nonvoters: ids(slices.Compact(learners))}, n.cs
	}
	n.facts.Config = n.config
	return &n.facts
}

// ids are raft ids as node numbers, ascending.
func ids(xs []uint64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	slices.Sort(out)
	return out
}

// Close implements interpose.System.
func (c *Cluster) Close() error { return nil }

var _ interpose.System = (*Cluster)(nil)
