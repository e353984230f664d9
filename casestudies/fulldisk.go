package casestudies

import (
	"fmt"
	"sync"
	"syscall"

	"github.com/hashicorp/raft"
)

// FullDiskStore is a StableStore on a disk that fills up: after Capacity
// writes, every write fails with ENOSPC. Reads keep working. raft treats a
// failed write of its term or vote as fatal and panics, in its own
// goroutine: the process ends unless faultline runs it in a worker.
type FullDiskStore struct {
	*raft.InmemStore
	Capacity int

	mu     sync.Mutex
	writes int
}

// NewFullDiskStore returns a store that accepts capacity writes.
func NewFullDiskStore(capacity int) *FullDiskStore {
	return &FullDiskStore{InmemStore: raft.NewInmemStore(), Capacity: capacity}
}

func (s *FullDiskStore) full() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writes >= s.Capacity {
		return fmt.Errorf("write stable store: %w", syscall.ENOSPC)
	}
	s.writes++
	return nil
}

// Set implements raft.StableStore.
func (s *FullDiskStore) Set(key, val []byte) error {
	if err := s.full(); err != nil {
		return err
	}
	return s.InmemStore.Set(key, val)
}

// SetUint64 implements raft.StableStore.
func (s *FullDiskStore) SetUint64(key []byte, val uint64) error {
	if err := s.full(); err != nil {
		return err
	}
	return s.InmemStore.SetUint64(key, val)
}
