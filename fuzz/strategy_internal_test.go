package fuzz

import (
	"math/rand/v2"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

func msg(seq uint64, from, to int, typ string) interpose.Message {
	return interpose.Message{Seq: seq, Msg: interpose.Msg{Type: typ, From: from, To: to}, Deliverable: true}
}

// TestPCTPicksOldestOfTopChannel: PCT delivers the oldest message of the
// channel with the highest priority, and a change point sends the channel
// it just delivered below every other.
func TestPCTPicksOldestOfTopChannel(t *testing.T) {
	p := newPCT(rand.New(rand.NewPCG(1, 2)), 1, 100, 3)
	pending := []interpose.Message{
		msg(9, 1, 2, "AppendEntries"), msg(4, 1, 2, "AppendEntries"), msg(6, 2, 3, "RequestVote"),
		msg(2, 3, 1, "VoteCandidate"), msg(7, 2, 3, "AppendEntries"),
	}
	all := func(*interpose.Message) bool { return true }
	first, ok := p.pick(pending, all)
	if !ok {
		t.Fatal("nothing picked")
	}
	top := p.priority(first)
	for _, m := range pending {
		if pr := p.priority(m); pr > top {
			t.Errorf("picked a message of priority %v, %v has %v", top, m.Msg, pr)
		}
		if m.Msg.From == first.Msg.From && m.Msg.To == first.Msg.To && m.Seq < first.Seq {
			t.Errorf("picked seq %d of its channel, seq %d is older", first.Seq, m.Seq)
		}
	}
	// A change point at step 5 demotes the channel delivered then.
	p.change[5] = true
	p.delivered(first, 4)
	if again, _ := p.pick(pending, all); again != first {
		t.Errorf("no change point, but the pick moved from %v to %v", first.Msg, again.Msg)
	}
	p.delivered(first, 5)
	next, _ := p.pick(pending, all)
	if next.Msg.From == first.Msg.From && next.Msg.To == first.Msg.To {
		t.Errorf("after the change point the demoted channel %d->%d still runs first", first.Msg.From, first.Msg.To)
	}
	// A later demotion goes lower still: the first demoted channel runs
	// before the second.
	p.change[6] = true
	p.delivered(next, 6)
	if third, _ := p.pick([]interpose.Message{first, next}, all); third != first {
		t.Errorf("the first demoted channel should outrank the second: picked %v", third.Msg)
	}
	// keep filters.
	if _, ok := p.pick(pending, func(*interpose.Message) bool { return false }); ok {
		t.Error("picked a message keep refused")
	}
}

func TestNewPCTChangePoints(t *testing.T) {
	for _, c := range []struct{ depth, events, max int }{{1, 100, 0}, {3, 100, 2}, {10, 400, 9}, {3, 1, 0}} {
		p := newPCT(rand.New(rand.NewPCG(3, 4)), c.depth, c.events, 4)
		if len(p.change) > c.max || c.max > 0 && len(p.change) == 0 {
			t.Errorf("depth %d over %d events: %d change points", c.depth, c.events, len(p.change))
		}
		for step := range p.change {
			if step < 1 || step >= c.events {
				t.Errorf("change point %d outside [1, %d)", step, c.events)
			}
		}
	}
}

// TestParseWeights: named kinds take their weight, the others keep the
// base's; an unknown kind, a missing "=" or a bad number is an error that
// leaves nothing changed.
func TestParseWeights(t *testing.T) {
	base := DefaultWeights()
	w, err := ParseWeights("crash=15, recover=30,disk=2", base)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.Crash, want.Recover, want.Disk = 15, 30, 2
	if w != want {
		t.Errorf("got %+v\nwant %+v", w, want)
	}
	for _, bad := range []string{"frob=3", "crash", "crash=x", "crash=-1", "crash=2000000", ""} {
		if got, err := ParseWeights(bad, base); err == nil || got != base {
			t.Errorf("ParseWeights(%q) = %+v, %v; want an error and the base", bad, got, err)
		}
	}
}
