package actor_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
	"github.com/faultline-dev/faultline/minimize"
	"github.com/faultline-dev/faultline/report"
)

// The deposit service: node 1 takes clients' deposits ("d1") and writes
// each to node 2, a storage mock whose write may fail, or fail after it
// wrote. The server retries a write that failed. With retry set it
// retries a write whose error came after the write was done, and the
// storage, which takes each deposit once, panics on the second: the kind
// of bug a mock with controlled choices exists to find.

type deposit struct{ id string }

func (d deposit) Type() string { return "Deposit" }
func (d deposit) Key() string  { return "id=" + d.id }

type write struct{ id string }

func (w write) Type() string { return "Write" }
func (w write) Key() string  { return "id=" + w.id }

type written struct {
	id string
	ok bool
}

func (w written) Type() string { return "Written" }
func (w written) Key() string  { return fmt.Sprintf("id=%s ok=%v", w.id, w.ok) }

var storageWrite = interpose.ChoicePoint{Name: "storage.write", Outcomes: []string{"ok", "error", "error-after-write"}}

// depositServer takes each deposit once (a client's second deposit of an
// id is refused) and writes it to the storage.
type depositServer struct{ seen map[string]bool }

func (s *depositServer) Init(*actor.Context) { s.seen = map[string]bool{} }

func (s *depositServer) Receive(ctx *actor.Context, from int, m actor.Message) {
	switch m := m.(type) {
	case deposit:
		if s.seen[m.id] {
			ctx.Respond("refused: " + m.id + " already taken")
			return
		}
		s.seen[m.id] = true
		ctx.Send(2, write(m))
		ctx.Respond("writing " + m.id)
	case written:
		if !m.ok {
			ctx.Send(2, write{m.id}) // retry
		}
	}
}

type storage struct{ idempotent bool }

func (s *storage) Init(*actor.Context) {}

func (s *storage) Receive(ctx *actor.Context, from int, m actor.Message) {
	w, ok := m.(write)
	if !ok {
		return
	}
	outcome := ctx.Choose(storageWrite.Name, storageWrite.Outcomes...)
	if outcome == 1 { // error: nothing written
		ctx.Send(from, written{w.id, false})
		return
	}
	if _, dup := ctx.Load(w.id); dup && !s.idempotent {
		panic("deposit " + w.id + " written twice")
	}
	ctx.Store(w.id, true)
	ctx.Send(from, written{w.id, outcome == 0})
}

func depositTarget(idempotent bool) *actor.Target {
	name := "deposits"
	if idempotent {
		name = "deposits-idempotent"
	}
	return actor.NewTarget(name, "", actor.Program{
		Nodes: 2,
		New: func(id, _ int) actor.Process {
			if id == 2 {
				return &storage{idempotent: idempotent}
			}
			return &depositServer{}
		},
		Client: func(data string) (actor.Message, error) { return deposit{data}, nil },
		Choices: func(node int) []interpose.ChoicePoint {
			if node == 2 {
				return []interpose.ChoicePoint{storageWrite}
			}
			return nil
		},
	})
}

// depositWalk is a fuzz run of the deposits: clients to node 1, the storage
// never crashing (a mock survives), deliveries and choices.
func depositOptions(seed uint64) fuzz.Options {
	return fuzz.Options{Seed: seed, Runs: 50, Events: 60, NoLiveness: true, Clients: []string{"d1", "d2"},
		Weights: &fuzz.Weights{Deliver: 100, Client: 10, Choice: 10}}
}

