//go:build !hraft_v1_1 && !hraft_v1_1_0

package hraft

import (
	"slices"

	"github.com/hashicorp/raft"
)

// batchingFSM is fsm for a user FSM that implements raft.BatchingFSM
// (v1.2.0), so that raft sees the same interfaces it would see without
// faultline.
type batchingFSM struct {
	fsm
	batch raft.BatchingFSM
}

func (f *batchingFSM) ApplyBatch(logs []*raft.Log) (res []any) {
	for _, l := range logs {
		f.observe(l)
	}
	defer func() {
		if r := recover(); r != nil {
			f.n.fault("FSM.ApplyBatch", r)
			res = make([]any, len(logs))
		}
	}()
	return f.batch.ApplyBatch(logs)
}

func wrapFSM(n *node, user raft.FSM) raft.FSM {
	if b, ok := user.(raft.BatchingFSM); ok {
		return &batchingFSM{fsm: fsm{n: n, user: user}, batch: b}
	}
	return &fsm{n: n, user: user}
}

// cloneExtensions copies a log entry's extensions (v1.2.0) into its copy.
func cloneExtensions(dst, src *raft.Log) { dst.Extensions = slices.Clone(src.Extensions) }
