package casestudies

import (
	"sync"

	"github.com/hashicorp/raft"
)

// LossyLogStore is a LogStore with a realistic durability bug: it
// acknowledges a batch of entries before it has synced it, and a crash
// loses the last batch it acknowledged (a group commit that answers
// early). Raft itself is untouched and overwrites nothing; what the node
// finds after its restart is a shorter log than the one it had promised
// its leader, and that leader may have counted the lost entries toward a
// commit.
type LossyLogStore struct {
	*raft.InmemStore

	mu   sync.Mutex
	last []uint64 // the indexes of the last batch, not yet synced
}

// NewLossyLogStore returns an empty store.
func NewLossyLogStore() *LossyLogStore { return &LossyLogStore{InmemStore: raft.NewInmemStore()} }

// StoreLogs implements raft.LogStore: the batch is kept, and remembered as
// unsynced until the next one.
func (s *LossyLogStore) StoreLogs(logs []*raft.Log) error {
	if err := s.InmemStore.StoreLogs(logs); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = s.last[:0]
	for _, l := range logs {
		s.last = append(s.last, l.Index)
	}
	return nil
}

// StoreLog implements raft.LogStore.
func (s *LossyLogStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// Crash loses the last batch (hraft.Crasher). A batch that rewrote
// entries (after a leader's truncation) loses them, leaving a gap only
// if it was in the middle: it never is, raft appends at the end.
func (s *LossyLogStore) Crash() {
	s.mu.Lock()
	last := s.last
	s.last = nil
	s.mu.Unlock()
	if len(last) == 0 {
		return
	}
	lo, hi := last[0], last[len(last)-1]
	if first, err := s.FirstIndex(); err == nil && lo < first {
		lo = first
	}
	if lo <= hi {
		_ = s.DeleteRange(lo, hi)
	}
}
