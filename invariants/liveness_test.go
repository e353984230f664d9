package invariants_test

import (
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// node is a live node with Raft facts.
func node(id int, role string, term, applied uint64, voters ...int) interpose.NodeView {
	s := &interpose.RaftState{Role: role, Term: term, AppliedIndex: applied}
	if len(voters) > 0 {
		s.Config = &interpose.RaftConfig{Voters: voters}
	}
	return interpose.NodeView{Node: id, Started: true, Up: true, Facts: s}
}

func TestLeaderMonitor(t *testing.T) {
	for _, c := range []struct {
		name  string
		nodes []interpose.NodeView
		hot   bool
		owed  string
	}{
		{"a leader followed", []interpose.NodeView{node(1, "leader", 3, 0), node(2, "follower", 3, 0), node(3, "follower", 3, 0)}, false, ""},
		{"no leader", []interpose.NodeView{node(1, "candidate", 3, 0), node(2, "follower", 3, 0)}, true, "no leader among 2 live nodes"},
		{"a voter in another term", []interpose.NodeView{node(1, "leader", 3, 0), node(2, "candidate", 4, 0)}, true, "n1 leads term 3 but n2 is candidate in term 4"},
		{"a non-voter of the leader's configuration is not waited for",
			[]interpose.NodeView{node(1, "leader", 3, 0, 1, 2), node(2, "follower", 3, 0, 1, 2), node(3, "candidate", 9, 0)}, false, ""},
		{"nothing that is Raft", []interpose.NodeView{{Node: 1, Started: true, Up: true}}, false, ""},
		{"a majority never configured owes nothing",
			[]interpose.NodeView{node(1, "candidate", 5, 0), node(2, "init", 0, 0), node(3, "init", 0, 0), node(4, "init", 0, 0)}, false, ""},
		{"a majority of the configuration down owes nothing",
			[]interpose.NodeView{node(1, "candidate", 5, 0, 1, 2, 3), {Node: 2, Started: true}, {Node: 3, Started: true}}, false, ""},
		{"a majority up is owed a leader",
			[]interpose.NodeView{node(1, "candidate", 5, 0, 1, 2, 3), node(2, "follower", 5, 0, 1, 2, 3), {Node: 3, Started: true}}, true, "no leader among 2 live nodes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &invariants.LeaderMonitor{}
			hot, owed := m.Observe(&interpose.View{Nodes: c.nodes, Stabilizing: true, Step: 10})
			if hot != c.hot || !strings.Contains(owed, c.owed) {
				t.Errorf("Observe = %v, %q; want %v, %q", hot, owed, c.hot, c.owed)
			}
		})
	}
}

// TestCommitMonitor: hot until a write of the phase completes, then until
// every live voter applied it; a write completed before the phase does
// not count.
func TestCommitMonitor(t *testing.T) {
	m := &invariants.CommitMonitor{}
	nodes := []interpose.NodeView{node(1, "leader", 2, 4), node(2, "follower", 2, 4)}
	steps := []struct {
		view *interpose.View
		hot  bool
	}{
		{&interpose.View{Nodes: nodes, Step: 11, Completions: []interpose.Completion{{Index: 3, Result: "index 4"}}}, true},
		{&interpose.View{Nodes: nodes, Step: 13, Completions: []interpose.Completion{{Index: 11, Result: "index 5"}}}, true},
		{&interpose.View{Nodes: []interpose.NodeView{node(1, "leader", 2, 5), node(2, "follower", 2, 4)}, Step: 14}, true},
		{&interpose.View{Nodes: []interpose.NodeView{node(1, "leader", 2, 5), node(2, "follower", 2, 5)}, Step: 15}, false},
	}
	for i, s := range steps {
		s.view.Stabilizing = true
		if hot, owed := m.Observe(s.view); hot != s.hot {
			t.Errorf("view %d: hot %v (%q), want %v", i, hot, owed, s.hot)
		}
	}
}

// TestAcceptsMonitor: hot once the leader refused a write of the phase and
// until it accepts one; refusals by a node that does not lead, before the
// phase, or during a transfer do not count; a new leader starts afresh.
func TestAcceptsMonitor(t *testing.T) {
	m := &invariants.AcceptsMonitor{}
	lead1 := []interpose.NodeView{node(1, "leader", 2, 4), node(2, "follower", 2, 4)}
	lead2 := []interpose.NodeView{node(1, "follower", 3, 4), node(2, "leader", 3, 4)}
	steps := []struct {
		nodes []interpose.NodeView
		comp  []interpose.Completion
		hot   bool
	}{
		{lead1, []interpose.Completion{{Index: 3, Node: 1, Result: "node is not the leader"}}, false},  // before the phase
		{lead1, []interpose.Completion{{Index: 12, Node: 2, Result: "node is not the leader"}}, false}, // not the leader
		{lead1, []interpose.Completion{{Index: 13, Node: 1, Result: "leadership transfer in progress"}}, false},
		{lead1, []interpose.Completion{{Index: 14, Node: 1, Result: "not leader"}}, true},
		{lead1, nil, true},
		{lead1, []interpose.Completion{{Index: 16, Node: 1, Result: "index 5"}}, false},
		{lead2, []interpose.Completion{{Index: 17, Node: 2, Result: "raft is already shutdown"}}, true}, // a new leader
		{lead2, []interpose.Completion{{Index: 18, Node: 2, Result: "pending"}}, false},
	}
	for i, s := range steps {
		v := &interpose.View{Nodes: s.nodes, Step: 11 + i, Completions: s.comp, Stabilizing: true}
		if hot, owed := m.Observe(v); hot != s.hot {
			t.Errorf("view %d: hot %v (%q), want %v", i, hot, owed, s.hot)
		}
	}
}

// monitorFunc is a Monitor of a function, for tests.
type monitorFunc func(*interpose.View) (bool, string)

func (monitorFunc) Name() string                               { return "Test" }
func (f monitorFunc) Observe(v *interpose.View) (bool, string) { return f(v) }

// TestLivenessSettle: monitors are observed only during the phase; one
// still hot at the end is a violation naming what it owes and since when.
func TestLivenessSettle(t *testing.T) {
	seen := 0
	l := invariants.NewLiveness(nil, monitorFunc(func(v *interpose.View) (bool, string) {
		seen++
		return v.Step < 20, "something"
	}))
	l.Check(&interpose.View{Step: 5})
	if seen != 0 || l.Hot() {
		t.Fatalf("observed before the phase: %d", seen)
	}
	l.Check(&interpose.View{Step: 12, Stabilizing: true})
	if !l.Hot() {
		t.Fatal("not hot")
	}
	vs := l.Settle()
	if len(vs) != 1 || vs[0].Invariant != "Liveness:Test" || vs[0].Fingerprint != "Liveness:Test" ||
		!strings.Contains(vs[0].Detail, "something at the end of the stabilization phase (owed since event 12)") {
		t.Fatalf("settle: %+v", vs)
	}
	l.Check(&interpose.View{Step: 21, Stabilizing: true})
	if l.Hot() || len(l.Settle()) != 0 {
		t.Error("a cold monitor is a violation")
	}
}
