package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
)

// ErrDamaged is returned when a campaign store cannot be read whole: a file
// of it is missing, cut short or corrupted. The message names the file.
var ErrDamaged = errors.New("campaign store damaged")

// damaged is the error of a damaged file of a store.
func damaged(file, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrDamaged, file, fmt.Sprintf(format, args...))
}

// checkStore checks, without opening it with badger, that the badger store
// in path is whole: its MANIFEST replays to its end, the tables it lists
// are there, and every one's index and blocks match their checksums. It
// reads the files only.
//
// badger cannot be trusted with this: opened on a store whose MANIFEST is
// missing or cut short it makes a new one and deletes the tables the new
// one does not list, read-only or not; it skips a table whose checksum
// does not match without a word; and a table cut short panics in one of
// its own goroutines, which ends the process with a trace. A store with no
// file at all (a campaign killed before its first write) is no campaign,
// ErrNoCampaign.
//
// It returns the tables the MANIFEST does not list, which badger deletes
// when it opens the store: a campaign killed while badger wrote a table
// (a flush, a compaction) leaves one whose records are elsewhere too, a
// MANIFEST that lost its last entries one whose records are nowhere else.
// checkOrphans tells them apart once the rest of the store is open.
func checkStore(path string) (orphans orphanTables, err error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return orphans, damaged(path, "%v", err)
	}
	ssts := map[uint64]string{}
	var manifest bool
	for _, e := range entries {
		switch name := e.Name(); {
		case name == badger.ManifestFilename:
			manifest = true
		case strings.HasSuffix(name, ".sst"):
			id, ok := table.ParseFileID(name)
			if !ok {
				return orphans, damaged(filepath.Join(path, name), "not a table of the store")
			}
			ssts[id] = name
		}
	}
	mpath := filepath.Join(path, badger.ManifestFilename)
	if !manifest {
		if len(entries) == 0 || len(entries) == 1 && entries[0].Name() == "LOCK" {
			return orphans, fmt.Errorf("%s: %w", filepath.Dir(path), ErrNoCampaign)
		}
		return orphans, damaged(mpath, "missing (it lists the store's tables)")
	}
	m, err := replayManifest(mpath)
	if err != nil {
		return orphans, err
	}
	ids := make([]uint64, 0, len(m.Tables))
	for id := range m.Tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, ok := ssts[id]; !ok {
			return orphans, damaged(table.NewFilename(id, path), "missing (%s lists it)", badger.ManifestFilename)
		}
		orphans.newest = id
	}
	for id := range ssts {
		if _, ok := m.Tables[id]; !ok {
			orphans.ids = append(orphans.ids, id)
		}
	}
	slices.Sort(orphans.ids)
	orphans.dir = path
	for _, id := range ids {
		if _, err := readTable(table.NewFilename(id, path), id, m.Tables[id].KeyID, m.Tables[id].Compression); err != nil {
			return orphans, err
		}
	}
	return orphans, nil
}

// orphanTables are the tables of the store in dir that its MANIFEST does
// not list; newest is the largest ID it lists.
type orphanTables struct {
	dir    string
	ids    []uint64
	newest uint64
}

// checkOrphans checks that the records of the tables the MANIFEST does not
// list are in the store s (their copy, which badger opened without them):
// else the MANIFEST lost its last entries, and opening the store would lose
// them. A table it cannot read that is newer than every table listed is
// one a kill interrupted badger writing: its records are in the log it was
// flushed from or in the tables it was compacted from.
func (s *Store) checkOrphans(o orphanTables) (err error) {
	defer s.guard(&err)
	for _, id := range o.ids {
		path := table.NewFilename(id, o.dir)
		t, err := readTable(path, id, 0, options.Snappy)
		if err != nil {
			if id > o.newest {
				continue
			}
			return damaged(path, "not listed in %s, and unreadable: %v", badger.ManifestFilename, err)
		}
		err = s.db.View(func(txn *badger.Txn) error {
			it := t.NewIterator(0)
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				key, ts := y.ParseKey(it.Key()), y.ParseTs(it.Key())
				if bytes.HasPrefix(key, []byte("!badger!")) {
					continue
				}
				item, err := txn.Get(key)
				if errors.Is(err, badger.ErrKeyNotFound) || err == nil && item.Version() < ts {
					return damaged(path, "not listed in %s, yet it holds records the store has nowhere else (%s): the MANIFEST is damaged or cut short", badger.ManifestFilename, key)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// replayManifest reads a store's MANIFEST, which must end with its last
// entry.
func replayManifest(path string) (m badger.Manifest, err error) {
	f, err := os.Open(path)
	if err != nil {
		return m, damaged(path, "%v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return m, damaged(path, "%v", err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, "unreadable (%s)", firstLine(fmt.Sprint(r)))
		}
	}()
	m, end, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(filepath.Dir(path)).WithLogger(nil))
	if err != nil {
		return m, damaged(path, "unreadable (%s)", firstLine(err.Error()))
	}
	if end < fi.Size() {
		return m, damaged(path, "cut short (its entries end at byte %d of %d)", end, fi.Size())
	}
	return m, nil
}

// readTable reads a table whole into memory and checks its index and
// every block against their checksums.
func readTable(path string, id, keyID uint64, compression options.CompressionType) (t *table.Table, err error) {
	if keyID != 0 {
		return nil, damaged(path, "encrypted, which campaign stores never are")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, damaged(path, "%v", err)
	}
	if len(data) < 8 {
		return nil, damaged(path, "cut short (%d bytes)", len(data))
	}
	defer func() {
		if recover() != nil {
			// badger panics on a table cut short, with a page of
			// debugging output that says no more than this.
			err = damaged(path, "unreadable: cut short or corrupted (%d bytes)", len(data))
		}
	}()
	opts := table.Options{ChkMode: options.OnTableRead, Compression: compression, BlockSize: 4 << 10}
	t, err = table.OpenInMemoryTable(data, id, &opts)
	if err != nil {
		return nil, damaged(path, "corrupted (%s)", lastCause(err))
	}
	if err := t.VerifyChecksum(); err != nil {
		return nil, damaged(path, "corrupted (%s)", lastCause(err))
	}
	return t, nil
}

// lastCause is the last part of one of badger's wrapped messages ("a err: b
// err: c" gives "c"), the one that says what is wrong.
func lastCause(err error) string {
	s := firstLine(err.Error())
	if i := strings.LastIndex(s, " err: "); i >= 0 {
		return s[i+len(" err: "):]
	}
	return s
}

// copyStore copies the files of the store in src into the directory dst,
// keeping the holes of sparse files (a value log file is 128 MiB long and
// mostly a hole).
func copyStore(dst, src string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		if err := copySparse(filepath.Join(dst, e.Name()), filepath.Join(src, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// copySparse copies the file src to dst, writing only src's data regions
// where the system can tell them from holes.
func copySparse(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	size := fi.Size()
	for off := int64(0); off < size; {
		start, end, err := dataRegion(in, off, size)
		if err != nil {
			out.Close()
			return err
		}
		if start >= size {
			break
		}
		if _, err := io.Copy(io.NewOffsetWriter(out, start), io.NewSectionReader(in, start, end-start)); err != nil {
			out.Close()
			return err
		}
		off = end
	}
	if err := out.Truncate(size); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
