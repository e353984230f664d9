package hraft_test

// This file is the example of the README's section on go test: the bank of
// example_service_test.go, fuzzed by faultlinetest.Fuzz, which keeps what it
// finds in testdata/faultline/TestFuzzBankGoTest and replays it first on
// every later run.

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/faultlinetest"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

func TestFuzzBankGoTest(t *testing.T) {
	target := hraft.NewTarget("bank", "", hraft.Options{
		NewFSM: func(node int) raft.FSM { return newBank() },
		Config: func(node int, c *raft.Config) { c.SnapshotThreshold = 16 },
		Invariants: []hraft.Invariant{{Name: "MoneyIsConserved", Check: func(fsms []raft.FSM) error {
			for i, f := range fsms {
				if b, ok := f.(*bank); ok && b.total() != 300 {
					return fmt.Errorf("n%d holds %d in total", i+1, b.total())
				}
			}
			return nil
		}}},
	})
	faultlinetest.Fuzz(t, target, faultlinetest.Options{
		Time: 10 * time.Second, // a fifth of it under -short
		// Seed 1's run 350 meets hashicorp/raft#695 (LogMatching): a bug of
		// raft's, not the bank's. Passed over, it is logged with its issue
		// and fuzzing goes on; without this line the test fails on it,
		// naming the issue.
		PassOverUpstream: true,
		Fuzz: fuzz.Options{
			Events:  300,
			Clients: []string{"a,b,10", "b,c,5", "c,a,7"},
		},
	})
}
