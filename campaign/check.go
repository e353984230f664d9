package campaign

import (
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
// are there and no other, and every table's index and blocks match their
// checksums. It reads the files only.
//
// badger cannot be trusted with this: opened on a store whose MANIFEST is
// missing or cut short it makes a new one and deletes the tables the new
// one does not list, read-only or not; it skips a table whose checksum
// does not match without a word; and a table cut short panics in one of
// its own goroutines, which ends the process with a trace. A store with no
// file at all (a campaign killed before its first write) is no campaign,
// ErrNoCampaign.
func checkStore(path string) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		return damaged(path, "%v", err)
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
				return damaged(filepath.Join(path, name), "not a table of the store")
			}
			ssts[id] = name
		}
	}
	mpath := filepath.Join(path, badger.ManifestFilename)
	if !manifest {
		if len(entries) == 0 || len(entries) == 1 && entries[0].Name() == "LOCK" {
			return fmt.Errorf("%s: %w", filepath.Dir(path), ErrNoCampaign)
		}
		return damaged(mpath, "missing (it lists the store's tables)")
	}
	m, err := replayManifest(mpath)
	if err != nil {
		return err
	}
	ids := make([]uint64, 0, len(m.Tables))
	for id := range m.Tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, ok := ssts[id]; !ok {
			return damaged(table.NewFilename(id, path), "missing (%s lists it)", badger.ManifestFilename)
		}
	}
	for id, name := range ssts {
		if _, ok := m.Tables[id]; !ok {
			return damaged(filepath.Join(path, name), "not listed in %s (the MANIFEST is damaged or older than the tables)", mpath)
		}
	}
	for _, id := range ids {
		if err := checkTable(table.NewFilename(id, path), id, m.Tables[id]); err != nil {
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

// checkTable reads a table whole and checks its index and every block
// against their checksums.
func checkTable(path string, id uint64, tm badger.TableManifest) (err error) {
	if tm.KeyID != 0 {
		return damaged(path, "encrypted, which campaign stores never are")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return damaged(path, "%v", err)
	}
	if len(data) < 8 {
		return damaged(path, "cut short (%d bytes)", len(data))
	}
	defer func() {
		if recover() != nil {
			// badger panics on a table cut short, with a page of
			// debugging output that says no more than this.
			err = damaged(path, "unreadable: cut short or corrupted (%d bytes)", len(data))
		}
	}()
	opts := table.Options{ChkMode: options.OnTableRead, Compression: tm.Compression, BlockSize: 4 << 10}
	t, err := table.OpenInMemoryTable(data, id, &opts)
	if err != nil {
		return damaged(path, "corrupted (%s)", lastCause(err))
	}
	if err := t.VerifyChecksum(); err != nil {
		return damaged(path, "corrupted (%s)", lastCause(err))
	}
	return nil
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