// TestChoicesFindWhatTheDefaultHides: the bug needs the storage to fail
// after writing. The fuzzer settles the mock's choices, finds it, and the
// schedule replays; without its choice events the same schedule takes the
// default outcome and shows nothing; an idempotent storage shows nothing
// on it either.
func TestChoicesFindWhatTheDefaultHides(t *testing.T) {
	res, err := fuzz.Run(t, depositTarget(false), depositOptions(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 {
		t.Fatalf("no violation in %d runs; faults %v", res.Runs, res.Faults)
	}
	v := res.Violations[0]
	if !strings.Contains(v.Fingerprint, "written twice") {
		t.Fatalf("%s: %s", v.Fingerprint, v.Detail)
	}
	if res.Faults["choice storage.write → error-after-write"] == 0 {
		t.Errorf("faults %v: no error-after-write settled", res.Faults)
	}
	s, err := fuzz.Walk(t, depositTarget(false), depositOptions(1), v.Run)
	if err != nil {
		t.Fatal(err)
	}
	if s.Violation == nil || s.Violation.Fingerprint != v.Fingerprint {
		t.Fatalf("walk %d again: %+v", v.Run, s.Violation)
	}
	made := slices.ContainsFunc(s.Events, func(e interpose.Event) bool {
		return e.Kind == interpose.Choice && e.Op == "error-after-write" && strings.Contains(e.Result, "next storage.write")
	})
	if !made || !slices.ContainsFunc(s.Events, func(e interpose.Event) bool {
		return strings.Contains(e.Result, "[storage.write: error-after-write]")
	}) {
		t.Errorf("the schedule does not show the choice settled and made:\n%s", s.Events)
	}
	rep, err := fuzz.Replay(t, depositTarget(false), s, fuzz.ReplayOptions{Repeat: 20})
	if err != nil || rep.Reproduced != 20 {
		t.Fatalf("replayed %d/20 (%v)", rep.Reproduced, err)
	}
	// The minimizer keeps the choice the bug needs and drops the rest.
	min, err := minimize.Minimize(t, depositTarget(false), s, minimize.Options{Budget: 10 * time.Second, FinalRuns: 5})
	if err != nil {
		t.Fatal(err)
	}
	var choices []string
	for _, e := range min.Schedule.Events {
		if e.Kind == interpose.Choice {
			choices = append(choices, e.Op)
		}
	}
	if !slices.Equal(choices, []string{"error-after-write"}) || min.Reproduced != min.Runs {
		t.Errorf("minimized to %d events with choices %v, %d/%d:\n%s", min.MinimizedEvents, choices, min.Reproduced, min.Runs,
			min.Schedule.Events)
	}
	t.Logf("%d -> %d events: %v", min.InitialEvents, min.MinimizedEvents, min.Schedule.Events)
	// Every format draws the choice, with no Raft wording.
	for _, format := range report.Formats {
		var b bytes.Buffer
		if err := report.Render(&b, format, "deposits.min.json", min.Schedule, report.Env{}, t, depositTarget(false)); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !strings.Contains(b.String(), "error-after-write") {
			t.Errorf("%s does not draw the choice:\n%s", format, b.String())
		}
	}
	without := *s
	without.Events = slices.DeleteFunc(slices.Clone(s.Events), func(e interpose.Event) bool { return e.Kind == interpose.Choice })
	rep, err = fuzz.Replay(t, depositTarget(false), &without, fuzz.ReplayOptions{Repeat: 1})
	if err != nil || rep.Reproduced != 0 {
		t.Errorf("without its choices: reproduced %d (%v, %v); want the default outcome and no violation", rep.Reproduced, rep.Seen, err)
	}
	ok := *s
	ok.Target.Name = "deposits-idempotent"
	rep, err = fuzz.Replay(t, depositTarget(true), &ok, fuzz.ReplayOptions{Repeat: 1})
	if err != nil || rep.Reproduced != 0 {
		t.Errorf("an idempotent storage: reproduced %d (%v)", rep.Reproduced, err)
	}
}

// TestChoiceEvents: a Choice event settles the next choice of its name at
// its node, once; an unknown choice or outcome, or a node that is down,
// is not enabled; a crash forgets what was settled.
func TestChoiceEvents(t *testing.T) {
	tg := depositTarget(false)
	sys, err := tg.Open(nil, tg.Spec(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	apply := func(ev interpose.Event) (interpose.Event, error) { return sys.Apply(0, ev) }
	for _, n := range []int{1, 2} {
		if _, err := apply(interpose.Event{Kind: interpose.Start, Node: n}); err != nil {
			t.Fatal(err)
		}
	}
	ch := sys.(interpose.Chooser)
	if got := ch.ChoicePoints(2); len(got) != 1 || got[0].Name != "storage.write" || len(ch.ChoicePoints(1)) != 0 {
		t.Fatalf("choice points %v, %v", ch.ChoicePoints(1), got)
	}
	for _, bad := range []interpose.Event{
		{Kind: interpose.Choice, Node: 2, Data: "storage.read", Op: "error"},
		{Kind: interpose.Choice, Node: 2, Data: "storage.write", Op: "timeout"},
		{Kind: interpose.Choice, Node: 1, Data: "storage.write", Op: "error"},
	} {
		if _, err := apply(bad); err == nil {
			t.Errorf("%v: enabled", bad)
		}
	}
	id := 0
	deliverWrite := func() string {
		t.Helper()
		id++
		d := fmt.Sprint("d", id)
		if _, err := apply(interpose.Event{Kind: interpose.Client, Node: 1, Data: d}); err != nil {
			t.Fatal(err)
		}
		ev, err := apply(interpose.Event{Kind: interpose.Deliver, Msg: &interpose.Msg{Type: "Write", From: 1, To: 2, Key: "id=" + d}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := apply(interpose.Event{Kind: interpose.Drop, Msg: &interpose.Msg{Type: "Written", From: 2, To: 1}}); err != nil {
			t.Fatal(err)
		}
		return ev.Result
	}
	ev, err := apply(interpose.Event{Kind: interpose.Choice, Node: 2, Data: "storage.write", Op: "error"})
	if err != nil || ev.Result != "next storage.write: error" {
		t.Fatalf("%v %v", ev, err)
	}
	if got := deliverWrite(); got != "[storage.write: error]" {
		t.Errorf("settled: %q", got)
	}
	if got := deliverWrite(); got != "[storage.write: ok]" {
		t.Errorf("once settled, the next takes the default: %q", got)
	}
	apply(interpose.Event{Kind: interpose.Choice, Node: 2, Data: "storage.write", Op: "error"})
	apply(interpose.Event{Kind: interpose.Crash, Node: 2})
	if _, err := apply(interpose.Event{Kind: interpose.Choice, Node: 2, Data: "storage.write", Op: "error"}); err == nil {
		t.Error("a choice settled on a node that is down")
	}
	apply(interpose.Event{Kind: interpose.Recover, Node: 2})
	if got := deliverWrite(); got != "[storage.write: ok]" {
		t.Errorf("after a crash: %q; want the default", got)
	}
}
