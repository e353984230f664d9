package raft_test

import (
	"testing"

	"github.com/faultline-dev/faultline/casestudies/raft"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
	"github.com/faultline-dev/faultline/invariants"
)

// TestElectionAndCommit walks the correct Raft through a bootstrap, an
// election and one committed command, by hand.
func TestElectionAndCommit(t *testing.T) {
	tg := actor.NewTarget("raft", "", raft.Program(raft.Correct))
	spec := tg.Spec(3, 1)
	sys, err := tg.Open(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	ctl := interpose.NewController(sys, invariants.NewRaft(), spec)
	step := func(ev interpose.Event) string {
		t.Helper()
		res, err := ctl.Step(ev)
		if err != nil {
			t.Fatalf("%v: %v", ev, err)
		}
		if v := ctl.Violation(); v != nil {
			t.Fatalf("violation: %v", v)
		}
		return res
	}
	deliver := func(typ string, from, to int) string {
		t.Helper()
		return step(interpose.Event{Kind: interpose.Deliver, Msg: &interpose.Msg{Type: typ, From: from, To: to}})
	}
	for n := 1; n <= 3; n++ {
		step(interpose.Event{Kind: interpose.Start, Node: n})
	}
	for _, ev := range raft.Bootstrap(3) {
		if res := step(ev); res != "configured" {
			t.Fatalf("bootstrap: %q", res)
		}
	}
	deliver(raft.ElectionTimeout, 1, 1)
	deliver("BeginElection", 1, 1)
	deliver("RequestVote", 1, 2)
	deliver("VoteCandidate", 2, 1)
	deliver("ElectedAsLeader", 1, 1)
	if v, ok := interpose.RaftOf(sys.View().Nodes[0]); !ok || v.Role != "leader" || v.Term != 1 {
		t.Fatalf("n1 is %v", sys.View().Nodes[0])
	}
	if res := step(interpose.Event{Kind: interpose.Client, Node: 1, Data: "x"}); res != "index 1" {
		t.Fatalf("client: %q", res)
	}
	if res := step(interpose.Event{Kind: interpose.Client, Node: 2, Data: "y"}); res != "not leader" {
		t.Fatalf("client via a follower: %q", res)
	}
	deliver("AppendEntries", 1, 3) // the first heartbeat: empty
	deliver("AppendEntries", 1, 3) // the entry
	deliver("AppendSuccessful", 3, 1)
	deliver("AppendSuccessful", 3, 1)
	if v, ok := interpose.RaftOf(sys.View().Nodes[0]); !ok || v.CommitIndex != 1 || v.AppliedIndex != 1 {
		t.Fatalf("n1 is %v", sys.View().Nodes[0])
	}
}
