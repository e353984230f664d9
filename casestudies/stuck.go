package casestudies

import (
	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose/hraft"
)

// StuckFSM is the built-in key-value FSM whose Apply blocks for good at the
// At-th command an incarnation applies (counting those it restored from a
// snapshot): a state machine waiting for a reply nobody will send. raft's
// apply loop stops there, its node never applies another entry, and its
// shutdown waits for the loop for ever: a crash of the node, or the end of
// the run, finds it stuck (Liveness:Stuck); before that, a write of the
// stabilization phase is never applied by it (Liveness:Commit).
type StuckFSM struct {
	*hraft.KV
	At uint64
}

// NewStuckFSM returns a StuckFSM that blocks at its at-th command.
func NewStuckFSM(at uint64) *StuckFSM { return &StuckFSM{KV: hraft.NewKV(), At: at} }

// Apply implements raft.FSM.
func (f *StuckFSM) Apply(l *raft.Log) any {
	res := f.KV.Apply(l)
	if f.KV.Applied >= f.At {
		// A channel of the node's own, that nothing will ever send on.
		<-make(chan struct{})
	}
	return res
}
