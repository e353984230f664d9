package hraft

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
)

// Keys raft keeps in its StableStore (raft.go).
var (
	keyCurrentTerm  = []byte("CurrentTerm")
	keyLastVoteTerm = []byte("LastVoteTerm")
	keyLastVoteCand = []byte("LastVoteCand")
)

var entrySeed = maphash.MakeSeed()

// entryHash identifies an entry's content (type and data) within one process.
func entryHash(l *raft.Log) uint64 {
	var h maphash.Hash
	h.SetSeed(entrySeed)
	h.WriteByte(byte(l.Type))
	h.Write(l.Data)
	return h.Sum64()
}

// logStore wraps a node's LogStore: it reports every write to the cluster's
// observations and turns a panic in the user's store into a fault.
type logStore struct {
	n     *node
	inner raft.LogStore
	// lossy is set for a store that can lose writes at a crash (a
	// Crasher): only its writes are kept in sh, to compare after a crash.
	lossy bool
	sh    shadow // what the store acknowledged (shadow.go)
}

// read returns the store a read goes to, after the disk's delay: the
// node's, or a torn incarnation's copy (tear.go).
func (s *logStore) read() raft.LogStore {
	if t := s.n.dead.Load(); t != nil {
		return t.logs
	}
	_ = s.n.disk.before(false)
	return s.inner
}

func (s *logStore) FirstIndex() (i uint64, err error) {
	defer s.n.guard("LogStore.FirstIndex", &err)
	return s.read().FirstIndex()
}

func (s *logStore) LastIndex() (i uint64, err error) {
	defer s.n.guard("LogStore.LastIndex", &err)
	return s.read().LastIndex()
}

func (s *logStore) GetLog(index uint64, log *raft.Log) (err error) {
	defer s.n.guard("LogStore.GetLog", &err)
	return s.read().GetLog(index, log)
}

func (s *logStore) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

func (s *logStore) StoreLogs(logs []*raft.Log) (err error) {
	defer s.n.guard("LogStore.StoreLogs", &err)
	if t, err := s.n.write("LogStore.StoreLogs", true); err != nil || t != nil {
		if t != nil {
			return t.logs.StoreLogs(logs)
		}
		return err
	}
	for _, l := range logs {
		switch l.Type {
		case raft.LogConfiguration, raft.LogAddPeerDeprecated, raft.LogRemovePeerDeprecated:
			s.n.mayReconfigure()
		}
	}
	if err := s.inner.StoreLogs(logs); err != nil {
		return err
	}
	leader, term := s.n.role()
	ops := make([]interpose.LogOp, len(logs))
	for i, l := range logs {
		ops[i] = interpose.LogOp{Node: s.n.id, Kind: interpose.LogStore, Index: l.Index, Term: l.Term,
			Hash: entryHash(l), Leader: leader, NodeTerm: term}
	}
	if s.lossy {
		s.sh.store(ops)
	}
	s.n.c.observeLog(ops...)
	return nil
}

func (s *logStore) DeleteRange(lo, hi uint64) (err error) {
	defer s.n.guard("LogStore.DeleteRange", &err)
	if t, err := s.n.write("LogStore.DeleteRange", true); err != nil || t != nil {
		if t != nil {
			return t.logs.DeleteRange(lo, hi)
		}
		return err
	}
	s.n.mayReconfigure()
	first, ferr := s.inner.FirstIndex()
	if err := s.inner.DeleteRange(lo, hi); err != nil {
		return err
	}
	if s.lossy {
		s.sh.delete(lo, hi)
	}
	leader, term := s.n.role()
	op := interpose.LogOp{Node: s.n.id, Kind: interpose.LogTruncate, Index: lo, Hi: hi, Leader: leader, NodeTerm: term}
	if ferr == nil && lo <= first {
		op.Kind = interpose.LogCompact
	}
	s.n.c.observeLog(op)
	return nil
}

// stableStore wraps a node's StableStore and remembers the node's term and
// vote, for views and for `faultline show`.
type stableStore struct {
	n     *node
	inner raft.StableStore

	mu       sync.Mutex
	term     uint64
	voteTerm uint64
	vote     int
}

func (s *stableStore) Set(key, val []byte) (err error) {
	defer s.n.guard("StableStore.Set", &err)
	if t, _ := s.n.write("StableStore.Set", false); t != nil {
		t.set(key, val)
		return nil
	}
	if err := s.inner.Set(key, val); err != nil {
		return err
	}
	if bytes.Equal(key, keyLastVoteCand) {
		v, _ := nodeOf(string(val))
		s.mu.Lock()
		s.vote = v
		s.mu.Unlock()
	}
	return nil
}

func (s *stableStore) Get(key []byte) (v []byte, err error) {
	defer s.n.guard("StableStore.Get", &err)
	if t := s.n.dead.Load(); t != nil {
		if v, ok := t.get(key); ok {
			return append([]byte(nil), v...), nil
		}
		return s.inner.Get(key)
	}
	_ = s.n.disk.before(false)
	return s.inner.Get(key)
}

