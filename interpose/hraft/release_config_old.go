//go:build hraft_v1_1_0

package hraft

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
)

// latestConfiguration is the newest configuration in n's log, or else in
// its newest snapshot. Releases before v1.1.2 answer GetConfiguration from
// raft's main loop, a goroutine of the node's bubble that nothing outside
// it may wait for; the stores hold what raft's latest configuration is
// made of. One difference: a follower that drops a conflicting suffix of
// its log falls back to its committed configuration, where this reads the
// newest configuration entry left in the log.
func (n *node) latestConfiguration(*raft.Raft) (raft.Configuration, error) {
	first, err := n.logs.inner.FirstIndex()
	if err != nil {
		return raft.Configuration{}, err
	}
	last, err := n.logs.inner.LastIndex()
	if err != nil {
		return raft.Configuration{}, err
	}
	snaps, err := n.snaps.inner.List()
	if err != nil {
		return raft.Configuration{}, err
	}
	var floor uint64
	if len(snaps) > 0 {
		floor = snaps[0].Index
	}
	for i := last; i >= max(first, floor+1) && i > 0; i-- {
		var l raft.Log
		if err := n.logs.inner.GetLog(i, &l); err != nil {
			return raft.Configuration{}, err
		}
		if l.Type == raft.LogConfiguration {
			var c raft.Configuration
			if err := codec.NewDecoder(bytes.NewReader(l.Data), &codec.MsgpackHandle{}).Decode(&c); err != nil {
				return raft.Configuration{}, fmt.Errorf("hraft: configuration entry %d: %w", i, err)
			}
			return c, nil
		}
	}
	if len(snaps) > 0 {
		return snaps[0].Configuration, nil
	}
	return raft.Configuration{}, nil
}
