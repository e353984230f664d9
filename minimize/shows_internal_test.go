package minimize

import (
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

// TestShowsHoldsTheLabel: a candidate of an input labelled by its cause
// (#696's Liveness:Commit, told by the phase's answers) reproduces only
// when its replay is labelled so too, not by the fingerprint alone, which
// every cause of an uncommitted phase shares.
func TestShowsHoldsTheLabel(t *testing.T) {
	spec := interpose.TargetSpec{Name: "hraft-serial", Config: map[string]string{"raft": "hashicorp/raft v1.8.0"}}
	commit := &interpose.Violation{Invariant: "Liveness:Commit", Fingerprint: "Liveness:Commit"}
	final := []interpose.NodeView{{Node: 2, Started: true, Up: true, Facts: &interpose.RaftState{Role: interpose.RoleLeader, Term: 4}}}
	answered := func(result string) []interpose.Event {
		ev := []interpose.Event{{Kind: interpose.Stabilize}}
		for range 3 {
			ev = append(ev, interpose.Event{Kind: interpose.Client, Node: 2, Result: result})
		}
		return ev
	}
	replay := func(v *interpose.Violation, events []interpose.Event) *interpose.ReplayResult {
		return &interpose.ReplayResult{Violation: v, Schedule: &interpose.Schedule{Target: spec, Events: events, Final: final, Violation: v}}
	}
	stall := replay(commit, answered("leadership transfer in progress"))
	other := replay(commit, answered("leadership lost while committing log"))
	leader := replay(&interpose.Violation{Invariant: "Liveness:Leader", Fingerprint: "Liveness:Leader"}, answered("leadership transfer in progress"))
	for _, c := range []struct {
		name string
		bug  string
		r    *interpose.ReplayResult
		want bool
	}{
		{"labelled input, labelled replay", "hashicorp/raft#696", stall, true},
		{"labelled input, another cause", "hashicorp/raft#696", other, false},
		{"labelled input, another fingerprint", "hashicorp/raft#696", leader, false},
		{"unlabelled input: the fingerprint is enough", "", other, true},
	} {
		m := &minimizer{fp: "Liveness:Commit", bug: c.bug}
		if got := m.shows(c.r); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
