//go:build hraft_v1_2 || hraft_v1_1 || hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// leaderAddr is the address an AppendEntries names its leader by: releases
// before v1.3.7 have only AppendEntriesRequest.Leader.
func leaderAddr(r *raft.AppendEntriesRequest) []byte { return r.Leader }

// leaderID is the ID of the server r follows ("" for none): releases before
// v1.3.7 name the leader by address only, and a node's address is its ID.
func leaderID(r *raft.Raft) string { return string(r.Leader()) }
