package hraft

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/interpose"
)

// TestDiskFaults: a failed log write fails the leader's write and costs it
// its leadership, as raft answers a log store error; a stall holds a
// store call for its virtual time, so that a write through a leader whose
// disk stalls stays pending until time passes for it; a heal with nothing
// to heal, or a fault on a node never started, is not enabled.
func TestDiskFaults(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	h.write(1, "a=1")

	h.must(interpose.Event{Kind: interpose.Disk, Node: 1, Op: interpose.DiskFail})
	if res := h.must(interpose.Event{Kind: interpose.Client, Node: 1, Data: "b=2"}); !strings.Contains(res, "disk fault (injected)") {
		t.Errorf("a write on a failing disk: %q", res)
	}
	h.settle()
	if h.role(1) == "leader" {
		t.Error("n1 still leads after its log store failed a write")
	}
	if _, err := h.apply(interpose.Event{Kind: interpose.Disk, Node: 1, Op: interpose.DiskHeal}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("heal of a disk whose fault was spent: %v", err)
	}

	h2 := newHarness(t, 3, Options{})
	h2.elect(2)
	h2.must(interpose.Event{Kind: interpose.Disk, Node: 2, Op: interpose.DiskStall, Took: 3 * time.Second})
	if res := h2.must(interpose.Event{Kind: interpose.Client, Node: 2, Data: "c=3"}); res != "pending" {
		t.Fatalf("a write through a stalled disk: %q, want pending", res)
	}
	h2.settle()
	if len(h2.obs.Completions) != 0 {
		t.Fatalf("the write completed while the disk stalled: %+v", h2.obs.Completions)
	}
	for i := 0; i < 200 && len(h2.obs.Completions) == 0; i++ {
		h2.must(interpose.Event{Kind: interpose.Advance, Node: 2})
		h2.settle()
	}
	if c := h2.obs.Completions; len(c) != 1 || !strings.HasPrefix(c[0].Result, "index ") {
		t.Errorf("after time passed: completions %+v, want the write's index", c)
	}
	if _, err := h2.apply(interpose.Event{Kind: interpose.Disk, Node: 2, Op: interpose.DiskHeal}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("heal after the stall was spent: %v", err)
	}
}

// TestTornCrash: a tear kills the node just before its Nth store write from
// now. A follower torn before its second write keeps the first entry it
// stored and not the second, answers nothing for the delivery that tore it,
// and is down at the end of that event; recovered, it reads back exactly
// what was stored before the tear. A leader torn before its next write
// loses the client's entry, and a Crash of a node already down is not
// enabled.
func TestTornCrash(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	h.write(1, "a=1")
	base := h.facts(2).LastIndex

	h.must(interpose.Event{Kind: interpose.Disk, Node: 2, Op: interpose.DiskTear, Nth: 2})
	h.must(interpose.Event{Kind: interpose.Client, Node: 1, Data: "b=2"})
	ae := h.advanceUntil(1, "AppendEntries", 2)
	if res := h.must(interpose.Event{Kind: interpose.Deliver, Msg: ae}); strings.Contains(res, "torn") {
		t.Fatalf("n2 torn at its first write: %q", res)
	}
	if got := h.facts(2).LastIndex; got != base+1 {
		t.Fatalf("n2's last index %d after its first write, want %d", got, base+1)
	}
	h.settle()
	h.must(interpose.Event{Kind: interpose.Client, Node: 1, Data: "c=3"})
	ae = h.advanceUntil(1, "AppendEntries", 2)
	res := h.must(interpose.Event{Kind: interpose.Deliver, Msg: ae})
	if !strings.Contains(res, "n2 crashed just before its LogStore.StoreLogs (torn)") {
		t.Fatalf("the delivery that tears n2: %q", res)
	}
	if s := h.c.State(2); s != interpose.Down {
		t.Fatalf("n2 is %v after its tear, want down", s)
	}
	if h.pending("AppendEntriesResp", 2, 1) != 0 {
		t.Error("n2 answered the delivery it died in")
	}
	if _, err := h.apply(interpose.Event{Kind: interpose.Crash, Node: 2}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("crash of the torn node: %v", err)
	}
	if got := h.facts(2).LastIndex; got != base+1 {
		t.Errorf("n2 down: last index %d, want %d (the torn write lost)", got, base+1)
	}
	h.must(interpose.Event{Kind: interpose.Recover, Node: 2})
	if got := h.facts(2).LastIndex; got != base+1 {
		t.Errorf("n2 recovered: last index %d, want %d", got, base+1)
	}
	h.settle()

	// The leader itself, before its next write: the entry is never stored.
	last := h.facts(1).LastIndex
	h.must(interpose.Event{Kind: interpose.Disk, Node: 1, Op: interpose.DiskTear, Nth: 1})
	res = h.must(interpose.Event{Kind: interpose.Client, Node: 1, Data: "d=4"})
	if !strings.Contains(res, "n1 crashed just before its LogStore.StoreLogs (torn)") {
		t.Fatalf("a write through a leader torn before its next write: %q", res)
	}
	if got := h.facts(1).LastIndex; got != last {
		t.Errorf("n1's last index %d after the tear, want %d", got, last)
	}
}

// TestTornVote: the example of a crash between two store calls of
// one raft operation. A follower torn before its second write while it
// grants a vote has stored the candidate's term and not its vote: down, and
// recovered, it is in the new term without having voted in it; the
// candidate is elected with the third node's vote.
func TestTornVote(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.must(interpose.Event{Kind: interpose.Disk, Node: 2, Op: interpose.DiskTear, Nth: 2})
	h.elect(1)
	f := h.facts(2)
	if h.c.State(2) != interpose.Down || f.Term != h.facts(1).Term || f.VoteTerm == f.Term {
		t.Fatalf("n2 after the election: %v, term %d, vote n%d in term %d; want down in n1's term %d without a vote in it",
			h.c.State(2), f.Term, f.Vote, f.VoteTerm, h.facts(1).Term)
	}
	h.must(interpose.Event{Kind: interpose.Recover, Node: 2})
	if g := h.facts(2); g.Term != f.Term || g.VoteTerm == g.Term {
		t.Errorf("n2 recovered: term %d, vote in term %d; want term %d and no vote in it", g.Term, g.VoteTerm, f.Term)
	}
}
