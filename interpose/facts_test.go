package interpose

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func raftView(node int, up bool, s RaftState) NodeView {
	return NodeView{Node: node, Started: true, Up: up, Facts: &s}
}

func TestRaftStateFacts(t *testing.T) {
	tests := []struct {
		name string
		s    RaftState
		want string
	}{
		{"follower, no vote", RaftState{Role: RoleFollower, Term: 1},
			"n1 up: role follower, term 1, last index 0, commit index 0, applied index 0"},
		{"leader with everything", RaftState{Role: RoleLeader, Term: 3, Vote: 1, VoteTerm: 3, LastIndex: 9, CommitIndex: 8, AppliedIndex: 7,
			SnapshotIndex: 4, Config: &RaftConfig{Voters: []int{1, 2}, Nonvoters: []int{3}}},
			"n1 up: role leader, term 3, vote n1 in term 3, last index 9, commit index 8, applied index 7, snapshot index 4, configuration voters n1,n2; nonvoters n3"},
		{"voters only", RaftState{Role: RoleCandidate, Term: 2, Config: &RaftConfig{Voters: []int{1, 2, 3}}},
			"n1 up: role candidate, term 2, last index 0, commit index 0, applied index 0, configuration voters n1,n2,n3"},
	}
	for _, tt := range tests {
		if got := raftView(1, true, tt.s).String(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestRaftOf(t *testing.T) {
	v := raftView(1, true, RaftState{Role: RoleLeader, Term: 2})
	if s, ok := RaftOf(v); !ok || s.Role != RoleLeader || s.Term != 2 {
		t.Errorf("RaftOf(typed) = %v, %v", s, ok)
	}
	for _, v := range []NodeView{
		{Node: 1},
		{Node: 1, Started: true, Up: true, Facts: FactList{{"role", "leader"}, {"term", "2"}}}, // read from a file
		{Node: 1, Started: true, Up: true, Facts: (*RaftState)(nil)},
	} {
		if s, ok := RaftOf(v); ok {
			t.Errorf("RaftOf(%v) = %v, true; want false", v, s)
		}
	}
}

func TestChange(t *testing.T) {
	rs := func(role string, term uint64) RaftState { return RaftState{Role: role, Term: term, LastIndex: term} }
	down := NodeView{Node: 1, Started: true}
	tests := []struct {
		name          string
		before, after NodeView
		want          string
	}{
		{"started", NodeView{Node: 1}, raftView(1, true, rs(RoleFollower, 1)), "n1 follower term 1"},
		{"recovered", down, raftView(1, true, rs(RoleFollower, 0)), "n1 follower term 0"},
		{"hraft down view before", raftView(1, false, rs("down", 4)), raftView(1, true, rs(RoleFollower, 4)), "n1 follower term 4"},
		{"role", raftView(1, true, rs(RoleFollower, 1)), raftView(1, true, rs(RoleCandidate, 1)), "n1 follower→candidate term 1"},
		{"term only", raftView(1, true, rs(RoleCandidate, 1)), raftView(1, true, rs(RoleCandidate, 2)), "n1 candidate term 2"},
		{"both", raftView(1, true, rs(RoleLeader, 2)), raftView(1, true, rs(RoleFollower, 3)), "n1 leader→follower term 3"},
		{"nothing in the headline", raftView(1, true, rs(RoleLeader, 2)), raftView(1, true, RaftState{Role: RoleLeader, Term: 2, CommitIndex: 9}), ""},
		{"crashed", raftView(1, true, rs(RoleLeader, 2)), down, ""},
		{"no facts", NodeView{Node: 1}, NodeView{Node: 1, Started: true, Up: true}, ""},
		{"a plain list headlines by its first fact", NodeView{Node: 2, Started: true, Up: true, Facts: FactList{{"state", "idle"}, {"count", "1"}}},
			NodeView{Node: 2, Started: true, Up: true, Facts: FactList{{"state", "ringing"}, {"count", "2"}}}, "n2 idle→ringing"},
	}
	for _, tt := range tests {
		if got := Change(tt.before, tt.after); got != tt.want {
			t.Errorf("%s: Change = %q; want %q", tt.name, got, tt.want)
		}
	}
}

// TestRaftHeadlineLeadsFacts: a Headliner's headline is the first of its
// facts, as the contract says.
func TestRaftHeadlineLeadsFacts(t *testing.T) {
	s := &RaftState{Role: RoleCandidate, Term: 7, Vote: 2, VoteTerm: 7, LastIndex: 3, Config: &RaftConfig{Voters: []int{1}}}
	h, all := s.AppendHeadline(nil), s.AppendFacts(nil)
	if len(h) != 2 || !reflect.DeepEqual(h, all[:len(h)]) {
		t.Errorf("headline %v; facts %v", h, all)
	}
}

func TestHeadline(t *testing.T) {
	tests := []struct {
		v    NodeView
		want string
	}{
		{raftView(1, true, RaftState{Role: RoleLeader, Term: 2, CommitIndex: 5}), "leader term 2"},
		{NodeView{Node: 1}, "not started"},
		{NodeView{Node: 1, Started: true}, "down"},
		{NodeView{Node: 1, Started: true, Up: true}, "up"},
		{NodeView{Node: 1, Started: true, Up: true, Facts: FactList{{"token", "held"}, {"passes", "3"}}}, "held"},
	}
	for _, tt := range tests {
		if got := tt.v.Headline(); got != tt.want {
			t.Errorf("%v: Headline = %q; want %q", tt.v, got, tt.want)
		}
	}
}

// opaque is Facts that is neither a FactList nor a Cloner.
type opaque struct{ n *int }

func (o opaque) AppendFacts(dst []Fact) []Fact {
	return append(dst, Fact{"n", strings.Repeat("x", *o.n)})
}

func TestClone(t *testing.T) {
	st := RaftState{Role: RoleLeader, Term: 2}
	list := FactList{{"a", "1"}}
	n := 1
	views := []NodeView{
		{Node: 1, Started: true, Up: true, Facts: &st},
		{Node: 2, Started: true, Up: true, Facts: list},
		{Node: 3, Started: true, Up: true, Facts: opaque{&n}},
		{Node: 4},
	}
	kept := CloneViews(views)
	st.Term, list[0].Value, n = 9, "9", 5 // the system's next View
	if s, ok := RaftOf(kept[0]); !ok || s.Term != 2 {
		t.Errorf("typed facts: %v, %v; want the Raft state of term 2", kept[0], ok)
	}
	if got := kept[1].List(); got[0].Value != "1" {
		t.Errorf("fact list: %v", got)
	}
	if got, ok := kept[2].Facts.(FactList); !ok || got[0].Value != "x" {
		t.Errorf("opaque facts kept as %#v; want the list they showed", kept[2].Facts)
	}
	if kept[3].Facts != nil {
		t.Errorf("no facts became %v", kept[3].Facts)
	}
	if CloneViews(nil) != nil {
		t.Error("CloneViews(nil) is not nil")
	}
}

func TestEqual(t *testing.T) {
	typed := raftView(1, true, RaftState{Role: RoleLeader, Term: 2})
	list := NodeView{Node: 1, Started: true, Up: true, Facts: FactList(typed.List())}
	if !typed.Equal(list) || !list.Equal(typed) {
		t.Error("a typed view and its list differ")
	}
	other := raftView(1, true, RaftState{Role: RoleLeader, Term: 3})
	downer := typed
	downer.Up = false
	for _, o := range []NodeView{other, downer, {Node: 1, Started: true, Up: true}} {
		if typed.Equal(o) {
			t.Errorf("%v equals %v", typed, o)
		}
	}
}

func TestNodeViewJSON(t *testing.T) {
	typed := raftView(2, true, RaftState{Role: RoleLeader, Term: 2, Vote: 2, VoteTerm: 2, LastIndex: 3,
		Config: &RaftConfig{Voters: []int{1, 2}, Nonvoters: []int{3}}})
	data, err := json.Marshal(typed)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"node":2,"started":true,"up":true,"facts":{"role":"leader","term":"2","vote":"n2 in term 2","last index":"3",` +
		`"commit index":"0","applied index":"0","configuration":"voters n1,n2; nonvoters n3"}}`
	if string(data) != want {
		t.Errorf("encoded\n%s\nwant\n%s", data, want)
	}
	var back NodeView
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, NodeView{Node: 2, Started: true, Up: true, Facts: FactList(typed.List())}) {
		t.Errorf("decoded %#v", back)
	}
	tests := []struct {
		name, in string
		want     NodeView
		err      string
	}{
		{"no facts", `{"node":1,"started":false,"up":false}`, NodeView{Node: 1}, ""},
		{"null facts", `{"node":1,"started":true,"up":false,"facts":null}`, NodeView{Node: 1, Started: true}, ""},
		{"numbers and booleans by hand", `{"node":1,"started":true,"up":true,"facts":{"term":3,"big":12345678901234567890,"ok":true}}`,
			NodeView{Node: 1, Started: true, Up: true, Facts: FactList{{"term", "3"}, {"big", "12345678901234567890"}, {"ok", "true"}}}, ""},
		{"order kept", `{"node":1,"started":true,"up":true,"facts":{"z":"1","a":"2"}}`,
			NodeView{Node: 1, Started: true, Up: true, Facts: FactList{{"z", "1"}, {"a", "2"}}}, ""},
		{"a name twice", `{"node":1,"started":true,"up":true,"facts":{"a":"1","a":"2"}}`, NodeView{}, `"a" twice`},
		{"a nested value", `{"node":1,"started":true,"up":true,"facts":{"a":{"b":1}}}`, NodeView{}, "not a string"},
		{"facts not an object", `{"node":1,"started":true,"up":true,"facts":["a"]}`, NodeView{}, "object of named facts"},
		{"unknown field", `{"node":1,"started":true,"up":true,"role":"leader"}`, NodeView{}, `unknown field "role"`},
	}
	for _, tt := range tests {
		var got NodeView
		err := json.Unmarshal([]byte(tt.in), &got)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v; want %q", tt.name, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case !reflect.DeepEqual(got, tt.want):
			t.Errorf("%s: decoded %#v; want %#v", tt.name, got, tt.want)
		}
	}
	// A name twice is the adapter's bug; encoding refuses it too.
	if _, err := json.Marshal(NodeView{Node: 1, Facts: FactList{{"a", "1"}, {"a", "2"}}}); err == nil {
		t.Error("encoded a view with a fact named twice")
	}
}

// TestParseRaftState: the facts a RaftState renders read back as the same
// state, and what is not a Raft node's facts does not.
func TestParseRaftState(t *testing.T) {
	for _, s := range []RaftState{
		{Role: RoleFollower, Term: 1, LastIndex: 1, CommitIndex: 0},
		{Role: RoleLeader, Term: 7, Vote: 2, VoteTerm: 7, LastIndex: 12, CommitIndex: 10, AppliedIndex: 9, SnapshotIndex: 4,
			Config: &RaftConfig{Voters: []int{1, 2}, Nonvoters: []int{3}}},
		{Role: "shutdown", Term: 3, Config: &RaftConfig{Voters: []int{2}}},
		{Role: RoleLeader, Term: 2, LastIndex: 3, CommitIndex: 1, Unpersisted: 2},
	} {
		got, ok := ParseRaftState(s.AppendFacts(nil))
		if !ok || !reflect.DeepEqual(*got, s) {
			t.Errorf("ParseRaftState(%v) = %+v, %v; want %+v", s.AppendFacts(nil), got, ok, s)
		}
		if r, ok := RaftRead(NodeView{Node: 1, Facts: FactList(s.AppendFacts(nil))}); !ok || !reflect.DeepEqual(*r, s) {
			t.Errorf("RaftRead of a file's view = %+v, %v", r, ok)
		}
	}
	for _, facts := range [][]Fact{
		nil,
		{{Name: "state", Value: "running"}},
		{{FactRole, "leader"}, {FactTerm, "x"}},
		{{FactRole, "leader"}, {FactTerm, "2"}, {FactConfiguration, "members n1"}},
		{{FactRole, "leader"}, {FactTerm, "2"}, {FactVote, "n1 in 2"}},
	} {
		if s, ok := ParseRaftState(facts); ok {
			t.Errorf("ParseRaftState(%v) = %+v: want not a Raft state", facts, s)
		}
	}
}
