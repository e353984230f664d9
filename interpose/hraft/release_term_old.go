//go:build hraft_v1_7_0 || hraft_v1_6 || hraft_v1_3_7 || hraft_v1_2 || hraft_v1_1 || hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// currentTerm is the term of n's raft r. Releases before v1.7.2 have no
// Raft.CurrentTerm, and their Stats waits for raft's main loop; raft stores
// every new term before it takes it (setCurrentTerm), so the term is the
// one n's stable store last took, which the store wrapper remembers.
func (n *node) currentTerm(*raft.Raft) uint64 {
	t, _, _ := n.stable.snapshot()
	return t
}

// quietTelemetry does nothing: releases before v1.7.2 have one name for
// each metric.
func quietTelemetry(*raft.Config) {}
