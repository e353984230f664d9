package interpose

import (
	"slices"
	"testing"
)

func TestKindValidExternal(t *testing.T) {
	tests := []struct {
		kind     Kind
		valid    bool
		external bool
	}{
		{Deliver, true, false},
		{Drop, true, false},
		{Duplicate, true, false},
		{Advance, true, false},
		{Start, true, true},
		{Crash, true, true},
		{Recover, true, true},
		{Client, true, true},
		{Partition, true, true},
		{Heal, true, true},
		{Membership, true, true},
		{Transfer, true, true},
		{Stabilize, true, true},
		{Disk, true, true},
		{Choice, true, true},
		{"", false, true},
		{"Deliver", false, true},
		{"deliver ", false, true},
		{"teleport", false, true},
	}
	seen := map[Kind]bool{}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			if got := tt.kind.Valid(); got != tt.valid {
				t.Errorf("Kind(%q).Valid() = %v, want %v", tt.kind, got, tt.valid)
			}
			if got := tt.kind.External(); got != tt.external {
				t.Errorf("Kind(%q).External() = %v, want %v", tt.kind, got, tt.external)
			}
		})
		if tt.valid {
			seen[tt.kind] = true
		}
	}
	// The table covers every kind the package lists, and nothing else is valid.
	for _, k := range Kinds {
		if !seen[k] {
			t.Errorf("kind %q in Kinds is not covered by the table", k)
		}
	}
	if len(seen) != len(Kinds) {
		t.Errorf("table has %d valid kinds, Kinds has %d", len(seen), len(Kinds))
	}
}

func TestMsgTypeOnly(t *testing.T) {
	tests := []struct {
		in, want Msg
	}{
		{Msg{Type: "AppendEntries", From: 1, To: 2, Key: "term=3 prev=4/2 n=1"}, Msg{Type: "AppendEntries", From: 1, To: 2}},
		{Msg{Type: "RequestVote", From: 3, To: 1}, Msg{Type: "RequestVote", From: 3, To: 1}},
		{Msg{}, Msg{}},
	}
	for _, tt := range tests {
		if got := tt.in.TypeOnly(); got != tt.want {
			t.Errorf("%+v.TypeOnly() = %+v, want %+v", tt.in, got, tt.want)
		}
		if got := tt.in.TypeOnly(); !got.Matches(tt.in) {
			t.Errorf("%+v.TypeOnly() does not match the message it came from", tt.in)
		}
	}
}

func TestMsgMatches(t *testing.T) {
	full := Msg{Type: "AppendEntries", From: 1, To: 2, Key: "term=3"}
	wild := full.TypeOnly()
	tests := []struct {
		name string
		m, p Msg
		want bool
	}{
		{"full same", full, full, true},
		{"full other key", full, Msg{Type: "AppendEntries", From: 1, To: 2, Key: "term=4"}, false},
		{"full vs type-only pending", full, wild, false},
		{"full other type", full, Msg{Type: "RequestVote", From: 1, To: 2, Key: "term=3"}, false},
		{"full other from", full, Msg{Type: "AppendEntries", From: 3, To: 2, Key: "term=3"}, false},
		{"full other to", full, Msg{Type: "AppendEntries", From: 1, To: 3, Key: "term=3"}, false},
		{"wildcard any key", wild, full, true},
		{"wildcard other key", wild, Msg{Type: "AppendEntries", From: 1, To: 2, Key: "term=9"}, true},
		{"wildcard empty key", wild, wild, true},
		{"wildcard other type", wild, Msg{Type: "RequestVote", From: 1, To: 2, Key: "term=3"}, false},
		{"wildcard other from", wild, Msg{Type: "AppendEntries", From: 2, To: 2, Key: "term=3"}, false},
		{"wildcard other to", wild, Msg{Type: "AppendEntries", From: 1, To: 1, Key: "term=3"}, false},
		{"zero vs zero", Msg{}, Msg{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Matches(tt.p); got != tt.want {
				t.Errorf("%+v.Matches(%+v) = %v, want %v", tt.m, tt.p, got, tt.want)
			}
		})
	}
}

