package campaign

import (
	"errors"
	"fmt"
	"slices"

	badger "github.com/dgraph-io/badger/v4"
)

// MergeStats says what a merge added.
type MergeStats struct {
	Pieces, Skipped, Runs, Violations int
}

// Merge copies into s the pieces of src that s lacks, with their hits and
// the violations they show; a piece s already has (or one overlapping it) is
// skipped, so merging a store twice changes nothing. Both stores must hold
// shards of one campaign. s becomes the whole campaign (shard 0/1): resuming
// it fills the holes the shards left.
func (s *Store) Merge(src *Store) (ms MergeStats, err error) {
	defer s.guard(&err)
	defer src.guard(&err)
	sc, err := src.Config()
	if err != nil {
		return ms, err
	}
	dc, err := s.Config()
	if errors.Is(err, ErrNoCampaign) {
		// A new store: it becomes the whole campaign.
		dc = sc
		dc.Merged = nil
		err = s.Init(dc)
	}
	if err != nil {
		return ms, err
	}
	if !dc.same(sc) {
		return ms, fmt.Errorf("merge %s into %s: not the same campaign (target %s seed %d chunk %d vs target %s seed %d chunk %d, or another workload)",
			src.dir, s.dir, sc.Target, sc.Seed, sc.Chunk, dc.Target, dc.Seed, dc.Chunk)
	}
	pieces, err := src.Pieces()
	if err != nil {
		return ms, err
	}
	have, err := s.Pieces()
	if err != nil {
		return ms, err
	}
	done := make([]Range, len(have))
	for i, p := range have {
		done[i] = Range{p.First, p.Count}
	}
	overlaps := func(r Range) bool {
		for _, d := range done {
			if d.First < r.End() && r.First < d.End() {
				return true
			}
		}
		return false
	}
	srcViol := map[string]Violation{}
	vs, err := src.Violations()
	if err != nil {
		return ms, err
	}
	for _, v := range vs {
		srcViol[v.ID] = v
	}
	srcStats, err := src.Stats()
	if err != nil {
		return ms, err
	}
	for _, p := range pieces {
		r := Range{p.First, p.Count}
		if overlaps(r) {
			ms.Skipped++
			continue
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			for _, h := range p.Hits {
				var v Violation
				ok, err := get(txn, []byte(preViol+h.ID), &v)
				if err != nil {
					return err
				}
				if !ok {
					sv, found := srcViol[h.ID]
					if !found {
						return fmt.Errorf("merge: %s has a hit of violation %s but not the violation", src.dir, h.ID)
					}
					v = sv
					v.Hits = 0
					if err := copyBlobs(txn, src, h.ID, BlobFirst, BlobMinimized, BlobReport); err != nil {
						return err
					}
					ms.Violations++
				}
				v.Hits += h.Count
				if err := put(txn, []byte(preViol+h.ID), v); err != nil {
					return err
				}
			}
			st, err := addPiece(txn, p)
			if err != nil {
				return err
			}
			return put(txn, []byte(keyStats), st)
		})
		if err != nil {
			return ms, err
		}
		done = append(done, r)
		ms.Pieces++
		ms.Runs += p.Count
	}
	// Minimizations done on the other machine, for violations this store
	// has not minimized.
	for id, sv := range srcViol {
		if sv.Status == Pending {
			continue
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			var v Violation
			ok, err := get(txn, []byte(preViol+id), &v)
			if err != nil || !ok || v.Status == Minimized {
				return err
			}
			v.Status, v.Note, v.MinimizedEvents, v.MinimizeS, v.HasReport = sv.Status, sv.Note, sv.MinimizedEvents, sv.MinimizeS, sv.HasReport
			if err := copyBlobs(txn, src, id, BlobMinimized, BlobReport); err != nil {
				return err
			}
			return put(txn, []byte(preViol+id), v)
		})
		if err != nil {
			return ms, err
		}
	}
	return ms, s.db.Update(func(txn *badger.Txn) error {
		var st Stats
		if _, err := get(txn, []byte(keyStats), &st); err != nil {
			return err
		}
		// The shards ran side by side: the campaign took as long as the
		// longest.
		st.ElapsedS = max(st.ElapsedS, srcStats.ElapsedS)
		if err := put(txn, []byte(keyStats), st); err != nil {
			return err
		}
		dc.Shard, dc.Shards = 0, 1
		if !slices.Contains(dc.Merged, src.dir) {
			dc.Merged = append(dc.Merged, src.dir)
		}
		return put(txn, []byte(keyConfig), dc)
	})
}

func copyBlobs(txn *badger.Txn, src *Store, id string, names ...string) error {
	for _, name := range names {
		b, err := src.Blob(id, name)
		if err != nil {
			return err
		}
		if b == nil {
			continue
		}
		if err := txn.Set(blobKey(id, name), b); err != nil {
			return err
		}
	}
	return nil
}
