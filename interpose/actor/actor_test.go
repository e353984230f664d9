package actor_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
)

// ping carries a sequence number around a ring.
type ping struct{ n int }

func (p ping) Type() string { return "Ping" }
func (p ping) Key() string  { return "n=" + strconv.Itoa(p.n) }

type cmd struct{ data string }

func (c cmd) Type() string { return "Cmd" }
func (c cmd) Key() string  { return "data=" + c.data }

// ringer sends a ping to the next node on each Tick, counting what it sent
// in persistent state and what it received in volatile state. A client's
// "panic" makes it panic.
type ringer struct {
	got []string
}

func (r *ringer) Init(ctx *actor.Context) { ctx.SetTimer("Tick") }

func (r *ringer) Receive(ctx *actor.Context, from int, m actor.Message) {
	switch m := m.(type) {
	case actor.Timer:
		sent, _ := ctx.Load("sent")
		n, _ := sent.(int)
		ctx.Store("sent", n+1)
		ctx.Send(ctx.Self()%ctx.Nodes()+1, ping{n + 1})
		ctx.SetTimer("Tick")
	case ping:
		r.got = append(r.got, fmt.Sprintf("n%d:%d", from, m.n))
		ctx.Claim(uint64(m.n))
	case cmd:
		if m.data == "panic" {
			panic("asked to panic at " + strconv.Itoa(len(r.got)))
		}
		ctx.Respond("ok " + m.data)
	}
}

func (r *ringer) Facts() interpose.Facts {
	return interpose.FactList{{Name: "received", Value: strconv.Itoa(len(r.got))}}
}

func ringTarget() *actor.Target {
	return actor.NewTarget("ring", "", actor.Program{
		New: func(int, int) actor.Process { return &ringer{} },
		Client: func(data string) (actor.Message, error) {
			if data == "" {
				return nil, errors.New("empty command")
			}
			return cmd{data}, nil
		},
	})
}

func open(t testing.TB, nodes int) *actor.System {
	t.Helper()
	tg := ringTarget()
	sys, err := tg.Open(nil, tg.Spec(nodes, 1))
	if err != nil {
		t.Fatal(err)
	}
	return sys.(*actor.System)
}

// pings returns the pending pings (timers are pending too).
func pings(sys interpose.System) []interpose.Message {
	var out []interpose.Message
	for _, m := range sys.Pending() {
		if m.Msg.Type == "Ping" {
			out = append(out, m)
		}
	}
	return out
}

func apply(t *testing.T, sys interpose.System, ev interpose.Event) interpose.Event {
	t.Helper()
	got, err := sys.Apply(0, ev)
	if err != nil {
		t.Fatalf("%v: %v", ev, err)
	}
	return got
}

