//go:build !hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// latestConfiguration is the newest configuration in r's log (or its
// snapshot), which raft keeps under a lock since v1.1.2.
func (n *node) latestConfiguration(r *raft.Raft) (raft.Configuration, error) {
	f := r.GetConfiguration()
	return f.Configuration(), f.Error()
}
