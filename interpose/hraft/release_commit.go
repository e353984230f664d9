//go:build !hraft_v1_3_7 && !hraft_v1_2 && !hraft_v1_1 && !hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// commitIndex is raft's commit index (Raft.CommitIndex, v1.6.0).
func commitIndex(r *raft.Raft) uint64 { return r.CommitIndex() }
