package interpose

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeSystem is a tiny System: nodes 1..n that are not started, up or down, a
// network of pending messages, and observations queued for the next View.
//
// Client data of the form "bad:<fp>" makes the node report a fault with
// fingerprint fp at the next View; every client operation completes (its
// Completion is queued) at the next View. A membership event with op "boom"
// fails with an error that is not ErrNotEnabled.
type fakeSystem struct {
	n       int
	state   []NodeState // 1-based
	pending []Message
	seq     uint64

	queued View        // observations for the next View
	view   View        // storage reused by View, like a real adapter may
	facts  []RaftState // per node, reused by View and published by pointer
	views  int         // View calls

	applied []int   // index argument of every successful Apply
	calls   []Event // every event passed to Apply
}

func newFakeSystem(n int, pending ...Msg) *fakeSystem {
	f := &fakeSystem{n: n, state: make([]NodeState, n+1), facts: make([]RaftState, n+1)}
	for _, m := range pending {
		f.send(m)
	}
	return f
}

func (f *fakeSystem) send(m Msg) {
	f.seq++
	f.pending = append(f.pending, Message{Seq: f.seq, Msg: m, Request: true, Deliverable: true})
}

func (f *fakeSystem) Nodes() int { return f.n }

func (f *fakeSystem) State(node int) NodeState { return f.state[node] }

func (f *fakeSystem) Pending() []Message { return slices.Clone(f.pending) }

func (f *fakeSystem) Apply(index int, ev Event) (Event, error) {
	f.calls = append(f.calls, ev)
	res, err := f.apply(index, ev)
	if err == nil {
		f.applied = append(f.applied, index)
	}
	ev.Result = res
	return ev, err
}

func (f *fakeSystem) apply(index int, ev Event) (string, error) {
	if ev.Result != "" {
		return "", fmt.Errorf("fake: event arrived with a recorded result %q", ev.Result)
	}
	notEnabled := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrNotEnabled, fmt.Sprintf(format, args...))
	}
	switch ev.Kind {
	case Deliver, Drop, Duplicate:
		i := slices.IndexFunc(f.pending, func(m Message) bool { return ev.Msg.Matches(m.Msg) })
		if i < 0 {
			return "", notEnabled("no pending %s", ev.Msg)
		}
		m := f.pending[i]
		switch ev.Kind {
		case Deliver:
			f.pending = slices.Delete(f.pending, i, i+1)
			return "delivered " + m.Msg.Key, nil
		case Drop:
			f.pending = slices.Delete(f.pending, i, i+1)
			return "dropped", nil
		default:
			f.send(m.Msg)
			return "duplicated", nil
		}
	case Start:
		if f.state[ev.Node] != NotStarted {
			return "", notEnabled("n%d already started", ev.Node)
		}
		f.state[ev.Node] = Up
		return "started", nil
	case Crash:
		if f.state[ev.Node] != Up {
			return "", notEnabled("n%d not up", ev.Node)
		}
		f.state[ev.Node] = Down
		return "crashed", nil
	case Recover:
		if f.state[ev.Node] != Down {
			return "", notEnabled("n%d not down", ev.Node)
		}
		f.state[ev.Node] = Up
		return "recovered", nil
	case Client:
		if f.state[ev.Node] != Up {
			return "", notEnabled("n%d not up", ev.Node)
		}
		if fp, ok := strings.CutPrefix(ev.Data, "bad:"); ok {
			f.queued.Faults = append(f.queued.Faults, Violation{
				Invariant:   "fake-invariant",
				Fingerprint: fp,
				Detail:      fmt.Sprintf("n%d saw %q", ev.Node, ev.Data),
			})
		}
		f.queued.Completions = append(f.queued.Completions, Completion{Index: index, Result: "committed " + ev.Data})
		return "pending", nil
	case Membership:
		if ev.Op == "boom" {
			return "", errors.New("fake: adapter failure")
		}
		return "ok", nil
	}
	return "ok", nil
}

