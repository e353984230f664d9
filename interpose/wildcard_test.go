package interpose

import (
	"slices"
	"testing"
)

func TestCandidates(t *testing.T) {
	vote := func(key string) Msg { return Msg{Type: "RequestVote", From: 3, To: 2, Key: key} }
	pending := []Message{
		{Seq: 4, Msg: vote("term=1 last=1/1"), Request: true, Deliverable: true},
		{Seq: 9, Msg: vote("term=2 last=1/1"), Request: true, Deliverable: true},
		{Seq: 7, Msg: vote("term=3 last=1/1"), Request: true, Deliverable: false},
		{Seq: 2, Msg: Msg{Type: "RequestVote", From: 1, To: 2, Key: "term=2 last=8/4"}, Request: true, Deliverable: true},
		{Seq: 5, Msg: Msg{Type: "RequestVoteResp", From: 3, To: 2, Key: "term=2"}, Deliverable: true},
	}
	recorded := vote("term=2 last=8/4")
	for _, tc := range []struct {
		name string
		ev   Event
		want []Msg
	}{
		{"the recorded term first, then the oldest", Event{Kind: Deliver, Msg: &recorded},
			[]Msg{vote("term=2 last=1/1"), vote("term=1 last=1/1")}},
		{"a drop may take what cannot be delivered", Event{Kind: Drop, Msg: &recorded},
			[]Msg{vote("term=2 last=1/1"), vote("term=1 last=1/1"), vote("term=3 last=1/1")}},
		{"nothing of that type and route", Event{Kind: Deliver, Msg: &Msg{Type: "AppendEntries", From: 3, To: 2, Key: "term=2"}}, []Msg{}},
		{"no message", Event{Kind: Deliver}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Candidates(pending, tc.ev); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCandidatesNearestNumbers: with no field equal but the fixed ones,
// the message whose numbers are nearest the recorded ones comes first.
func TestCandidatesNearestNumbers(t *testing.T) {
	ae := func(key string) Msg { return Msg{Type: "AppendEntries", From: 4, To: 2, Key: key} }
	pending := []Message{
		{Seq: 1, Msg: ae("term=1 prev=0/0 n=1 commit=0"), Request: true, Deliverable: true},
		{Seq: 2, Msg: ae("term=1 prev=0/0 n=2 commit=0"), Request: true, Deliverable: true},
		{Seq: 3, Msg: ae("term=1 prev=0/0 n=3 commit=0"), Request: true, Deliverable: true},
	}
	recorded := ae("term=46 prev=0/0 n=4 commit=0")
	got := Candidates(pending, Event{Kind: Deliver, Msg: &recorded})
	want := []Msg{pending[2].Msg, pending[1].Msg, pending[0].Msg}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestWildAdvance(t *testing.T) {
	pv := func(key string) *Msg { return &Msg{Type: "RequestPreVote", From: 3, To: 2, Key: key} }
	pending := []Message{
		{Seq: 1, Msg: *pv("term=1 last=1/1"), Request: true},
		{Seq: 2, Msg: Msg{Type: "RequestPreVote", From: 3, To: 1, Key: "term=1 last=1/1"}, Request: true},
	}
	wild := pv("term=2 last=8/4").TypeOnly()
	for _, tc := range []struct {
		name string
		ev   Event
		want Event
	}{
		{"not sent yet: the next of its type", Event{Kind: Advance, Node: 3, Until: pv("term=2 last=8/4"), UntilN: 1},
			Event{Kind: Advance, Node: 3, Until: &wild, UntilN: 2}},
		{"already pending: unchanged", Event{Kind: Advance, Node: 3, Until: pv("term=1 last=1/1"), UntilN: 1},
			Event{Kind: Advance, Node: 3, Until: pv("term=1 last=1/1"), UntilN: 1}},
		{"recorded at the cap: unchanged", Event{Kind: Advance, Node: 3, UntilN: -1}, Event{Kind: Advance, Node: 3, UntilN: -1}},
		{"not an advance", Event{Kind: Crash, Node: 3}, Event{Kind: Crash, Node: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := WildAdvance(pending, tc.ev)
			if got.Key() != tc.want.Key() || got.UntilN != tc.want.UntilN || (got.Until == nil) != (tc.want.Until == nil) ||
				got.Until != nil && *got.Until != *tc.want.Until {
				t.Errorf("got %+v (until %v), want %+v (until %v)", got, got.Until, tc.want, tc.want.Until)
			}
		})
	}
}