func TestTimersMessagesCrashes(t *testing.T) {
	sys := open(t, 2)
	for n := 1; n <= 2; n++ {
		apply(t, sys, interpose.Event{Kind: interpose.Start, Node: n})
	}
	// An advance without Until fires the node's earliest timer and records it.
	ev := apply(t, sys, interpose.Event{Kind: interpose.Advance, Node: 1})
	if ev.Until == nil || ev.Until.Type != "Tick" || ev.Until.From != 1 {
		t.Fatalf("advance recorded %v", ev.Until)
	}
	apply(t, sys, interpose.Event{Kind: interpose.Advance, Node: 1})
	p := pings(sys)
	if len(p) != 2 || p[0].Msg.Key != "n=1" || p[1].Msg.Key != "n=2" || !p[0].Deliverable {
		t.Fatalf("pending %v", p)
	}
	// A crash keeps the store; messages to the down node wait.
	apply(t, sys, interpose.Event{Kind: interpose.Crash, Node: 2})
	if p := pings(sys); p[0].Deliverable {
		t.Error("a message to a down node is deliverable")
	}
	if _, err := sys.Apply(0, interpose.Event{Kind: interpose.Deliver, Msg: &p[0].Msg}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("deliver to a down node: %v", err)
	}
	if _, err := sys.Apply(0, interpose.Event{Kind: interpose.Advance, Node: 2}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("advance of a down node: %v", err)
	}
	apply(t, sys, interpose.Event{Kind: interpose.Recover, Node: 2})
	// The type-only wildcard delivers the oldest ping.
	wild := interpose.Msg{Type: "Ping", From: 1, To: 2}
	if ev := apply(t, sys, interpose.Event{Kind: interpose.Deliver, Msg: &wild}); ev.Msg.Key != "n=1" {
		t.Errorf("delivered %v", ev.Msg)
	}
	// Node 1's persistent count survives its crash: its next ping is n=3.
	apply(t, sys, interpose.Event{Kind: interpose.Crash, Node: 1})
	apply(t, sys, interpose.Event{Kind: interpose.Recover, Node: 1})
	tick := interpose.Msg{Type: "Tick", From: 1, To: 1, Key: "timer"}
	apply(t, sys, interpose.Event{Kind: interpose.Advance, Node: 1, Until: &tick})
	var keys []string
	for _, m := range pings(sys) {
		keys = append(keys, m.Msg.Key)
	}
	if got := strings.Join(keys, " "); got != "n=2 n=3" {
		t.Errorf("pending keys %q", got)
	}
	v := sys.View()
	if len(v.Claims) != 1 || v.Claims[0] != (interpose.Claim{Node: 2, Term: 1}) || v.Nodes[1].String() != "n2 up: received 1" || v.Nodes[0].String() != "n1 up: received 0" {
		t.Errorf("view: claims %v, nodes %+v", v.Claims, v.Nodes)
	}
	if v := sys.View(); len(v.Claims) != 0 {
		t.Errorf("claims reported twice: %v", v.Claims)
	}
}

// TestTimersArePending: an armed timer is a pending message of its node to
// itself; delivering it fires it, dropping it disarms it.
func TestTimersArePending(t *testing.T) {
	sys := open(t, 2)
	apply(t, sys, interpose.Event{Kind: interpose.Start, Node: 1})
	p := sys.Pending()
	tick := interpose.Msg{Type: "Tick", From: 1, To: 1, Key: "timer"}
	if len(p) != 1 || p[0].Msg != tick || !p[0].Deliverable {
		t.Fatalf("pending %v", p)
	}
	if ev := apply(t, sys, interpose.Event{Kind: interpose.Deliver, Msg: &tick}); *ev.Msg != tick {
		t.Errorf("delivered %v", ev.Msg)
	}
	if p := pings(sys); len(p) != 1 {
		t.Errorf("the timer did not fire: %v", sys.Pending())
	}
	apply(t, sys, interpose.Event{Kind: interpose.Drop, Msg: &tick})
	if _, err := sys.Apply(0, interpose.Event{Kind: interpose.Advance, Node: 1}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("advance after the timer was dropped: %v", err)
	}
	if _, err := sys.Apply(0, interpose.Event{Kind: interpose.Duplicate, Msg: &tick}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("duplicate of a timer: %v", err)
	}
}

func TestClientsAndPanics(t *testing.T) {
	sys := open(t, 3)
	for n := 1; n <= 3; n++ {
		apply(t, sys, interpose.Event{Kind: interpose.Start, Node: n})
	}
	if ev := apply(t, sys, interpose.Event{Kind: interpose.Client, Node: 2, Data: "x"}); ev.Result != "ok x" {
		t.Errorf("client result %q", ev.Result)
	}
	if ev := apply(t, sys, interpose.Event{Kind: interpose.Client, Node: 2}); ev.Result != "rejected: empty command" {
		t.Errorf("rejected client result %q", ev.Result)
	}
	ev := apply(t, sys, interpose.Event{Kind: interpose.Client, Node: 3, Data: "panic"})
	if !strings.Contains(ev.Result, "n3 panicked") {
		t.Errorf("panicking client result %q", ev.Result)
	}
	if sys.State(3) != interpose.Down {
		t.Error("a node that panicked is not down")
	}
	v := sys.View()
	if len(v.Faults) != 1 || v.Faults[0].Fingerprint != "NoPanic: Cmd: asked to panic at N" {
		t.Errorf("faults %+v", v.Faults)
	}
	if _, err := sys.Apply(0, interpose.Event{Kind: interpose.Membership, Node: 1, Op: interpose.AddVoter, Peer: 2}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("membership: %v", err)
	}
	if _, err := sys.Apply(0, interpose.Event{Kind: interpose.Crash, Node: 9}); err == nil || errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("crash of a node that does not exist: %v", err)
	}
}

