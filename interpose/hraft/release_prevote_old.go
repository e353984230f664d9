//go:build hraft_v1_6 || hraft_v1_3_7 || hraft_v1_2 || hraft_v1_1 || hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// Releases before v1.7.0 have no pre-vote: no RequestPreVote to carry.

func preVoteOn(*raft.Config) bool                    { return false }
func preVoteRequest(any, keyBuilder) (string, bool)  { return "", false }
func preVoteResponse(any, keyBuilder) (string, bool) { return "", false }
func clonePreVote(any) (any, bool)                   { return nil, false }
