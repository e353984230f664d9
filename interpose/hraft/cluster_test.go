package hraft

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
)

// harness drives a cluster by hand and keeps the observations a test may
// want to look at.
type harness struct {
	t   *testing.T
	c   *Cluster
	n   int
	obs interpose.View
}

func newHarness(t *testing.T, nodes int, opts Options) *harness {
	t.Helper()
	return newHarnessSpec(t, interpose.TargetSpec{Name: "test", Nodes: nodes, Seed: 7}, opts)
}

func newHarnessSpec(t *testing.T, spec interpose.TargetSpec, opts Options) *harness {
	t.Helper()
	nodes := spec.Nodes
	c, err := Open(t, spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	h := &harness{t: t, c: c}
	for i := 1; i <= nodes; i++ {
		h.must(interpose.Event{Kind: interpose.Start, Node: i})
	}
	return h
}

func (h *harness) apply(ev interpose.Event) (string, error) {
	ev, err := h.c.Apply(h.n, ev)
	if err == nil {
		h.n++
	}
	h.collect()
	return ev.Result, err
}

func (h *harness) must(ev interpose.Event) string {
	h.t.Helper()
	res, err := h.apply(ev)
	if err != nil {
		h.t.Fatalf("%v: %v", ev, err)
	}
	return res
}

// collect drains the cluster's observations into h.obs.
func (h *harness) collect() {
	v := h.c.View()
	h.obs.Nodes = append(h.obs.Nodes[:0], v.Nodes...)
	h.obs.Claims = append(h.obs.Claims, v.Claims...)
	h.obs.LogOps = append(h.obs.LogOps, v.LogOps...)
	h.obs.Applied = append(h.obs.Applied, v.Applied...)
	h.obs.Faults = append(h.obs.Faults, v.Faults...)
	h.obs.Completions = append(h.obs.Completions, v.Completions...)
}

// settle delivers deliverable messages, oldest fingerprint first, until none
// is left. Clocks do not move, so it ends.
func (h *harness) settle() {
	h.t.Helper()
	for range 10000 {
		var next *interpose.Msg
		for _, m := range h.c.Pending() {
			if m.Deliverable {
				next = &m.Msg
				break
			}
		}
		if next == nil {
			return
		}
		h.must(interpose.Event{Kind: interpose.Deliver, Msg: next})
	}
	h.t.Fatal("settle: the cluster never went quiet")
}

func (h *harness) role(i int) string {
	var st interpose.RaftState
	v := h.c.node(i).view(&st)
	if s, ok := interpose.RaftOf(v); ok {
		return s.Role
	}
	return v.Life()
}

// facts returns node i's Raft facts from a fresh View (which takes the
// observations since the last one, as collect does).
func (h *harness) facts(i int) interpose.RaftState {
	h.t.Helper()
	v := h.c.View()
	h.obs.Applied = append(h.obs.Applied, v.Applied...)
	h.obs.Faults = append(h.obs.Faults, v.Faults...)
	s, ok := interpose.RaftOf(v.Nodes[i-1])
	if !ok {
		h.t.Fatalf("n%d publishes no Raft facts: %v", i, v.Nodes[i-1])
	}
	return *s
}

// elect makes node i leader: advance its clock until it campaigns, then let
// the messages flow.
func (h *harness) elect(i int) {
	h.t.Helper()
	for range 20 {
		if h.role(i) == "leader" {
			return
		}
		h.must(interpose.Event{Kind: interpose.Advance, Node: i})
		h.settle()
	}
	h.t.Fatalf("n%d never became leader (role %s)", i, h.role(i))
}

// write applies a client command through node i and lets the leader's
// clock run until every node has applied it.
func (h *harness) write(i int, data string) {
	h.t.Helper()
	h.must(interpose.Event{Kind: interpose.Client, Node: i, Data: data})
	h.settle()
	target := h.c.Raft(i).LastIndex()
	for range 20 {
		behind := false
		for j := 1; j <= h.c.Nodes(); j++ {
			if h.c.State(j) == interpose.Up && h.c.Raft(j).AppliedIndex() < target {
				behind = true
			}
		}
		if !behind {
			return
		}
		h.must(interpose.Event{Kind: interpose.Advance, Node: i})
		h.settle()
	}
}

// advanceUntil advances node i's clock until a message of type typ to node
// to is pending, and returns its fingerprint.
func (h *harness) advanceUntil(i int, typ string, to int) *interpose.Msg {
	h.t.Helper()
	for range 20 {
		if m := h.find(typ, i, to); m != nil {
			return m
		}
		h.must(interpose.Event{Kind: interpose.Advance, Node: i})
	}
	h.t.Fatalf("n%d sent no %s to n%d", i, typ, to)
	return nil
}

func (h *harness) pending(typ string, from, to int) int {
	n := 0
	for _, m := range h.c.Pending() {
		if m.Msg.Type == typ && m.Msg.From == from && m.Msg.To == to {
			n++
		}
	}
	return n
}

func (h *harness) find(typ string, from, to int) *interpose.Msg {
	for _, m := range h.c.Pending() {
		if m.Msg.Type == typ && m.Msg.From == from && m.Msg.To == to {
			return &m.Msg
		}
	}
	return nil
}

func kv(h *harness, i int) *KV {
	f, _ := h.c.FSM(i).(*KV)
	return f
}

func TestElectionAndReplication(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	h.advanceUntil(1, "Heartbeat", 2)
	for i := range 5 {
		h.write(1, fmt.Sprintf("k%d=v%d", i, i))
	}
	for i := 1; i <= 3; i++ {
		if v, ok := kv(h, i).Get("k4"); !ok || v != "v4" {
			t.Errorf("n%d: k4 = %q, %v; want v4", i, v, ok)
		}
	}
	if got := h.c.Stats().FastPath; got == 0 {
		t.Error("no heartbeat took raft's heartbeat fast path")
	}
	if len(h.obs.Claims) == 0 || h.obs.Claims[0].Node != 1 {
		t.Errorf("claims = %v; want n1's", h.obs.Claims)
	}
}

func TestSerialHeartbeatsAvoidFastPath(t *testing.T) {
	h := newHarness(t, 3, Options{SerialHeartbeats: true})
	h.elect(1)
	h.advanceUntil(1, "Heartbeat", 2)
	h.settle()
	st := h.c.Stats()
	if st.Delivered["Heartbeat"] == 0 {
		t.Fatal("no heartbeat delivered")
	}
	if st.FastPath != 0 {
		t.Errorf("%d heartbeats took the fast path", st.FastPath)
	}
}

// TestSpecTurnsFastPathOff: a spec recorded with heartbeat_fast_path
// "false" runs serial heartbeats whatever the options say (how a schedule of
// the fast path is replayed without it); any other value leaves the options
// in charge, so a schedule replays on its own target as it was recorded.
func TestSpecTurnsFastPathOff(t *testing.T) {
	for _, c := range []struct {
		serial   bool
		config   map[string]string
		fastPath bool
	}{
		{false, nil, true},
		{false, map[string]string{"heartbeat_fast_path": "true"}, true},
		{false, map[string]string{"heartbeat_fast_path": "false"}, false},
		{true, map[string]string{"heartbeat_fast_path": "false"}, false},
		{true, map[string]string{"heartbeat_fast_path": "true"}, false},
		{true, nil, false},
	} {
		h := newHarnessSpec(t, interpose.TargetSpec{Name: "test", Nodes: 3, Seed: 7, Config: c.config}, Options{SerialHeartbeats: c.serial})
		h.elect(1)
		h.advanceUntil(1, "Heartbeat", 2)
		h.settle()
		st := h.c.Stats()
		if st.Delivered["Heartbeat"] == 0 {
			t.Fatalf("serial %v, config %v: no heartbeat delivered", c.serial, c.config)
		}
		if got := st.FastPath > 0; got != c.fastPath {
			t.Errorf("serial %v, config %v: %d heartbeats on the fast path, want fast path %v", c.serial, c.config, st.FastPath, c.fastPath)
		}
	}
}

func TestBlockedCallerGetsErrorOnDrop(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	hb := h.advanceUntil(1, "Heartbeat", 2)
	// The heartbeat goroutine is blocked in the transport: advancing the
	// leader's clock sends no second heartbeat to n2.
	for range 3 {
		h.must(interpose.Event{Kind: interpose.Advance, Node: 1})
	}
	if n := h.pending("Heartbeat", 1, 2); n != 1 {
		t.Fatalf("%d heartbeats to n2 pending while one is unanswered; want 1", n)
	}
	h.must(interpose.Event{Kind: interpose.Drop, Msg: hb})
	if n := h.pending("Heartbeat", 1, 2); n != 0 {
		t.Fatalf("dropped heartbeat still pending (%d)", n)
	}
	// The caller got an error, backs off, and tries again.
	for range 10 {
		if h.pending("Heartbeat", 1, 2) > 0 {
			return
		}
		h.must(interpose.Event{Kind: interpose.Advance, Node: 1})
	}
	t.Fatal("leader never retried its heartbeat to n2 after the drop")
}

func TestPartitionBlocksDelivery(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	h.must(interpose.Event{Kind: interpose.Partition, Groups: [][]int{{1}, {2, 3}}})
	hb := h.advanceUntil(1, "Heartbeat", 2)
	for _, m := range h.c.Pending() {
		if m.Msg == *hb && m.Deliverable {
			t.Fatal("a message across the cut is deliverable")
		}
	}
	if _, err := h.apply(interpose.Event{Kind: interpose.Deliver, Msg: hb}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Fatalf("deliver across the cut: err = %v; want ErrNotEnabled", err)
	}
	h.must(interpose.Event{Kind: interpose.Heal})
	h.must(interpose.Event{Kind: interpose.Deliver, Msg: hb})
	if _, err := h.apply(interpose.Event{Kind: interpose.Heal}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Fatalf("heal without a cut: err = %v; want ErrNotEnabled", err)
	}
}

func TestCrashAndRecover(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	h.write(1, "a=1")
	h.write(1, "b=2")
	last := h.c.Raft(3).LastIndex()
	h.must(interpose.Event{Kind: interpose.Advance, Node: 1})
	h.must(interpose.Event{Kind: interpose.Crash, Node: 3})
	if h.c.State(3) != interpose.Down || h.role(3) != "down" {
		t.Fatalf("n3 is %v / %s after a crash", h.c.State(3), h.role(3))
	}
	for _, m := range h.c.Pending() {
		if m.Msg.To == 3 && m.Deliverable {
			t.Fatalf("%v deliverable to a down node", m.Msg)
		}
		if m.Msg.To == 3 && !m.Request {
			t.Fatalf("response %v to a crashed caller still pending", m.Msg)
		}
	}
	for _, ev := range []interpose.Event{
		{Kind: interpose.Crash, Node: 3},
		{Kind: interpose.Advance, Node: 3},
		{Kind: interpose.Client, Node: 3, Data: "x=1"},
		{Kind: interpose.Start, Node: 3},
	} {
		if _, err := h.apply(ev); !errors.Is(err, interpose.ErrNotEnabled) {
			t.Errorf("%v on a down node: err = %v; want ErrNotEnabled", ev, err)
		}
	}
	h.write(1, "c=3") // commits on n1 and n2 without n3
	h.must(interpose.Event{Kind: interpose.Recover, Node: 3})
	if got := h.c.Raft(3).LastIndex(); got < last {
		t.Fatalf("n3 recovered with last index %d < %d: its log store was not durable", got, last)
	}
	for range 5 {
		h.must(interpose.Event{Kind: interpose.Advance, Node: 1})
		h.settle()
	}
	if v, _ := kv(h, 3).Get("c"); v != "3" {
		t.Errorf("recovered n3 did not catch up: c = %q", v)
	}
	if v, _ := kv(h, 3).Get("a"); v != "1" {
		t.Errorf("recovered n3 lost a: %q (a fresh FSM must be rebuilt from log/snapshot)", v)
	}
}

func TestSnapshotAndInstallSnapshot(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	h.must(interpose.Event{Kind: interpose.Crash, Node: 3})
	for i := range 20 {
		h.write(1, fmt.Sprintf("k%d=%d", i, i))
	}
	// Let the snapshot timer fire on n1 (every 2-4 s of its clock).
	for range 60 {
		h.must(interpose.Event{Kind: interpose.Advance, Node: 1})
		h.settle()
	}
	compacted := false
	for _, op := range h.obs.LogOps {
		compacted = compacted || (op.Node == 1 && op.Kind == interpose.LogCompact)
	}
	if !compacted {
		t.Fatal("n1 never compacted its log")
	}
	h.must(interpose.Event{Kind: interpose.Recover, Node: 3})
	for range 20 {
		h.must(interpose.Event{Kind: interpose.Advance, Node: 1})
		h.settle()
	}
	if h.c.Stats().Delivered["InstallSnapshot"] == 0 {
		t.Fatal("no InstallSnapshot was delivered to the lagging node")
	}
	if v, _ := kv(h, 3).Get("k19"); v != "19" {
		t.Errorf("n3 after InstallSnapshot: k19 = %q; want 19", v)
	}
	// Views give each node's snapshot as raft has it, taken or installed.
	for _, i := range []int{1, 3} {
		want, _ := strconv.ParseUint(h.c.Raft(i).Stats()["last_snapshot_index"], 10, 64)
		if got := h.facts(i).SnapshotIndex; got == 0 || got != want {
			t.Errorf("n%d: view's SnapshotIndex = %d, raft's last snapshot = %d", i, got, want)
		}
	}
	h.must(interpose.Event{Kind: interpose.Crash, Node: 3})
	h.must(interpose.Event{Kind: interpose.Recover, Node: 3})
	want, _ := strconv.ParseUint(h.c.Raft(3).Stats()["last_snapshot_index"], 10, 64)
	if got := h.facts(3).SnapshotIndex; got == 0 || got != want {
		t.Errorf("n3 after recovery: view's SnapshotIndex = %d, raft's last snapshot = %d", got, want)
	}
}

func TestDuplicateRequest(t *testing.T) {
	h := newHarness(t, 3, Options{})
	m := h.advanceUntil(1, "RequestPreVote", 2)
	h.must(interpose.Event{Kind: interpose.Duplicate, Msg: m})
	if n := h.pending("RequestPreVote", 1, 2); n != 2 {
		t.Fatalf("%d copies pending after duplicate; want 2", n)
	}
	h.must(interpose.Event{Kind: interpose.Deliver, Msg: m})
	h.must(interpose.Event{Kind: interpose.Deliver, Msg: m})
	// The duplicate's answer has nobody waiting for it and is discarded.
	if n := h.pending("RequestPreVoteResp", 2, 1); n != 1 {
		t.Fatalf("%d responses pending; want 1", n)
	}
}

func TestMembershipAndTransfer(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	res := h.must(interpose.Event{Kind: interpose.Transfer, Node: 1, Peer: 2})
	if res != "pending" && !strings.HasPrefix(res, "pending") {
		t.Fatalf("transfer result %q; want pending", res)
	}
	for range 10 {
		h.settle()
		if h.role(2) == "leader" {
			break
		}
		h.must(interpose.Event{Kind: interpose.Advance, Node: 1})
	}
	if h.c.Stats().Delivered["TimeoutNow"] == 0 || h.role(2) != "leader" {
		t.Fatalf("transfer to n2: TimeoutNow delivered %d, n2 %s", h.c.Stats().Delivered["TimeoutNow"], h.role(2))
	}
	if res := h.must(interpose.Event{Kind: interpose.Client, Node: 1, Data: "x=1"}); !strings.Contains(res, "not the leader") {
		t.Errorf("client via the old leader: %q", res)
	}
	h.must(interpose.Event{Kind: interpose.Membership, Node: 2, Op: interpose.RemoveServer, Peer: 3})
	for range 5 {
		h.settle()
		h.must(interpose.Event{Kind: interpose.Advance, Node: 2})
	}
	h.settle()
	done := false
	for _, c := range h.obs.Completions {
		done = done || strings.HasPrefix(c.Result, "index ")
	}
	if !done {
		t.Fatalf("remove-server never completed: %v", h.obs.Completions)
	}
}

type panicky struct{ *KV }

func (p panicky) Apply(l *raft.Log) any {
	if string(l.Data) == "boom=1" {
		panic("boom at index " + fmt.Sprint(l.Index))
	}
	return p.KV.Apply(l)
}

func TestPanickingFSMIsAFault(t *testing.T) {
	h := newHarness(t, 3, Options{NewFSM: func(int) raft.FSM { return panicky{NewKV()} }})
	h.elect(1)
	h.write(1, "boom=1")
	if len(h.obs.Faults) == 0 {
		t.Fatal("a panic in FSM.Apply was not reported")
	}
	f := h.obs.Faults[0]
	if f.Invariant != "NoPanic" || f.Fingerprint != "NoPanic: FSM.Apply: boom at index N" {
		t.Errorf("fault = %+v", f)
	}
}

func TestUserInvariant(t *testing.T) {
	inv := Invariant{Name: "NoBadKey", Check: func(fsms []raft.FSM) error {
		for i, f := range fsms {
			if f == nil {
				continue
			}
			if _, bad := f.(*KV).Get("bad"); bad {
				return fmt.Errorf("n%d holds key bad", i+1)
			}
		}
		return nil
	}}
	h := newHarness(t, 3, Options{Invariants: []Invariant{inv}})
	h.elect(1)
	h.write(1, "good=1")
	if len(h.obs.Faults) != 0 {
		t.Fatalf("faults before the bad write: %v", h.obs.Faults)
	}
	h.write(1, "bad=1")
	if len(h.obs.Faults) == 0 || h.obs.Faults[0].Fingerprint != "NoBadKey" {
		t.Fatalf("faults = %v; want NoBadKey", h.obs.Faults)
	}
}

type crashCounter struct {
	*raft.InmemStore
	crashes int
}

func (c *crashCounter) Crash() { c.crashes++ }

func TestUserStoresAreDurableAndToldOfCrashes(t *testing.T) {
	stores := map[int]*crashCounter{}
	opts := Options{
		NewStableStore: func(i int) (raft.StableStore, error) {
			stores[i] = &crashCounter{InmemStore: raft.NewInmemStore()}
			return stores[i], nil
		},
	}
	h := newHarness(t, 3, opts)
	h.elect(1)
	h.must(interpose.Event{Kind: interpose.Crash, Node: 2})
	h.must(interpose.Event{Kind: interpose.Recover, Node: 2})
	h.must(interpose.Event{Kind: interpose.Crash, Node: 2})
	if len(stores) != 3 || stores[2].crashes != 2 || stores[1].crashes != 0 {
		t.Fatalf("stores made %d, n2 crashes %d, n1 crashes %d", len(stores), stores[2].crashes, stores[1].crashes)
	}
	if term, _ := stores[2].GetUint64([]byte("CurrentTerm")); term == 0 {
		t.Error("n2's stable store lost its term across a crash")
	}
}

func TestStoreFactoryErrorIsReturned(t *testing.T) {
	_, err := Open(t, interpose.TargetSpec{Name: "x", Nodes: 3}, Options{
		NewLogStore: func(i int) (raft.LogStore, error) {
			if i == 2 {
				return nil, io.ErrUnexpectedEOF
			}
			return raft.NewInmemStore(), nil
		},
	})
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "n2") {
		t.Fatalf("err = %v; want the factory's error, naming n2", err)
	}
}

func TestCloseReleasesEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		c, err := Open(t, interpose.TargetSpec{Name: "x", Nodes: 3, Seed: 1}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, c: c}
		for i := 1; i <= 3; i++ {
			h.must(interpose.Event{Kind: interpose.Start, Node: i})
		}
		h.elect(2)
		h.must(interpose.Event{Kind: interpose.Client, Node: 2, Data: "a=1"}) // left pending
		h.must(interpose.Event{Kind: interpose.Crash, Node: 3})
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines: %d before, %d after 20 clusters", before, after)
	}
}

// BenchmarkCluster measures building a 3-node cluster, starting every node
// and tearing it all down.
func BenchmarkCluster(b *testing.B) {
	ok := UnderTest(b.Name(), func(t *testing.T) {
		defer NewTarget("x", "", Options{}).Hold()()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c, err := Open(t, interpose.TargetSpec{Name: "x", Nodes: 3, Seed: uint64(i)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for n := 1; n <= 3; n++ {
				if _, err := c.Apply(n-1, interpose.Event{Kind: interpose.Start, Node: n}); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !ok {
		b.Fatal("failed")
	}
}

// An advance records how far the clock moved; replayed with that duration
// (a timed replay), it moves the clock exactly as far, whatever the node
// sends on the way; without it, until the recorded message is pending.
func TestAdvanceRecordsAndReplaysItsDuration(t *testing.T) {
	record := func() interpose.Event {
		h := newHarness(t, 3, Options{})
		ev, err := h.c.Apply(h.n, interpose.Event{Kind: interpose.Advance, Node: 1})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	rec := record()
	if rec.Until == nil || rec.Took <= 0 || !strings.HasPrefix(rec.Result, "+"+rec.Took.String()) {
		t.Fatalf("recorded advance: until %v, took %v, result %q", rec.Until, rec.Took, rec.Result)
	}
	for _, tc := range []struct {
		name string
		took time.Duration
		want time.Duration
	}{
		{"untimed", 0, rec.Took},
		{"timed as recorded", rec.Took, rec.Took},
		{"timed longer", rec.Took + 300*time.Millisecond, rec.Took + 300*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 3, Options{})
			ev := interpose.Event{Kind: interpose.Advance, Node: 1, Until: rec.Until, UntilN: rec.UntilN, Took: tc.took}
			got, err := h.c.Apply(h.n, ev)
			if err != nil {
				t.Fatal(err)
			}
			if got.Took != tc.want || *got.Until != *rec.Until {
				t.Fatalf("took %v until %v, want %v until %v (result %q)", got.Took, got.Until, tc.want, rec.Until, got.Result)
			}
		})
	}
}

// sameIndexSameState is "two nodes that applied the same index hold the
// same state", written against CheckNodes alone: raft's applied index
// comes with each node's FSM, so the FSM keeps no bookkeeping for it.
func sameIndexSameState(nodes []NodeState) error {
	first := map[uint64]NodeState{}
	for _, n := range nodes {
		if n.FSM == nil {
			continue
		}
		o, seen := first[n.Raft.AppliedIndex]
		if !seen {
			first[n.Raft.AppliedIndex] = n
			continue
		}
		if a, b := dumpKV(o.FSM), dumpKV(n.FSM); a != b {
			return fmt.Errorf("n%d and n%d applied up to index %d but hold %s and %s", o.Node, n.Node, n.Raft.AppliedIndex, a, b)
		}
	}
	return nil
}

func dumpKV(f raft.FSM) string {
	kv := f.(interface {
		Keys() []string
		Get(string) (string, bool)
	})
	var b strings.Builder
	for _, k := range kv.Keys() {
		v, _ := kv.Get(k)
		b.WriteString(k + "=" + v + " ")
	}
	return "{" + strings.TrimSpace(b.String()) + "}"
}

// deaf is a KV that ignores writes to one key: a state machine bug that
// only the comparison of two nodes' states shows.
type deaf struct {
	*KV
	key string
}

func (d deaf) Apply(l *raft.Log) any {
	if strings.HasPrefix(string(l.Data), d.key+"=") {
		return nil
	}
	return d.KV.Apply(l)
}

func TestCheckNodesSameIndexSameState(t *testing.T) {
	for _, tc := range []struct {
		name string
		bug  bool
	}{{"correct FSMs", false}, {"n3 ignores k1", true}} {
		t.Run(tc.name, func(t *testing.T) {
			newFSM := func(node int) raft.FSM {
				if tc.bug && node == 3 {
					return deaf{NewKV(), "k1"}
				}
				return NewKV()
			}
			h := newHarness(t, 3, Options{NewFSM: newFSM, Invariants: []Invariant{{Name: "SameIndexSameState", CheckNodes: sameIndexSameState}}})
			h.elect(1)
			h.write(1, "k0=a")
			h.write(1, "k1=b")
			h.write(1, "k2=c")
			var faults []string
			for _, f := range h.obs.Faults {
				faults = append(faults, f.Fingerprint+": "+f.Detail)
			}
			switch {
			case !tc.bug && len(faults) != 0:
				t.Errorf("faults with correct FSMs: %v", faults)
			case tc.bug && (len(faults) == 0 || !strings.HasPrefix(faults[0], "SameIndexSameState: ") || !strings.Contains(faults[0], "{k0=a}")):
				t.Errorf("faults %v; want SameIndexSameState, n3 holding {k0=a}", faults)
			}
		})
	}
}

// newRecordingHarness is a 3-node harness with an invariant that keeps the
// node states of its last check in *last.
func newRecordingHarness(t *testing.T) (*harness, *[]NodeState) {
	t.Helper()
	last := new([]NodeState)
	record := Invariant{Name: "Record", CheckNodes: func(nodes []NodeState) error {
		*last = nodes
		return nil
	}}
	return newHarness(t, 3, Options{Invariants: []Invariant{record}}), last
}

func TestCheckNodesConfiguration(t *testing.T) {
	h, last := newRecordingHarness(t)
	h.elect(1)
	h.write(1, "x=1")
	want := func(when string, roles []string, config ...string) {
		t.Helper()
		for i, n := range *last {
			if n.Node != i+1 || !n.Started || !n.Up || n.FSM == nil || n.Raft.Role != roles[i] || n.Leader != 1 {
				t.Errorf("%s: n%d: %+v; want up, %s, leader n1", when, i+1, n, roles[i])
			}
			if got := n.Raft.Config.String(); got != config[i] {
				t.Errorf("%s: n%d's configuration %q; want %q", when, i+1, got, config[i])
			}
			if st := h.facts(i + 1); st.Config.String() != config[i] {
				t.Errorf("%s: n%d's view shows configuration %q; want %q", when, i+1, st.Config.String(), config[i])
			}
		}
	}
	roles := []string{"leader", "follower", "follower"}
	want("after the election", roles, "voters n1,n2,n3", "voters n1,n2,n3", "voters n1,n2,n3")

	membership := func(op string, peer int) {
		t.Helper()
		h.must(interpose.Event{Kind: interpose.Membership, Node: 1, Op: op, Peer: peer})
		h.write(1, "y="+op) // replicates the configuration entry too
	}
	membership(interpose.DemoteVoter, 3)
	want("after demote-voter n3", roles, "voters n1,n2; nonvoters n3", "voters n1,n2; nonvoters n3", "voters n1,n2; nonvoters n3")
	membership(interpose.AddVoter, 3)
	want("after add-voter n3", roles, "voters n1,n2,n3", "voters n1,n2,n3", "voters n1,n2,n3")

	membership(interpose.RemoveServer, 3)
	for _, n := range (*last)[:2] {
		if got := n.Raft.Config.String(); got != "voters n1,n2" {
			t.Errorf("n%d's configuration after remove-server n3: %q", n.Node, got)
		}
	}
	// A node that is down has no FSM, no leader and no configuration; its
	// durable term stays.
	h.must(interpose.Event{Kind: interpose.Crash, Node: 2})
	if n := (*last)[1]; n.Up || n.FSM != nil || n.Leader != 0 || n.Raft.Config != nil || n.Raft.Role != "down" || n.Raft.Term == 0 {
		t.Errorf("n2 after its crash: %+v", n)
	}
}

// TestViewConfigurationAfterTruncation: a deposed leader's uncommitted
// configuration entry is overwritten by the new leader's entries, and raft
// falls back to its committed configuration; the view must follow.
func TestViewConfigurationAfterTruncation(t *testing.T) {
	h, last := newRecordingHarness(t)
	h.elect(1)
	h.write(1, "x=1")
	h.must(interpose.Event{Kind: interpose.Partition, Groups: [][]int{{1}, {2, 3}}})
	h.must(interpose.Event{Kind: interpose.Membership, Node: 1, Op: interpose.DemoteVoter, Peer: 3})
	if got := (*last)[0].Raft.Config.String(); got != "voters n1,n2; nonvoters n3" {
		t.Fatalf("n1's configuration after its uncommitted demote-voter: %q", got)
	}
	// n2 and n3 time out (n3 must forget n1 before it grants a vote).
	lead := 0
	for i := 0; i < 40 && lead == 0; i++ {
		h.must(interpose.Event{Kind: interpose.Advance, Node: 2 + i%2})
		h.settle()
		for _, n := range []int{2, 3} {
			if h.role(n) == "leader" {
				lead = n
			}
		}
	}
	if lead == 0 {
		t.Fatal("n2 and n3 elected no leader")
	}
	h.write(lead, "y=1")
	h.must(interpose.Event{Kind: interpose.Heal})
	truncated := false
	for range 10 {
		h.settle()
		for _, op := range h.obs.LogOps {
			truncated = truncated || op.Node == 1 && op.Kind == interpose.LogTruncate
		}
		if truncated {
			break
		}
		h.must(interpose.Event{Kind: interpose.Advance, Node: lead})
	}
	if !truncated {
		t.Fatal("n1 never truncated its log: the test no longer drives the case")
	}
	want := raftConfig(h.c.Raft(1).GetConfiguration().Configuration()).String()
	if got := (*last)[0].Raft.Config.String(); got != want || want != "voters n1,n2,n3" {
		t.Errorf("n1 after the truncation publishes %q; raft has %q (want voters n1,n2,n3)", got, want)
	}
}

// TestViewConfigurationFollowsRaft walks a cluster at random through
// deliveries, drops, clock advances, client writes, membership changes,
// crashes and recoveries, and checks after every event that each live
// node's published configuration is raft's own (GetConfiguration): the
// view re-reads it only when a store wrapper saw something that may change
// it, and must miss nothing (a truncated configuration entry, an installed
// snapshot, a restart).
func TestViewConfigurationFollowsRaft(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			h, last := newRecordingHarness(t)
			rng := rand.New(rand.NewPCG(seed, 0))
			ops := interpose.MembershipOps
			changes := 0
			for step := range 600 {
				node := 1 + rng.IntN(3)
				var ev interpose.Event
				switch k := rng.IntN(100); {
				case k < 60:
					var msgs []interpose.Message
					for _, m := range h.c.Pending() {
						if m.Deliverable {
							msgs = append(msgs, m)
						}
					}
					if len(msgs) == 0 {
						continue
					}
					m := msgs[rng.IntN(len(msgs))].Msg
					ev = interpose.Event{Kind: interpose.Deliver, Msg: &m}
				case k < 64:
					p := h.c.Pending()
					if len(p) == 0 {
						continue
					}
					ev = interpose.Event{Kind: interpose.Drop, Msg: &p[rng.IntN(len(p))].Msg}
				case k < 80:
					ev = interpose.Event{Kind: interpose.Advance, Node: node}
				case k < 88:
					ev = interpose.Event{Kind: interpose.Client, Node: node, Data: fmt.Sprintf("k%d=%d", step%5, step)}
				case k < 94:
					for _, n := range *last { // through the leader, to make changes
						if n.Up && n.Raft.Role == "leader" {
							node = n.Node
						}
					}
					ev = interpose.Event{Kind: interpose.Membership, Node: node, Op: ops[rng.IntN(len(ops))], Peer: 1 + rng.IntN(3)}
				case k < 97:
					ev = interpose.Event{Kind: interpose.Crash, Node: node}
				default:
					ev = interpose.Event{Kind: interpose.Recover, Node: node}
				}
				if _, err := h.apply(ev); err != nil {
					if errors.Is(err, interpose.ErrNotEnabled) {
						continue
					}
					t.Fatalf("step %d, %v: %v", step, ev, err)
				}
				for i, n := range *last {
					r := h.c.Raft(i + 1)
					if !n.Up || r == nil {
						continue
					}
					want := raftConfig(r.GetConfiguration().Configuration()).String()
					if got := n.Raft.Config.String(); got != want {
						t.Fatalf("step %d (%v): n%d publishes %q; raft has %q", step, ev, i+1, got, want)
					}
					if want != "voters n1,n2,n3" {
						changes++
					}
				}
			}
			if changes == 0 {
				t.Error("the configuration never changed: the walk tested nothing")
			}
		})
	}
}

// TestFailCallsToDown: under Options.FailCallsToDown (recorded as
// Config["calls_to_down"] "fail"), the requests in the network to a node
// fail when it crashes, and those sent while it was down fail when it
// recovers: none reaches the next incarnation. Without it they stay, and
// the recovered node is sent them.
func TestFailCallsToDown(t *testing.T) {
	toN3 := func(h *harness) int {
		n := 0
		for _, m := range h.c.Pending() {
			if m.Request && m.Msg.To == 3 {
				n++
			}
		}
		return n
	}
	for _, fail := range []bool{false, true} {
		spec := interpose.TargetSpec{Name: "test", Nodes: 3, Seed: 7, Config: map[string]string{}}
		if fail {
			spec.Config["calls_to_down"] = "fail"
		}
		h := newHarnessSpec(t, spec, Options{})
		h.elect(1)
		h.must(interpose.Event{Kind: interpose.Advance, Node: 1}) // heartbeats to n2 and n3
		if toN3(h) == 0 {
			t.Fatalf("fail %v: no request in the network to n3 before its crash", fail)
		}
		h.must(interpose.Event{Kind: interpose.Crash, Node: 3})
		atCrash := toN3(h)
		whileDown := toN3(h)
		for i := 0; i < 10 && whileDown <= atCrash; i++ { // more, while n3 is down (after a failed call's backoff)
			h.must(interpose.Event{Kind: interpose.Advance, Node: 1})
			whileDown = toN3(h)
		}
		h.must(interpose.Event{Kind: interpose.Recover, Node: 3})
		atRecovery := toN3(h)
		if fail && (atCrash != 0 || whileDown == 0 || atRecovery != 0) {
			t.Errorf("fail: requests to n3 after its crash %d, while down %d, after its recovery %d; want 0, some, 0", atCrash, whileDown, atRecovery)
		}
		if !fail && (atCrash == 0 || atRecovery < whileDown) {
			t.Errorf("held: requests to n3 after its crash %d, while down %d, after its recovery %d; want them kept", atCrash, whileDown, atRecovery)
		}
		h.settle() // n1's replication goes on either way
		if h.role(1) != "leader" {
			t.Errorf("fail %v: n1 is %s after n3 came back", fail, h.role(1))
		}
	}
}