func TestPartition(t *testing.T) {
	sys := open(t, 3)
	for n := 1; n <= 3; n++ {
		apply(t, sys, interpose.Event{Kind: interpose.Start, Node: n})
	}
	apply(t, sys, interpose.Event{Kind: interpose.Partition, Groups: [][]int{{1}, {2, 3}}})
	apply(t, sys, interpose.Event{Kind: interpose.Advance, Node: 1}) // ping to 2, across the cut
	apply(t, sys, interpose.Event{Kind: interpose.Advance, Node: 2}) // ping to 3, same side
	p := pings(sys)
	if p[0].Msg.From != 1 || p[0].Deliverable || p[1].Msg.From != 2 || !p[1].Deliverable {
		t.Fatalf("pending %+v", p)
	}
	apply(t, sys, interpose.Event{Kind: interpose.Heal})
	if !pings(sys)[0].Deliverable {
		t.Error("still cut after the heal")
	}
}

// TestReplayIsExact records a random walk and replays it: the same events,
// results and final views.
func TestReplayIsExact(t *testing.T) {
	tg := ringTarget()
	spec := tg.Spec(4, 7)
	rng := rand.New(rand.NewPCG(1, 2))
	sys, _ := tg.Open(nil, spec)
	ctl := interpose.NewController(sys, nil, spec)
	for n := 1; n <= 4; n++ {
		ctl.Step(interpose.Event{Kind: interpose.Start, Node: n})
	}
	for range 500 {
		p := sys.Pending()
		var ev interpose.Event
		switch r := rng.IntN(10); {
		case r < 6 && len(p) > 0:
			m := p[rng.IntN(len(p))].Msg
			ev = interpose.Event{Kind: interpose.Deliver, Msg: &m}
		case r < 7:
			ev = interpose.Event{Kind: interpose.Crash, Node: 1 + rng.IntN(4)}
		case r < 8:
			ev = interpose.Event{Kind: interpose.Recover, Node: 1 + rng.IntN(4)}
		default:
			ev = interpose.Event{Kind: interpose.Advance, Node: 1 + rng.IntN(4)}
		}
		ctl.Step(ev)
	}
	ctl.Check()
	rec := ctl.Schedule()
	sys2, _ := tg.Open(nil, spec)
	res, err := interpose.Replay(sys2, nil, rec, interpose.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 0 || len(res.Schedule.Events) != len(rec.Events) {
		t.Fatalf("replay skipped %d events", res.Skipped)
	}
	for i, e := range rec.Events {
		if g := res.Schedule.Events[i]; g.Key() != e.Key() || g.Result != e.Result {
			t.Fatalf("event %d: replayed %v (%q), recorded %v (%q)", i+1, g, g.Result, e, e.Result)
		}
	}
	if !slices.EqualFunc(res.Schedule.Final, rec.Final, interpose.NodeView.Equal) || len(rec.Final) == 0 {
		t.Errorf("final states differ:\n%v\n%v", res.Schedule.Final, rec.Final)
	}
}

// BenchmarkRing measures the runtime alone: 4 ring nodes, a seeded walk of
// deliveries and timer firings through the controller, 1,000 events a run
// (setup included). The case studies' Raft has its own benchmark.
func BenchmarkRing(b *testing.B) {
	tg := ringTarget()
	spec := tg.Spec(4, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	events := 0
	for b.Loop() {
		sys, _ := tg.Open(nil, spec)
		ctl := interpose.NewController(sys, nil, spec)
		for n := 1; n <= 4; n++ {
			ctl.Step(interpose.Event{Kind: interpose.Start, Node: n})
		}
		for range 1000 {
			p := sys.Pending()
			ev := interpose.Event{Kind: interpose.Advance, Node: 1 + rng.IntN(4)}
			if len(p) > 0 && rng.IntN(3) > 0 {
				m := p[rng.IntN(len(p))].Msg
				ev = interpose.Event{Kind: interpose.Deliver, Msg: &m}
			}
			ctl.Step(ev)
		}
		events += ctl.Len()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
