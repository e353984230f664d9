//go:build hraft_v1_1 || hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// Releases before v1.2.0 have neither BatchingFSM nor log extensions.

func wrapFSM(n *node, user raft.FSM) raft.FSM { return &fsm{n: n, user: user} }
func cloneExtensions(dst, src *raft.Log)      {}
