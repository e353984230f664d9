//go:build hraft_v1_3_7 || hraft_v1_2 || hraft_v1_1 || hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// commitIndex is the index raft last applied: releases before v1.6.0 have
// no Raft.CommitIndex, and their Stats waits for raft's main loop. Every
// applied entry is committed, so the invariants that read the commit index
// see less of it, never more; when the node is quiescent its state machine
// has caught up unless applying is stuck.
func commitIndex(r *raft.Raft) uint64 { return r.AppliedIndex() }
