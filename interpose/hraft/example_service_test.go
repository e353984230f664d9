package hraft_test

// This file is the example the README shows: copy it into your repository,
// replace the bank with your FSM and stores, and run `go test`. Your go.mod
// needs `godebug randseednop=0` so that raft's timeouts can be replayed.

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose/hraft"
	"github.com/faultline-dev/faultline/invariants"
)

// bank is the service under test: accounts whose total never changes.
// A command "from,to,amount" moves money between two accounts; "?a" reads
// an account's balance.
type bank struct {
	mu       sync.Mutex
	accounts map[string]int
}

func newBank() *bank { return &bank{accounts: map[string]int{"a": 100, "b": 100, "c": 100}} }

func (b *bank) Apply(l *raft.Log) any {
	if account, ok := strings.CutPrefix(string(l.Data), "?"); ok {
		return b.balance(account)
	}
	parts := strings.Split(string(l.Data), ",")
	if len(parts) != 3 {
		return fmt.Errorf("bad command %q", l.Data)
	}
	amount, err := strconv.Atoi(parts[2])
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts[parts[0]] -= amount
	b.accounts[parts[1]] += amount
	return nil
}

func (b *bank) Snapshot() (raft.FSMSnapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, err := json.Marshal(b.accounts)
	return bankSnapshot(data), err
}

func (b *bank) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	accounts := map[string]int{}
	if err := json.NewDecoder(rc).Decode(&accounts); err != nil {
		return err
	}
	b.mu.Lock()
	b.accounts = accounts
	b.mu.Unlock()
	return nil
}

func (b *bank) balance(account string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.accounts[account]
}

// snapshot returns a copy of the accounts, to compare two nodes' states.
func (b *bank) snapshot() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.accounts)
}

func (b *bank) total() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	sum := 0
	for _, v := range b.accounts {
		sum += v
	}
	return sum
}

type bankSnapshot []byte

func (s bankSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (bankSnapshot) Release() {}

// bankModel is what one bank taking the commands one at a time would answer
// (a balance for a read, nothing for a transfer). Every run's history of
// commands and answers is checked against it: a read that returns what no
// order of the operations explains is a Linearizability violation.
var bankModel = &invariants.Model{
	Init: func() any { return [3]int{100, 100, 100} }, // a, b, c: comparable
	Step: func(state any, op string) (any, string) {
		s := state.([3]int)
		if account, ok := strings.CutPrefix(op, "?"); ok {
			return s, strconv.Itoa(s[account[0]-'a'])
		}
		parts := strings.Split(op, ",")
		amount, _ := strconv.Atoi(parts[2])
		s[parts[0][0]-'a'] -= amount
		s[parts[1][0]-'a'] += amount
		return s, ""
	},
	Read: func(op string) bool { return strings.HasPrefix(op, "?") },
}

func TestFuzzBank(t *testing.T) {
	target := hraft.NewTarget("bank", "", hraft.Options{
		Nodes:  3,
		NewFSM: func(node int) raft.FSM { return newBank() },
		// Your stores, made once per node and kept across its crashes.
		NewLogStore:      func(node int) (raft.LogStore, error) { return raft.NewInmemStore(), nil },
		NewStableStore:   func(node int) (raft.StableStore, error) { return raft.NewInmemStore(), nil },
		NewSnapshotStore: func(node int) (raft.SnapshotStore, error) { return raft.NewInmemSnapshotStore(), nil },
		// Your raft settings, after faultline's defaults.
		Config: func(node int, c *raft.Config) { c.SnapshotThreshold = 16 },
		// Your model: what clients may see.
		Model: bankModel,
		Invariants: []hraft.Invariant{{
			Name: "MoneyIsConserved",
			Check: func(fsms []raft.FSM) error {
				for i, f := range fsms {
					if f != nil && f.(*bank).total() != 300 {
						return fmt.Errorf("n%d holds %d in total", i+1, f.(*bank).total())
					}
				}
				return nil
			},
		}, {
			// CheckNodes gets each node's FSM with its Raft facts (role,
			// term, indexes, configuration, leader): two nodes that applied
			// the same index must hold the same accounts, and the bank keeps
			// no bookkeeping for it.
			Name: "SameIndexSameAccounts",
			CheckNodes: func(nodes []hraft.NodeState) error {
				seen := map[uint64]hraft.NodeState{}
				for _, n := range nodes {
					if n.FSM == nil {
						continue
					}
					if o, ok := seen[n.Raft.AppliedIndex]; ok && !maps.Equal(o.FSM.(*bank).snapshot(), n.FSM.(*bank).snapshot()) {
						return fmt.Errorf("n%d and n%d applied up to index %d but hold different accounts", o.Node, n.Node, n.Raft.AppliedIndex)
					}
					seen[n.Raft.AppliedIndex] = n
				}
				return nil
			},
		}},
	})
	// Client operations are "k<i>=<n>" by default; give the fuzzer the bank's
	// own commands instead, reads of balances among them.
	res, err := fuzz.Run(t, target, fuzz.Options{
		Seed:    1,
		Runs:    100,
		Events:  300,
		Out:     t.TempDir(), // keep violating schedules: testdata/faultline, say
		Clients: []string{"a,b,10", "b,c,5", "c,a,7", "?a", "?b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		// Replay it later with fuzz.ReplayFile(t, target, v.Schedule, ...).
		t.Errorf("%s: %s (schedule %s)", v.Invariant, v.Detail, v.Schedule)
	}
	t.Logf("%d runs, %d events, %.0f events/s", res.Runs, res.Events, res.EventsPerS)
}