func (f *fakeSystem) View() *View {
	f.views++
	v := &f.view
	v.Reset()
	v.Nodes = v.Nodes[:0]
	for i := 1; i <= f.n; i++ {
		f.facts[i] = RaftState{Role: RoleFollower, Term: uint64(f.views)} // changes with every View
		v.Nodes = append(v.Nodes, NodeView{
			Node:    i,
			Started: f.state[i] != NotStarted,
			Up:      f.state[i] == Up,
			Facts:   &f.facts[i],
		})
	}
	v.Faults = append(v.Faults, f.queued.Faults...)
	v.Completions = append(v.Completions, f.queued.Completions...)
	f.queued.Reset()
	return v
}

func (f *fakeSystem) Close() error { return nil }

// faultChecker reports the faults the adapter saw, and counts its calls.
type faultChecker struct{ calls int }

func (c *faultChecker) Check(v *View) []Violation {
	c.calls++
	return slices.Clone(v.Faults)
}

var fakeSpec = TargetSpec{Name: "fake", Nodes: 3, Seed: 1}

var (
	m1 = Msg{Type: "Ping", From: 1, To: 2, Key: "k1"}
	m2 = Msg{Type: "Ping", From: 2, To: 3, Key: "k2"}
	m9 = Msg{Type: "Ping", From: 3, To: 1, Key: "k9"} // never pending
)

func TestControllerStepRecords(t *testing.T) {
	sys := newFakeSystem(3, m1, m2)
	ctl := NewController(sys, &faultChecker{}, fakeSpec)
	if ctl.System() != System(sys) {
		t.Errorf("System() does not return the controlled system")
	}
	steps := []struct {
		ev         Event
		wantResult string
		notEnabled bool
	}{
		{Event{Kind: Start, Node: 1}, "started", false},
		{Event{Kind: Start, Node: 1}, "", true},
		{Event{Kind: Deliver, Msg: &m1}, "delivered k1", false},
		{Event{Kind: Deliver, Msg: &m1}, "", true}, // no longer pending
		{Event{Kind: Deliver, Msg: &m9}, "", true},
		{Event{Kind: Crash, Node: 2}, "", true}, // not started
		{Event{Kind: Duplicate, Msg: &m2}, "duplicated", false},
		{Event{Kind: Drop, Msg: &Msg{Type: "Ping", From: 2, To: 3}}, "dropped", false}, // type-only matches
		{Event{Kind: Crash, Node: 1}, "crashed", false},
		{Event{Kind: Client, Node: 1, Data: "x"}, "", true}, // n1 down
		{Event{Kind: Recover, Node: 1}, "recovered", false},
		{Event{Kind: Client, Node: 1, Data: "x"}, "pending", false},
	}
	var want []Event
	for i, st := range steps {
		res, err := ctl.Step(st.ev)
		if st.notEnabled {
			if !errors.Is(err, ErrNotEnabled) {
				t.Fatalf("step %d (%v): err = %v, want ErrNotEnabled", i+1, st.ev, err)
			}
		} else {
			if err != nil {
				t.Fatalf("step %d (%v): %v", i+1, st.ev, err)
			}
			e := st.ev
			e.Result = st.wantResult
			want = append(want, e)
		}
		if res != st.wantResult {
			t.Errorf("step %d (%v): result %q, want %q", i+1, st.ev, res, st.wantResult)
		}
		if ctl.Len() != len(want) {
			t.Errorf("step %d: Len() = %d, want %d", i+1, ctl.Len(), len(want))
		}
	}
	// Apply got the index each event has in the recorded schedule.
	if wantIdx := []int{0, 1, 2, 3, 4, 5, 6}; !slices.Equal(sys.applied, wantIdx) {
		t.Errorf("Apply indexes = %v, want %v", sys.applied, wantIdx)
	}
	// The client's completion arrived at the check after it and patched its
	// result.
	want[len(want)-1].Result = "committed x"
	s := ctl.Schedule()
	if !reflect.DeepEqual(s.Events, want) {
		t.Errorf("recorded events:\n%v\nwant\n%v", s.Events, want)
	}
	if s.Version != Version || !reflect.DeepEqual(s.Target, fakeSpec) {
		t.Errorf("schedule header = version %d target %+v", s.Version, s.Target)
	}
	if s.Violation != nil || ctl.Violation() != nil || len(ctl.Violations()) != 0 {
		t.Errorf("unexpected violation %v", s.Violation)
	}
}

