//go:build !hraft_v1_2 && !hraft_v1_1 && !hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// leaderAddr is the address an AppendEntries names its leader by: the
// RPC header's (v1.3.7), else the older field.
func leaderAddr(r *raft.AppendEntriesRequest) []byte {
	if len(r.Addr) == 0 {
		return r.Leader
	}
	return r.Addr
}

// leaderID is the ID of the server r follows ("" for none).
func leaderID(r *raft.Raft) string {
	_, id := r.LeaderWithID()
	return string(id)
}