func TestMsgLess(t *testing.T) {
	tests := []struct {
		a, b Msg
		want bool // a < b
	}{
		{Msg{Type: "A"}, Msg{Type: "B"}, true},
		{Msg{Type: "B"}, Msg{Type: "A"}, false},
		// Type dominates source, destination and key.
		{Msg{Type: "A", From: 9, To: 9, Key: "z"}, Msg{Type: "B", From: 1, To: 1, Key: "a"}, true},
		{Msg{Type: "A", From: 1, To: 9, Key: "z"}, Msg{Type: "A", From: 2, To: 1, Key: "a"}, true},
		{Msg{Type: "A", From: 2, To: 1}, Msg{Type: "A", From: 1, To: 9}, false},
		{Msg{Type: "A", From: 1, To: 1, Key: "z"}, Msg{Type: "A", From: 1, To: 2, Key: "a"}, true},
		{Msg{Type: "A", From: 1, To: 2}, Msg{Type: "A", From: 1, To: 1, Key: "z"}, false},
		{Msg{Type: "A", From: 1, To: 1, Key: "a"}, Msg{Type: "A", From: 1, To: 1, Key: "b"}, true},
		{Msg{Type: "A", From: 1, To: 1, Key: "b"}, Msg{Type: "A", From: 1, To: 1, Key: "a"}, false},
		// A type-only fingerprint sorts before the full ones of its type.
		{Msg{Type: "A", From: 1, To: 1}, Msg{Type: "A", From: 1, To: 1, Key: "a"}, true},
		// Equal fingerprints: neither is less.
		{Msg{Type: "A", From: 1, To: 1, Key: "a"}, Msg{Type: "A", From: 1, To: 1, Key: "a"}, false},
		{Msg{}, Msg{}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Less(tt.b); got != tt.want {
			t.Errorf("%+v.Less(%+v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		// Strict order: at most one direction holds.
		if tt.a.Less(tt.b) && tt.b.Less(tt.a) {
			t.Errorf("%+v and %+v are each less than the other", tt.a, tt.b)
		}
		// CompareMessages orders messages as Less orders their
		// fingerprints, and by arrival between equal ones.
		a, b := Message{Seq: 2, Msg: tt.a}, Message{Seq: 1, Msg: tt.b}
		want := 1
		switch {
		case tt.a.Less(tt.b):
			want = -1
		case tt.a == tt.b:
			want = 1 // a arrived later
		}
		if got := CompareMessages(&a, &b); got != want {
			t.Errorf("CompareMessages(%+v, %+v) = %d, want %d", a, b, got, want)
		}
		if got := CompareMessages(&b, &b); got != 0 {
			t.Errorf("CompareMessages(%+v, itself) = %d, want 0", b, got)
		}
	}

	// Sorting with Less gives the canonical order.
	msgs := []Msg{
		{Type: "RequestVote", From: 2, To: 1, Key: "term=2"},
		{Type: "AppendEntries", From: 1, To: 3, Key: "term=1"},
		{Type: "AppendEntries", From: 1, To: 2, Key: "term=2"},
		{Type: "AppendEntries", From: 1, To: 2, Key: "term=1"},
		{Type: "AppendEntries", From: 1, To: 2},
		{Type: "AppendEntries", From: 0, To: 9},
	}
	want := []Msg{
		{Type: "AppendEntries", From: 0, To: 9},
		{Type: "AppendEntries", From: 1, To: 2},
		{Type: "AppendEntries", From: 1, To: 2, Key: "term=1"},
		{Type: "AppendEntries", From: 1, To: 2, Key: "term=2"},
		{Type: "AppendEntries", From: 1, To: 3, Key: "term=1"},
		{Type: "RequestVote", From: 2, To: 1, Key: "term=2"},
	}
	slices.SortFunc(msgs, func(a, b Msg) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})
	if !slices.Equal(msgs, want) {
		t.Errorf("sorted = %+v\nwant     %+v", msgs, want)
	}
}

func TestMsgString(t *testing.T) {
	tests := []struct {
		m    Msg
		want string
	}{
		{Msg{Type: "AppendEntries", From: 1, To: 2, Key: "term=3"}, "AppendEntries n1→n2 term=3"},
		{Msg{Type: "RequestVote", From: 3, To: 1}, "RequestVote n3→n1"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestEventKey(t *testing.T) {
	base := Event{
		Kind:   Client,
		Node:   1,
		Msg:    &Msg{Type: "AppendEntries", From: 1, To: 2, Key: "term=3"},
		Data:   "set x=1",
		Op:     AddVoter,
		Peer:   2,
		Groups: [][]int{{1}, {2, 3}},
		Result: "ok",
	}
	with := func(f func(e *Event)) Event {
		e := base
		e.Msg = new(Msg)
		*e.Msg = *base.Msg
		e.Groups = [][]int{{1}, {2, 3}}
		f(&e)
		return e
	}
	variants := []struct {
		name string
		ev   Event
	}{
		{"kind", with(func(e *Event) { e.Kind = Membership })},
		{"node", with(func(e *Event) { e.Node = 2 })},
		{"node zero", with(func(e *Event) { e.Node = 0 })},
		{"msg nil", with(func(e *Event) { e.Msg = nil })},
		{"msg type", with(func(e *Event) { e.Msg.Type = "RequestVote" })},
		{"msg from", with(func(e *Event) { e.Msg.From = 3 })},
		{"msg to", with(func(e *Event) { e.Msg.To = 3 })},
		{"msg key", with(func(e *Event) { e.Msg.Key = "term=4" })},
		{"msg type-only", with(func(e *Event) { e.Msg.Key = "" })},
		{"data", with(func(e *Event) { e.Data = "set x=2" })},
		{"data empty", with(func(e *Event) { e.Data = "" })},
		{"op", with(func(e *Event) { e.Op = RemoveServer })},
		{"op empty", with(func(e *Event) { e.Op = "" })},
		{"peer", with(func(e *Event) { e.Peer = 3 })},
		{"peer zero", with(func(e *Event) { e.Peer = 0 })},
		{"groups nil", with(func(e *Event) { e.Groups = nil })},
		{"groups member", with(func(e *Event) { e.Groups = [][]int{{2}, {1, 3}} })},
		{"groups split", with(func(e *Event) { e.Groups = [][]int{{1, 2}, {3}} })},
		{"groups three", with(func(e *Event) { e.Groups = [][]int{{1}, {2}, {3}} })},
		{"groups order", with(func(e *Event) { e.Groups = [][]int{{2, 3}, {1}} })},
	}
	keys := map[string]string{base.Key(): "base"}
	for _, v := range variants {
		k := v.ev.Key()
		if prev, dup := keys[k]; dup {
			t.Errorf("variant %q has the same key as %q: %q", v.name, prev, k)
			continue
		}
		keys[k] = v.name
	}

	// Only Result differs: same key.
	for _, r := range []string{"", "ok", "committed index=7", "error: not leader"} {
		e := with(func(e *Event) { e.Result = r })
		if e.Key() != base.Key() {
			t.Errorf("Result %q changed the key: %q vs %q", r, e.Key(), base.Key())
		}
	}
	// A copy of the message pointer with equal contents gives an equal key.
	e := with(func(*Event) {})
	if e.Msg == base.Msg {
		t.Fatal("test setup: message pointer not copied")
	}
	if e.Key() != base.Key() {
		t.Errorf("equal events with distinct Msg pointers: %q vs %q", e.Key(), base.Key())
	}

	// Typical events of each kind have distinct keys.
	kinds := map[string]Event{}
	for _, ev := range sampleEvents() {
		k := ev.Key()
		if prev, dup := kinds[k]; dup {
			t.Errorf("%v and %v share key %q", prev, ev, k)
		}
		kinds[k] = ev
	}
}

// Suspected bug: Key joins fields with separators that may occur inside the
// free-text fields, so events that differ can share a key. hraft seeds its
// randomness from Key, so two such events get the same seed and occurrence
// count.
func TestEventKeyAmbiguousSeparators(t *testing.T) {
	pairs := [][2]Event{
		{{Kind: Client, Node: 1, Data: "x|p=2"}, {Kind: Client, Node: 1, Data: "x", Peer: 2}},
		{{Kind: Client, Node: 1, Data: "a|add-voter"}, {Kind: Client, Node: 1, Data: "a", Op: AddVoter}},
		{
			{Kind: Deliver, Msg: &Msg{Type: "T n1→n2", From: 3, To: 4}},
			{Kind: Deliver, Msg: &Msg{Type: "T", From: 1, To: 2, Key: "n3→n4"}},
		},
	}
	for _, p := range pairs {
		if p[0].Key() == p[1].Key() {
			t.Errorf("different events share key %q: %+v and %+v", p[0].Key(), p[0], p[1])
		}
	}
}

// sampleEvents returns one or more typical events of every kind.
func sampleEvents() []Event {
	return []Event{
		{Kind: Deliver, Msg: &Msg{Type: "RequestVote", From: 1, To: 2, Key: "term=2"}},
		{Kind: Drop, Msg: &Msg{Type: "RequestVote", From: 1, To: 3, Key: "term=2"}},
		{Kind: Duplicate, Msg: &Msg{Type: "AppendEntries", From: 1, To: 2}},
		{Kind: Advance, Node: 1},
		{Kind: Start, Node: 1},
		{Kind: Crash, Node: 2},
		{Kind: Recover, Node: 2},
		{Kind: Client, Node: 1, Data: "set x=1"},
		{Kind: Partition, Groups: [][]int{{1}, {2, 3}}},
		{Kind: Heal},
		{Kind: Membership, Node: 1, Op: AddNonvoter, Peer: 3},
		{Kind: Transfer, Node: 1, Peer: 2},
		{Kind: Transfer, Node: 1},
	}
}

func TestEventString(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Kind: Deliver, Msg: &Msg{Type: "RequestVote", From: 1, To: 2, Key: "term=2"}}, "deliver    RequestVote n1→n2 term=2"},
		{Event{Kind: Drop, Msg: &Msg{Type: "RequestVote", From: 1, To: 3}}, "drop       RequestVote n1→n3"},
		{Event{Kind: Duplicate, Msg: &Msg{Type: "AppendEntries", From: 1, To: 2, Key: "term=1 n=0"}}, "duplicate  AppendEntries n1→n2 term=1 n=0"},
		{Event{Kind: Deliver}, "deliver ?"},
		{Event{Kind: Drop}, "drop ?"},
		{Event{Kind: Duplicate}, "duplicate ?"},
		{Event{Kind: Advance, Node: 1}, "advance    n1"},
		{Event{Kind: Start, Node: 2}, "start      n2"},
		{Event{Kind: Crash, Node: 3}, "crash      n3"},
		{Event{Kind: Recover, Node: 3, Result: "recovered"}, "recover    n3"},
		{Event{Kind: Client, Node: 1, Data: "set x=1"}, `client     via n1 "set x=1"`},
		{Event{Kind: Client, Node: 2, Data: "a\nb \"q\""}, `client     via n2 "a\nb \"q\""`},
		{Event{Kind: Client, Node: 2}, `client     via n2 ""`},
		{Event{Kind: Partition, Groups: [][]int{{1}, {2, 3}}}, "partition  {n1} | {n2,n3}"},
		{Event{Kind: Partition, Groups: [][]int{{1, 2}, {3}, {4, 5}}}, "partition  {n1,n2} | {n3} | {n4,n5}"},
		{Event{Kind: Heal}, "heal"},
		{Event{Kind: Membership, Node: 1, Op: AddVoter, Peer: 4}, "membership via n1 add-voter n4"},
		{Event{Kind: Membership, Node: 2, Op: RemoveServer, Peer: 3}, "membership via n2 remove-server n3"},
		{Event{Kind: Transfer, Node: 1, Peer: 2}, "transfer   via n1 to n2"},
		{Event{Kind: Transfer, Node: 1}, "transfer   via n1 to any"},
		{Event{Kind: "teleport", Node: 7}, "teleport   n7"},
	}
	for _, tt := range tests {
		if got := tt.ev.String(); got != tt.want {
			t.Errorf("%+v.String() =\n\t%q, want\n\t%q", tt.ev, got, tt.want)
		}
	}
}

func TestViolationString(t *testing.T) {
	var nilV *Violation
	if got := nilV.String(); got != "no violation" {
		t.Errorf("nil violation: %q", got)
	}
	v := &Violation{Invariant: "election-safety", Fingerprint: "fp", Detail: "n1 and n2 lead term 2", Step: 7}
	if got, want := v.String(), "election-safety after event 7: n1 and n2 lead term 2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestNamedAndMsgBlock: an event keeps its own fingerprint when the message
// it acts on has that one, and gets a copy of the message's otherwise (a
// type-only event names the message it matched); a MsgBlock's copies stay
// put as more are made.
func TestNamedAndMsgBlock(t *testing.T) {
	full := Msg{Type: "AppendEntries", From: 1, To: 2, Key: "term=3"}
	given := full
	if got := Named(&given, &full); got != &given {
		t.Errorf("Named(same) = %p, want the event's own %p", got, &given)
	}
	typeOnly := full.TypeOnly()
	got := Named(&typeOnly, &full)
	if got == &typeOnly || got == &full || *got != full {
		t.Errorf("Named(type-only) = %p %+v, want a copy of %+v", got, *got, full)
	}
	if got := Named(nil, &full); got == &full || *got != full {
		t.Errorf("Named(nil) = %+v, want a copy of %+v", *got, full)
	}
	var b MsgBlock
	var ptrs []*Msg
	for i := range 200 {
		ptrs = append(ptrs, b.Copy(Msg{Type: "T", From: i}))
	}
	for i, p := range ptrs {
		if p.From != i || p.Type != "T" {
			t.Fatalf("copy %d = %+v after 200 copies", i, *p)
		}
	}
}
