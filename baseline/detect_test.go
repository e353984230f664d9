package baseline

import (
	"testing"

	"github.com/hashicorp/raft"
)

// TestDetectors: each detector reports a violation of its invariant to a
// run that looks for it, once, and stays quiet in a run that looks for
// another; what is the same twice is no violation.
func TestDetectors(t *testing.T) {
	log := func(index, term uint64, data string) *raft.Log {
		return &raft.Log{Index: index, Term: term, Type: raft.LogCommand, Data: []byte(data)}
	}
	n1, n2 := &node{id: 1, addr: "n1"}, &node{id: 2, addr: "n2"}
	tests := []struct {
		name string
		feed func(c *cluster)
		want string // the invariant violated, "" for none
	}{
		{"same command twice", func(c *cluster) {
			c.apply(n1, log(3, 2, "k1=1"))
			c.apply(n2, log(3, 2, "k1=1"))
			c.apply(n1, log(3, 2, "k1=1")) // a restarted state machine applies its log again
		}, ""},
		{"another command at an index", func(c *cluster) {
			c.apply(n1, log(3, 2, "k1=1"))
			c.apply(n2, log(3, 4, "k2=7"))
		}, StateMachineSafety},
		{"one leader per term", func(c *cluster) {
			c.leader(n1, 2)
			c.leader(n1, 2)
			c.leader(n2, 3)
		}, ""},
		{"two leaders of a term", func(c *cluster) {
			c.leader(n1, 2)
			c.leader(n2, 2)
		}, ElectionSafety},
		{"a restart that panicked", func(c *cluster) { c.report(NoPanic, "n1: raft.NewRaft panicked") }, NoPanic},
		{"a restart refused", func(c *cluster) { c.report(NodeStarts, "start n1: failed to get last log") }, NodeStarts},
	}
	for _, tt := range tests {
		for _, looking := range Invariants {
			t.Run(tt.name+"/"+looking, func(t *testing.T) {
				found := make(chan string, 2)
				c := &cluster{o: Options{Invariant: looking}, found: found,
					leaders: map[uint64]raft.ServerID{}, applied: map[uint64]appliedEntry{}}
				tt.feed(c)
				tt.feed(c) // a second violation ends nothing twice
				got := len(found)
				want := 0
				if tt.want == looking {
					want = 1
				}
				if got != want {
					t.Fatalf("%d reports, want %d", got, want)
				}
				if want == 1 {
					t.Log(<-found)
				}
			})
		}
	}
}

// TestRecordingKeepsBatching: the wrapper that sees every applied log
// keeps a batching state machine batching.
func TestRecordingKeepsBatching(t *testing.T) {
	var seen []uint64
	fsm := recording(batching{}, func(l *raft.Log) { seen = append(seen, l.Index) })
	b, ok := fsm.(batchApplier)
	if !ok {
		t.Fatal("a BatchingFSM wrapped is no longer one")
	}
	b.ApplyBatch([]*raft.Log{{Index: 1}, {Index: 2}})
	fsm.Apply(&raft.Log{Index: 3})
	if len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
		t.Fatalf("seen %v, want [1 2 3]", seen)
	}
}

type batching struct{ raft.FSM }

func (batching) Apply(*raft.Log) any               { return nil }
func (batching) ApplyBatch(logs []*raft.Log) []any { return make([]any, len(logs)) }