func TestControllerStepOtherError(t *testing.T) {
	sys := newFakeSystem(3)
	ctl := NewController(sys, &faultChecker{}, fakeSpec)
	if _, err := ctl.Step(Event{Kind: Start, Node: 1}); err != nil {
		t.Fatal(err)
	}
	views := sys.views
	_, err := ctl.Step(Event{Kind: Membership, Node: 1, Op: "boom", Peer: 2})
	if err == nil || errors.Is(err, ErrNotEnabled) {
		t.Fatalf("err = %v, want a plain error", err)
	}
	if ctl.Len() != 1 {
		t.Errorf("failed event recorded: Len() = %d", ctl.Len())
	}
	if sys.views != views {
		t.Errorf("failed event triggered a check")
	}
}

func TestControllerCheckEvery(t *testing.T) {
	tests := []struct {
		every  int
		events int
		views  int
	}{
		{0, 7, 7},
		{1, 7, 7},
		{-2, 4, 4},
		{2, 7, 3},
		{3, 7, 2},
		{3, 9, 3},
		{3, 2, 0},
		{10, 7, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("every=%d/events=%d", tt.every, tt.events), func(t *testing.T) {
			sys := newFakeSystem(3)
			chk := &faultChecker{}
			ctl := NewController(sys, chk, fakeSpec)
			ctl.CheckEvery = tt.every
			var viewsAt []int
			for i := range tt.events {
				if _, err := ctl.Step(Event{Kind: Advance, Node: 1 + i%3}); err != nil {
					t.Fatal(err)
				}
				viewsAt = append(viewsAt, sys.views)
				// A not-enabled event does not count towards CheckEvery.
				if _, err := ctl.Step(Event{Kind: Deliver, Msg: &m9}); !errors.Is(err, ErrNotEnabled) {
					t.Fatalf("deliver of a message never sent: %v", err)
				}
			}
			if sys.views != tt.views {
				t.Errorf("View called %d times (after each event: %v), want %d", sys.views, viewsAt, tt.views)
			}
			if chk.calls != sys.views {
				t.Errorf("checker called %d times, View %d", chk.calls, sys.views)
			}
			// Checks fall on every k-th event.
			k := max(tt.every, 1)
			for i, v := range viewsAt {
				if want := (i + 1) / k; v != want {
					t.Errorf("after event %d: %d views, want %d", i+1, v, want)
				}
			}
			// Check forces one.
			before := sys.views
			ctl.Check()
			if sys.views != before+1 || chk.calls != before+1 {
				t.Errorf("Check(): views %d, checker calls %d, want %d", sys.views, chk.calls, before+1)
			}
		})
	}
}

func TestControllerCheckResetsCount(t *testing.T) {
	sys := newFakeSystem(3)
	ctl := NewController(sys, &faultChecker{}, fakeSpec)
	ctl.CheckEvery = 3
	adv := Event{Kind: Advance, Node: 1}
	var got []int
	for i := range 8 {
		if i == 2 {
			ctl.Check() // forced check after 2 events restarts the count
		}
		if _, err := ctl.Step(adv); err != nil {
			t.Fatal(err)
		}
		got = append(got, sys.views)
	}
	// Events 1,2 -> forced check (1 view) -> events 3,4,5: check at 5 ->
	// 6,7,8: check at 8.
	want := []int{0, 0, 1, 1, 2, 2, 2, 3}
	if !slices.Equal(got, want) {
		t.Errorf("views after each event = %v, want %v", got, want)
	}
}

