package invariants_test

import (
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// BenchmarkCheck measures one Check on the view of one event of a healthy
// 3-node cluster: n1 leads term 1; events alternate between the leader
// appending an entry and the followers storing it (with the leader's commit
// index moving), every event applies one entry somewhere, and every fourth
// carries an AppendEntries claim. One checker serves every iteration, so its
// history (log mirrors, entries, applied and committed indexes) grows as in a
// long run: b.N events reach index b.N/2.
func BenchmarkCheck(b *testing.B) {
	r := invariants.NewRaft()
	var (
		v       interpose.View
		nodeBuf [3]interpose.NodeView
		facts   [3]interpose.RaftState // published by pointer, as adapters do
		opBuf   [2]interpose.LogOp
		appBuf  [1]interpose.Applied
		claim   = []interpose.Claim{{Node: 1, Term: 1}}
	)
	s := 0
	b.ReportAllocs()
	for b.Loop() {
		k := uint64(s/2 + 1) // the entry this pair of events replicates
		commit := k - 1      // the leader's commit index
		v.Reset()
		if s%2 == 0 {
			opBuf[0] = lstore(1, k, 1)
			v.LogOps = opBuf[:1]
		} else {
			opBuf[0] = store(2, k, 1)
			opBuf[1] = store(3, k, 1)
			v.LogOps = opBuf[:2]
			commit = k
		}
		if k > 1 {
			appBuf[0] = applied(1+s%3, k-1, 1, hash(k-1, 1))
			v.Applied = appBuf[:1]
		}
		if s%4 == 1 {
			v.Claims = claim
		}
		facts[0] = interpose.RaftState{Role: interpose.RoleLeader, Term: 1, CommitIndex: commit}
		facts[1] = interpose.RaftState{Role: interpose.RoleFollower, Term: 1, CommitIndex: k - 1}
		facts[2] = interpose.RaftState{Role: interpose.RoleFollower, Term: 1, CommitIndex: k - 1}
		for i := range nodeBuf {
			nodeBuf[i] = interpose.NodeView{Node: i + 1, Started: true, Up: true, Facts: &facts[i]}
		}
		v.Nodes = nodeBuf[:]
		if got := r.Check(&v); len(got) != 0 {
			b.Fatalf("event %d: %s", s, format(got))
		}
		s++
	}
}
