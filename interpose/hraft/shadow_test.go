package hraft

import (
	"testing"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
)

// TestShadow: the shadow follows what raft stores, truncates and compacts,
// and after a crash it names what the store no longer holds, from the first
// lost entry, and then agrees with the store.
func TestShadow(t *testing.T) {
	entries := func(lo, hi, term uint64) []*raft.Log {
		var ls []*raft.Log
		for i := lo; i <= hi; i++ {
			ls = append(ls, &raft.Log{Index: i, Term: term, Type: raft.LogCommand, Data: []byte{byte(i), byte(term)}})
		}
		return ls
	}
	apply := func(sh *shadow, st *raft.InmemStore, ls []*raft.Log) {
		t.Helper()
		ops := make([]interpose.LogOp, len(ls))
		for i, l := range ls {
			ops[i] = interpose.LogOp{Kind: interpose.LogStore, Index: l.Index, Term: l.Term, Hash: entryHash(l)}
		}
		if err := st.StoreLogs(ls); err != nil {
			t.Fatal(err)
		}
		sh.store(ops)
	}
	for _, c := range []struct {
		name         string
		crash        func(st *raft.InmemStore) // what the store loses
		lo, hi, lost uint64
		ok           bool
	}{
		{"nothing lost", func(*raft.InmemStore) {}, 0, 0, 0, false},
		{"the last two", func(st *raft.InmemStore) { _ = st.DeleteRange(6, 7) }, 6, 7, 2, true},
		{"the middle one", func(st *raft.InmemStore) { _ = st.DeleteRange(5, 5) }, 5, 7, 1, true},
		{"one rewritten", func(st *raft.InmemStore) { _ = st.StoreLogs(entries(7, 7, 9)) }, 7, 7, 1, true},
		{"everything", func(st *raft.InmemStore) { _ = st.DeleteRange(3, 7) }, 3, 7, 5, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sh, st := &shadow{}, raft.NewInmemStore()
			apply(sh, st, entries(1, 4, 1))
			apply(sh, st, entries(3, 6, 2)) // a follower's suffix replaced by a new leader's
			apply(sh, st, entries(7, 7, 2))
			_ = st.DeleteRange(1, 2) // a compaction
			sh.delete(1, 2)
			sh.delete(1, 2)  // again: below what the shadow holds, nothing
			sh.delete(9, 12) // above it, nothing
			c.crash(st)
			lo, hi, lost, ok := sh.verify(st)
			if lo != c.lo || hi != c.hi || uint64(lost) != c.lost || ok != c.ok {
				t.Fatalf("verify = %d..%d, %d lost, %v; want %d..%d, %d, %v", lo, hi, lost, ok, c.lo, c.hi, c.lost, c.ok)
			}
			// After a loss the shadow is cut at the first lost entry:
			// checked again, the store has lost nothing more.
			if _, _, _, again := sh.verify(st); again {
				t.Errorf("a second verify still finds a loss")
			}
		})
	}
}