func TestControllerCompletions(t *testing.T) {
	tests := []struct {
		name  string
		every int
	}{
		{"every event", 1},
		{"every 4", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newFakeSystem(3)
			ctl := NewController(sys, nil, fakeSpec)
			ctl.CheckEvery = tt.every
			evs := []Event{
				{Kind: Start, Node: 1},
				{Kind: Client, Node: 1, Data: "a"},
				{Kind: Advance, Node: 1},
				{Kind: Client, Node: 1, Data: "b"},
			}
			for _, ev := range evs {
				if _, err := ctl.Step(ev); err != nil {
					t.Fatal(err)
				}
			}
			got := ctl.Schedule().Events
			results := make([]string, len(got))
			for i, e := range got {
				results[i] = e.Result
			}
			if want := []string{"started", "committed a", "ok", "committed b"}; !slices.Equal(results, want) {
				t.Errorf("results = %q, want %q", results, want)
			}
		})
	}

	// Before the check that carries the completion, the recorded result is
	// the immediate one.
	sys := newFakeSystem(3)
	ctl := NewController(sys, nil, fakeSpec)
	ctl.CheckEvery = 10
	for _, ev := range []Event{{Kind: Start, Node: 2}, {Kind: Client, Node: 2, Data: "z"}} {
		if _, err := ctl.Step(ev); err != nil {
			t.Fatal(err)
		}
	}
	if r := ctl.Schedule().Events[1].Result; r != "pending" {
		t.Errorf("before the check: result %q, want pending", r)
	}
	// Completions for indexes outside the schedule are ignored.
	sys.queued.Completions = append(sys.queued.Completions,
		Completion{Index: -1, Result: "neg"},
		Completion{Index: 2, Result: "future"},
		Completion{Index: 99, Result: "far"},
		Completion{Index: 0, Result: "restarted"},
	)
	if v := ctl.Check(); v != nil {
		t.Errorf("Check() with no checker = %v", v)
	}
	got := ctl.Schedule().Events
	if len(got) != 2 || got[0].Result != "restarted" || got[1].Result != "committed z" {
		t.Errorf("after the check: %+v", got)
	}
	// A completion is applied once: the View empties its observations.
	if _, err := ctl.Step(Event{Kind: Advance, Node: 2}); err != nil {
		t.Fatal(err)
	}
	ctl.Check()
	if got := ctl.Schedule().Events; got[1].Result != "committed z" || got[2].Result != "ok" {
		t.Errorf("after a second check: %+v", got)
	}
}

func TestControllerViolations(t *testing.T) {
	tests := []struct {
		name      string
		every     int
		wantStep  int      // Step of the first violation
		wantFps   []string // fingerprints of every violation, in order
		wantSteps []int    // Step of every violation
	}{
		// Events: 1 start, 2 bad:one, 3 advance, 4 bad:two, 5 bad:three, 6 advance.
		{"every event", 0, 2, []string{"one", "two", "three"}, []int{2, 4, 5}},
		{"every 3", 3, 3, []string{"one", "two", "three"}, []int{3, 6, 6}},
		// The check at event 4 sees one and two; bad:three is still queued
		// (no check falls on event 6).
		{"every 4", 4, 4, []string{"one", "two"}, []int{4, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newFakeSystem(3)
			chk := &faultChecker{}
			ctl := NewController(sys, chk, fakeSpec)
			ctl.CheckEvery = tt.every
			evs := []Event{
				{Kind: Start, Node: 1},
				{Kind: Client, Node: 1, Data: "bad:one"},
				{Kind: Advance, Node: 1},
				{Kind: Client, Node: 1, Data: "bad:two"},
				{Kind: Client, Node: 1, Data: "bad:three"},
				{Kind: Advance, Node: 1},
			}
			for _, ev := range evs {
				if _, err := ctl.Step(ev); err != nil {
					t.Fatal(err)
				}
			}
			first := ctl.Violation()
			if first == nil {
				t.Fatal("no violation")
			}
			if first.Fingerprint != "one" || first.Step != tt.wantStep {
				t.Errorf("first violation = %+v, want fingerprint one at step %d", first, tt.wantStep)
			}
			var fps []string
			var steps []int
			for _, v := range ctl.Violations() {
				fps = append(fps, v.Fingerprint)
				steps = append(steps, v.Step)
			}
			if !slices.Equal(fps, tt.wantFps) || !slices.Equal(steps, tt.wantSteps) {
				t.Errorf("Violations() = %v at steps %v, want %v at %v", fps, steps, tt.wantFps, tt.wantSteps)
			}
			if v := ctl.Check(); v == nil || v.Fingerprint != "one" {
				t.Errorf("Check() = %v, want the first violation", v)
			}
			s := ctl.Schedule()
			if s.Violation == nil || *s.Violation != *first {
				t.Errorf("Schedule().Violation = %v, want %v", s.Violation, first)
			}
		})
	}
}

