package interpose_test

import (
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

func TestNetwork(t *testing.T) {
	var w interpose.Network
	if !w.Passes(1, 2) || w.Heal() {
		t.Fatal("the zero network is not whole")
	}
	for _, c := range []struct {
		name     string
		ev       interpose.Event
		from, to int
		passes   bool
	}{
		{"same side", interpose.Event{Groups: [][]int{{1, 2}, {3}}}, 1, 2, true},
		{"across", interpose.Event{Groups: [][]int{{1, 2}, {3}}}, 1, 3, false},
		{"across, back", interpose.Event{Groups: [][]int{{1, 2}, {3}}}, 3, 1, false},
		{"one-way: the muted node hears", interpose.Event{Groups: [][]int{{1, 2}, {3}}, Op: interpose.OneWay}, 1, 3, true},
		{"one-way: nobody hears it", interpose.Event{Groups: [][]int{{1, 2}, {3}}, Op: interpose.OneWay}, 3, 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var w interpose.Network
			w.Cut(c.ev, 3)
			if got := w.Passes(c.from, c.to); got != c.passes {
				t.Errorf("Passes(%d, %d) = %v", c.from, c.to, got)
			}
			if !w.Heal() || !w.Passes(c.from, c.to) {
				t.Error("healed network still cut")
			}
		})
	}
}

// TestPhaseOfKeeps: the fault a phase keeps is read back from its Stabilize
// event, so that a replay or a minimizer makes the same phase again; a
// malformed one is refused when the schedule is read.
func TestPhaseOfKeeps(t *testing.T) {
	s := &interpose.Schedule{Version: interpose.Version, Target: interpose.TargetSpec{Name: "x", Nodes: 3},
		Events: []interpose.Event{{Kind: interpose.Start, Node: 1}, {Kind: interpose.Stabilize, Bound: 7, Op: interpose.Mute, Node: 2}}}
	_, o, ok := interpose.PhaseOf(s)
	if !ok || o.Bound != 7 || o.Keep != (interpose.Permanent{Kind: interpose.Mute, Node: 2}) {
		t.Fatalf("PhaseOf = %+v, %v", o, ok)
	}
	if got := s.Events[1].String(); got != "stabilize  keeping mute n2" {
		t.Errorf("String() = %q", got)
	}
	for _, bad := range []interpose.Event{
		{Kind: interpose.Stabilize, Op: "sulk", Node: 2},
		{Kind: interpose.Stabilize, Op: interpose.KeepDown, Node: 4},
		{Kind: interpose.Partition, Groups: [][]int{{1}, {2}, {3}}, Op: interpose.OneWay},
	} {
		b := *s
		b.Events = []interpose.Event{bad}
		if err := b.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