func (s *stableStore) SetUint64(key []byte, val uint64) (err error) {
	defer s.n.guard("StableStore.SetUint64", &err)
	if t, _ := s.n.write("StableStore.SetUint64", false); t != nil {
		t.setUint64(key, val)
		return nil
	}
	if err := s.inner.SetUint64(key, val); err != nil {
		return err
	}
	s.mu.Lock()
	switch {
	case bytes.Equal(key, keyCurrentTerm):
		s.term = val
	case bytes.Equal(key, keyLastVoteTerm):
		s.voteTerm = val
	}
	s.mu.Unlock()
	return nil
}

func (s *stableStore) GetUint64(key []byte) (v uint64, err error) {
	defer s.n.guard("StableStore.GetUint64", &err)
	if t := s.n.dead.Load(); t != nil {
		if v, ok := t.getUint64(key); ok {
			return v, nil
		}
		return s.inner.GetUint64(key)
	}
	_ = s.n.disk.before(false)
	return s.inner.GetUint64(key)
}

// reload re-reads the term and vote from the store, after a crash that may
// have lost them.
func (s *stableStore) reload() {
	term, _ := s.inner.GetUint64(keyCurrentTerm)
	voteTerm, _ := s.inner.GetUint64(keyLastVoteTerm)
	cand, _ := s.inner.Get(keyLastVoteCand)
	v, _ := nodeOf(string(cand))
	s.mu.Lock()
	s.term, s.voteTerm, s.vote = term, voteTerm, v
	s.mu.Unlock()
}

// afterCrash rereads a stable store that can lose writes (a Crasher) after
// a crash and, when it lost a term or a vote it had acknowledged, says so
// (View.Losses): raft restarts on what the store returns, and what it
// lost surfaces later under another name (two leaders of one term), which
// names it as its cause.
func (s *stableStore) afterCrash() {
	term, voteTerm, vote := s.snapshot()
	s.reload()
	nterm, nvoteTerm, nvote := s.snapshot()
	var lost []string
	if nterm < term {
		lost = append(lost, fmt.Sprintf("its current term (%d, now %d)", term, nterm))
	}
	if vote != 0 && (nvoteTerm < voteTerm || nvoteTerm == voteTerm && nvote != vote) {
		lost = append(lost, fmt.Sprintf("its vote for n%d in term %d", vote, voteTerm))
	}
	if len(lost) == 0 {
		return
	}
	s.n.c.observeLoss(fmt.Sprintf("n%d's stable store lost %s at its crash (event %d)",
		s.n.id, strings.Join(lost, " and "), s.n.c.now()))
}

func (s *stableStore) snapshot() (term, voteTerm uint64, vote int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term, s.voteTerm, s.vote
}

// crashStores tells every store of a node that implements Crasher that the
// node crashed.
func crashStores(stores ...any) {
	for _, s := range stores {
		if c, ok := s.(Crasher); ok {
			c.Crash()
		}
	}
}

// errPanicked is returned to raft in place of a call that panicked.
type errPanicked struct{ where string }

func (e errPanicked) Error() string { return fmt.Sprintf("faultline: %s panicked", e.where) }

// snapStore wraps a node's SnapshotStore to remember the index of the
// snapshot raft last persisted, for views, and to note that an installed
// snapshot may change the node's configuration. raft sets its own last snapshot to
// the snapshot it has just persisted, whether it took it (snapshot.go,
// takeSnapshot) or installed a leader's (raft.go, installSnapshot), and on a
// restart restores the newest one the store lists (api.go, restoreSnapshot).
// It is read from outside the bubble, so that a view costs no call into raft.
type snapStore struct {
	n     *node
	inner raft.SnapshotStore
	index atomic.Uint64
}

func (s *snapStore) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	if s.n.dead.Load() != nil {
		return nil, errTorn
	}
	sink, err := s.inner.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return &snapSink{SnapshotSink: sink, s: s, index: index}, nil
}

func (s *snapStore) List() ([]*raft.SnapshotMeta, error) { return s.inner.List() }

func (s *snapStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	return s.inner.Open(id)
}

// reload sets the index to that of the snapshot a starting raft restores:
// the newest the store lists.
func (s *snapStore) reload() {
	var index uint64
	if metas, err := s.inner.List(); err == nil && len(metas) > 0 {
		index = metas[0].Index
	}
	s.index.Store(index)
}

type snapSink struct {
	raft.SnapshotSink
	s     *snapStore
	index uint64
}

func (k *snapSink) Close() error {
	if err := k.SnapshotSink.Close(); err != nil {
		return err
	}
	k.s.index.Store(k.index)
	k.s.n.mayReconfigure() // an installed snapshot brings its configuration
	return nil
}