func TestControllerScheduleIsCopy(t *testing.T) {
	sys := newFakeSystem(3, m1)
	ctl := NewController(sys, &faultChecker{}, fakeSpec)
	for _, ev := range []Event{
		{Kind: Start, Node: 1},
		{Kind: Start, Node: 2},
		{Kind: Deliver, Msg: &m1},
		{Kind: Client, Node: 1, Data: "bad:fp"},
		{Kind: Partition, Groups: [][]int{{1}, {2, 3}}},
	} {
		if _, err := ctl.Step(ev); err != nil {
			t.Fatal(err)
		}
	}
	snap := ctl.Schedule()
	ref := ctl.Schedule()
	if !reflect.DeepEqual(snap, ref) {
		t.Fatal("two Schedule() calls differ")
	}
	if len(snap.Final) != 3 || !snap.Final[0].Up || !snap.Final[1].Started || snap.Final[2].Started {
		t.Errorf("Final = %+v", snap.Final)
	}

	// Mutate everything the caller can reach through value fields and slices.
	snap.Events[0].Result = "mutated"
	snap.Events[1].Kind = Crash
	snap.Events[2] = Event{Kind: Heal}
	snap.Events = append(snap.Events[:1], Event{Kind: Heal})
	snap.Final[0].Facts.(*RaftState).Role = "mutated"
	snap.Final[1] = NodeView{}
	snap.Violation.Fingerprint = "mutated"
	snap.Violation.Step = 99
	snap.Version = 7

	got := ctl.Schedule()
	if !reflect.DeepEqual(got, ref) {
		t.Errorf("mutating a returned schedule changed the controller's:\n got %+v\nwant %+v", got, ref)
	}
	if v := ctl.Violation(); v.Fingerprint != "fp" || v.Step != 4 {
		t.Errorf("controller violation changed: %+v", v)
	}

	// A later check does not change an earlier snapshot's Final, even though
	// the system reuses its View storage and publishes its facts by pointer.
	term := func(s *Schedule) uint64 {
		st, ok := RaftOf(s.Final[0])
		if !ok {
			t.Fatalf("Final[0] lost its Raft state: %v", s.Final[0])
		}
		return st.Term
	}
	finalTerm := term(ref)
	if _, err := ctl.Step(Event{Kind: Advance, Node: 1}); err != nil {
		t.Fatal(err)
	}
	if term(ref) != finalTerm {
		t.Errorf("earlier snapshot's Final changed: term %d, was %d", term(ref), finalTerm)
	}
	if now := term(ctl.Schedule()); now == finalTerm {
		t.Errorf("Final not refreshed by the later check (term %d)", now)
	}
	// Appending to a snapshot does not write into the controller's storage.
	snap2 := ctl.Schedule()
	_ = append(snap2.Events[:2], Event{Kind: Heal, Result: "x"})
	if got := ctl.Schedule().Events[2]; got.Kind != Deliver {
		t.Errorf("append to a snapshot overwrote event 3: %+v", got)
	}
	// Take hands out owned facts too: the system's next View does not
	// reach them.
	taken := ctl.Take()
	takenTerm := term(taken)
	sys.View()
	if term(taken) != takenTerm {
		t.Errorf("Take's Final changed with the system's next View: term %d, was %d", term(taken), takenTerm)
	}
}

