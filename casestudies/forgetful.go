package casestudies

import (
	"bytes"
	"sync"

	"github.com/hashicorp/raft"
)

// ForgetfulStore is a StableStore with a realistic persistence bug: it keeps
// raft's CurrentTerm and vote (LastVoteTerm, LastVoteCand) in a write-back
// cache that is never flushed, so a crash loses them. Other keys are durable.
// Raft itself is untouched; after a restart the node may vote twice in one
// term, which can elect two leaders.
type ForgetfulStore struct {
	durable *raft.InmemStore

	mu       sync.Mutex
	volatile map[string][]byte
}

// NewForgetfulStore returns an empty store.
func NewForgetfulStore() *ForgetfulStore {
	return &ForgetfulStore{durable: raft.NewInmemStore(), volatile: map[string][]byte{}}
}

var forgotten = [][]byte{[]byte("CurrentTerm"), []byte("LastVoteTerm"), []byte("LastVoteCand")}

func isForgotten(key []byte) bool {
	for _, k := range forgotten {
		if bytes.Equal(k, key) {
			return true
		}
	}
	return false
}

// Crash loses the cached keys (hraft.Crasher).
func (s *ForgetfulStore) Crash() {
	s.mu.Lock()
	clear(s.volatile)
	s.mu.Unlock()
}

// Set implements raft.StableStore.
func (s *ForgetfulStore) Set(key, val []byte) error {
	if !isForgotten(key) {
		return s.durable.Set(key, val)
	}
	s.mu.Lock()
	s.volatile[string(key)] = bytes.Clone(val)
	s.mu.Unlock()
	return nil
}

// Get implements raft.StableStore.
func (s *ForgetfulStore) Get(key []byte) ([]byte, error) {
	if !isForgotten(key) {
		return s.durable.Get(key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.volatile[string(key)]), nil
}

// SetUint64 implements raft.StableStore.
func (s *ForgetfulStore) SetUint64(key []byte, val uint64) error {
	var b [8]byte
	for i := range b {
		b[i] = byte(val >> (8 * i))
	}
	return s.Set(key, b[:])
}

// GetUint64 implements raft.StableStore.
func (s *ForgetfulStore) GetUint64(key []byte) (uint64, error) {
	b, err := s.Get(key)
	if err != nil || len(b) != 8 {
		return 0, err
	}
	var v uint64
	for i := range b {
		v |= uint64(b[i]) << (8 * i)
	}
	return v, nil
}
