package hraft

import (
	"fmt"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
)

// StoreLostEntries is the violation of a log store that lost, at a crash,
// entries it had acknowledged: raft takes an entry as durable once
// StoreLogs returns, and counts it toward a commit. Such a loss would
// otherwise surface later under another name (a leader that seems to
// overwrite its own entry, a committed entry missing from a new leader).
const StoreLostEntries = "StoreLostEntries"

// shadow is what raft stored through a node's log store wrapper and the
// store acknowledged: each entry's term and content hash, from index first
// on. After a crash of a store that can lose writes (a Crasher), the store
// is read back and compared with it.
type shadow struct {
	mu    sync.Mutex
	first uint64
	ents  []shadowEntry
}

type shadowEntry struct{ term, hash uint64 }

// store records the entries of an acknowledged StoreLogs, as the wrapper
// reports them (LogStore ops: index, term, entryHash).
func (s *shadow) store(ops []interpose.LogOp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range ops {
		i := op.Index
		switch {
		case len(s.ents) == 0 || i < s.first || i > s.first+uint64(len(s.ents)):
			s.first, s.ents = i, s.ents[:0] // a new start: the first entry, or after a snapshot's gap
		default:
			s.ents = s.ents[:i-s.first]
		}
		s.ents = append(s.ents, shadowEntry{op.Term, op.Hash})
	}
}

// delete records an acknowledged DeleteRange.
func (s *shadow) delete(lo, hi uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ents) == 0 {
		return
	}
	last := s.first + uint64(len(s.ents)) - 1
	switch {
	case hi < s.first || lo > last:
		// Entries the shadow does not hold (below a snapshot's gap).
	case lo <= s.first && hi >= last:
		s.ents = s.ents[:0]
	case lo <= s.first && hi >= s.first:
		s.ents = append(s.ents[:0], s.ents[hi+1-s.first:]...) // a compaction: copied, so the prefix is freed
		s.first = hi + 1
	case lo <= last:
		s.ents = s.ents[:lo-s.first]
	}
}

// verify reads the store back after a crash and reports the first index
// of what it lost (an entry missing or holding something else) and the
// last index the shadow holds; ok is false when nothing was lost. The
// shadow is then what the store holds.
func (s *shadow) verify(store raft.LogStore) (lo, hi uint64, lost int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var l raft.Log
	for k, e := range s.ents {
		i := s.first + uint64(k)
		if err := store.GetLog(i, &l); err == nil && l.Term == e.term && entryHash(&l) == e.hash {
			continue
		}
		if !ok {
			lo, ok = i, true
		}
		lost++
	}
	if !ok {
		return 0, 0, 0, false
	}
	hi = s.first + uint64(len(s.ents)) - 1
	s.ents = s.ents[:lo-s.first]
	return lo, hi, lost, true
}

// afterCrash compares a store that can lose writes with what it had
// acknowledged. A loss is a StoreLostEntries violation, and the checker's
// copy of the node's log is told, as a truncation by no leader, followed by
// whatever the store still holds past the first lost entry: raft did not
// overwrite anything, and nothing may say it did.
func (s *logStore) afterCrash() {
	lo, hi, lost, ok := s.sh.verify(s.inner)
	if !ok {
		return
	}
	ops := []interpose.LogOp{{Node: s.n.id, Kind: interpose.LogTruncate, Index: lo, Hi: hi}}
	var l raft.Log
	for i := lo; i <= hi; i++ {
		if s.inner.GetLog(i, &l) == nil {
			ops = append(ops, interpose.LogOp{Node: s.n.id, Kind: interpose.LogStore, Index: i, Term: l.Term, Hash: entryHash(&l)})
		}
	}
	s.sh.store(ops[1:]) // what survives past the first lost entry
	s.n.c.observeLog(ops...)
	what := fmt.Sprintf("entry %d", lo)
	if hi > lo {
		what = fmt.Sprintf("%d of its entries %d..%d", lost, lo, hi)
	}
	s.n.c.observeFault(interpose.Violation{
		Invariant:   StoreLostEntries,
		Fingerprint: StoreLostEntries,
		Detail: fmt.Sprintf("n%d's log store lost %s at the crash, after StoreLogs had returned "+
			"(raft counts an entry as durable once stored: not an overwrite by raft)", s.n.id, what),
	})
}