func TestControllerNilChecker(t *testing.T) {
	sys := newFakeSystem(2)
	ctl := NewController(sys, nil, TargetSpec{Name: "fake", Nodes: 2})
	if _, err := ctl.Step(Event{Kind: Start, Node: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Step(Event{Kind: Client, Node: 1, Data: "bad:ignored"}); err != nil {
		t.Fatal(err)
	}
	if ctl.Violation() != nil || ctl.Violations() != nil {
		t.Errorf("violations with no checker: %v", ctl.Violations())
	}
	if sys.views != 2 {
		t.Errorf("View called %d times, want 2", sys.views)
	}
	if f := ctl.Schedule().Final; len(f) != 2 || !f[0].Up {
		t.Errorf("Final = %+v", f)
	}
}

// replayInput is a recorded schedule to replay against newFakeSystem(3, m1, m2).
func replayInput() *Schedule {
	return &Schedule{
		Version: Version,
		Target:  fakeSpec,
		Events: []Event{
			{Kind: Start, Node: 1, Result: "stale"},         // 1 applied
			{Kind: Deliver, Msg: &m1, Result: "stale"},      // 2 applied
			{Kind: Deliver, Msg: &m9, Result: "stale"},      // skipped: never pending
			{Kind: Crash, Node: 2},                          // skipped: not started
			{Kind: Client, Node: 1, Data: "bad:fp1"},        // 3 applied: violation
			{Kind: Drop, Msg: &m2},                          // 4 applied
			{Kind: Recover, Node: 3},                        // skipped: not started
			{Kind: Client, Node: 1, Data: "bad:fp2"},        // 5 applied
			{Kind: Start, Node: 2},                          // 6 applied
			{Kind: Deliver, Msg: &m1, Result: "delivered?"}, // skipped: already delivered
		},
	}
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name      string
		opts      ReplayOptions
		applied   int
		skipped   int
		wantStep  int
		wantKinds []Kind
	}{
		{"stop at violation", ReplayOptions{}, 3, 2, 3, []Kind{Start, Deliver, Client}},
		{"stop, check every 1", ReplayOptions{CheckEvery: 1}, 3, 2, 3, []Kind{Start, Deliver, Client}},
		// Seen at the check after event 4 (the 4th applied).
		{"stop, check every 2", ReplayOptions{CheckEvery: 2}, 4, 2, 4, []Kind{Start, Deliver, Client, Drop}},
		// No periodic check falls on it; the final check finds it.
		{"stop, check every 100", ReplayOptions{CheckEvery: 100}, 6, 4, 6, []Kind{Start, Deliver, Client, Drop, Client, Start}},
		{"keep going", ReplayOptions{KeepGoing: true}, 6, 4, 3, []Kind{Start, Deliver, Client, Drop, Client, Start}},
		{"keep going, check every 2", ReplayOptions{KeepGoing: true, CheckEvery: 2}, 6, 4, 4, []Kind{Start, Deliver, Client, Drop, Client, Start}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := replayInput()
			orig := replayInput()
			sys := newFakeSystem(3, m1, m2)
			res, err := Replay(sys, &faultChecker{}, in, tt.opts)
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			if res.Applied != tt.applied || res.Skipped != tt.skipped {
				t.Errorf("Applied/Skipped = %d/%d, want %d/%d", res.Applied, res.Skipped, tt.applied, tt.skipped)
			}
			if res.Violation == nil || res.Violation.Fingerprint != "fp1" || res.Violation.Step != tt.wantStep {
				t.Errorf("Violation = %+v, want fp1 at step %d", res.Violation, tt.wantStep)
			}
			if !res.Reproduced("fp1") || res.Reproduced("fp2") || res.Reproduced("") {
				t.Errorf("Reproduced wrong for %+v", res.Violation)
			}
			// The result schedule holds what was applied, with fresh results.
			var kinds []Kind
			for _, e := range res.Schedule.Events {
				kinds = append(kinds, e.Kind)
				if strings.Contains(e.Result, "stale") || e.Result == "" {
					t.Errorf("event %v has result %q", e, e.Result)
				}
			}
			if !slices.Equal(kinds, tt.wantKinds) {
				t.Errorf("replayed kinds = %v, want %v", kinds, tt.wantKinds)
			}
			if len(res.Schedule.Events) != res.Applied {
				t.Errorf("%d events in the result schedule, Applied = %d", len(res.Schedule.Events), res.Applied)
			}
			if res.Schedule.Violation == nil || *res.Schedule.Violation != *res.Violation {
				t.Errorf("result schedule violation %v, want %v", res.Schedule.Violation, res.Violation)
			}
			if !reflect.DeepEqual(res.Schedule.Target, in.Target) || res.Schedule.Version != Version {
				t.Errorf("result schedule header %d %+v", res.Schedule.Version, res.Schedule.Target)
			}
			if len(res.Schedule.Final) != 3 {
				t.Errorf("result schedule Final = %+v", res.Schedule.Final)
			}
			// Apply never saw a recorded result, and the input is untouched.
			if !reflect.DeepEqual(in, orig) {
				t.Errorf("Replay modified its input schedule")
			}
			// Events after a stop were not even attempted.
			if !tt.opts.KeepGoing {
				if got := len(sys.calls); got != res.Applied+res.Skipped {
					t.Errorf("Apply called %d times, want %d", got, res.Applied+res.Skipped)
				}
			}
		})
	}
}

