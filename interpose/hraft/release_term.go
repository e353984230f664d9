//go:build !hraft_v1_7_0 && !hraft_v1_6 && !hraft_v1_3_7 && !hraft_v1_2 && !hraft_v1_1 && !hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// currentTerm is the term of n's raft r (Raft.CurrentTerm, v1.7.2).
func (n *node) currentTerm(r *raft.Raft) uint64 { return r.CurrentTerm() }

// quietTelemetry turns off the metrics raft v1.7.2 keeps under their old
// names as well as the new.
func quietTelemetry(c *raft.Config) { c.NoLegacyTelemetry = true }