func TestReplayNoViolation(t *testing.T) {
	in := &Schedule{Version: Version, Target: fakeSpec, Events: []Event{
		{Kind: Start, Node: 1},
		{Kind: Deliver, Msg: &m9},
		{Kind: Client, Node: 1, Data: "ok"},
	}}
	res, err := Replay(newFakeSystem(3), &faultChecker{}, in, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Violation != nil || res.Schedule.Violation != nil {
		t.Errorf("Violation = %v", res.Violation)
	}
	if res.Applied != 2 || res.Skipped != 1 {
		t.Errorf("Applied/Skipped = %d/%d, want 2/1", res.Applied, res.Skipped)
	}
	if res.Reproduced("") || res.Reproduced("fp") {
		t.Errorf("Reproduced true with no violation")
	}
	// The final check collected the client's completion.
	if r := res.Schedule.Events[1].Result; r != "committed ok" {
		t.Errorf("client result %q", r)
	}

	// An empty schedule replays to nothing, still checked once.
	sys := newFakeSystem(3)
	res, err = Replay(sys, &faultChecker{}, &Schedule{Version: Version, Target: fakeSpec}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 0 || res.Skipped != 0 || len(res.Schedule.Events) != 0 || sys.views != 1 {
		t.Errorf("empty replay: %+v, %d views", res, sys.views)
	}
}

func TestReplayError(t *testing.T) {
	in := &Schedule{Version: Version, Target: fakeSpec, Events: []Event{
		{Kind: Start, Node: 1},
		{Kind: Deliver, Msg: &m9},
		{Kind: Membership, Node: 1, Op: "boom", Peer: 2},
		{Kind: Start, Node: 2},
	}}
	sys := newFakeSystem(3)
	res, err := Replay(sys, &faultChecker{}, in, ReplayOptions{KeepGoing: true})
	if err == nil {
		t.Fatalf("Replay succeeded: %+v", res)
	}
	if res != nil {
		t.Errorf("Replay returned a result with its error")
	}
	if want := "replay event 3 (membership): fake: adapter failure"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if len(sys.calls) != 3 {
		t.Errorf("Apply called %d times after the error, want 3", len(sys.calls))
	}
}

func TestReplayResultReproduced(t *testing.T) {
	tests := []struct {
		name string
		v    *Violation
		fp   string
		want bool
	}{
		{"nil violation", nil, "fp", false},
		{"nil violation empty fp", nil, "", false},
		{"match", &Violation{Invariant: "inv", Fingerprint: "inv/a"}, "inv/a", true},
		{"other fingerprint", &Violation{Invariant: "inv", Fingerprint: "inv/a"}, "inv/b", false},
		{"invariant is not the fingerprint", &Violation{Invariant: "inv", Fingerprint: "inv/a"}, "inv", false},
		{"empty fingerprint matches empty", &Violation{Invariant: "inv"}, "", true},
	}
	for _, tt := range tests {
		r := &ReplayResult{Violation: tt.v}
		if got := r.Reproduced(tt.fp); got != tt.want {
			t.Errorf("%s: Reproduced(%q) = %v, want %v", tt.name, tt.fp, got, tt.want)
		}
	}
}

// A replay passes an advance's recorded duration to the system only when
// timed, and never with wildcards (the schedule was edited).
func TestReplayTimedPassesTook(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ReplayOptions
		want time.Duration
	}{
		{"untimed", ReplayOptions{}, 0},
		{"timed", ReplayOptions{Timed: true}, 3 * time.Second},
		{"timed wildcard", ReplayOptions{Timed: true, Wildcard: true}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys := newFakeSystem(1)
			s := &Schedule{Version: Version, Events: []Event{
				{Kind: Start, Node: 1},
				{Kind: Advance, Node: 1, Took: 3 * time.Second, Result: "+3s"},
			}}
			if _, err := Replay(sys, nil, s, tc.opts); err != nil {
				t.Fatal(err)
			}
			if len(sys.calls) != 2 || sys.calls[1].Took != tc.want || sys.calls[1].Result != "" {
				t.Fatalf("the system got %+v, want took %v and no result", sys.calls, tc.want)
			}
		})
	}
}
