package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Config is what a campaign is: the same config on two machines makes two
// shards of one campaign.
type Config struct {
	Target string `json:"target"`
	Seed   uint64 `json:"seed"`
	// Chunk is the number of runs in a chunk, the unit handed to a worker.
	Chunk int `json:"chunk"`
	// Shard I of Shards owns the chunks k with k mod Shards = I (Shards 0
	// or 1: every chunk).
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// Strategy is the exploration strategy (random, pct, portfolio).
	Strategy string `json:"strategy"`
	// FuzzArgs is the workload as flags of `faultline fuzz`, which the
	// workers run.
	FuzzArgs []string `json:"fuzz_args"`
	// MinimizeBudgetS bounds each minimization, in seconds.
	MinimizeBudgetS float64 `json:"minimize_budget_s"`
	// Created is when the campaign started (informational).
	Created time.Time `json:"created"`
	// Merged lists the stores merged into this one.
	Merged []string `json:"merged,omitempty"`
}

// same reports whether two configs describe shards of one campaign.
func (c Config) same(o Config) bool {
	return c.Target == o.Target && c.Seed == o.Seed && c.Chunk == o.Chunk && c.Strategy == o.Strategy &&
		slices.Equal(c.FuzzArgs, o.FuzzArgs)
}

// shards is Shards with 0 read as 1.
func (c Config) shards() int { return max(c.Shards, 1) }

// Finding is a violation a worker saw in a piece.
type Finding struct {
	Fingerprint string `json:"fingerprint"`
	Invariant   string `json:"invariant"`
	Detail      string `json:"detail"`
	// Strategy is the strategy of Run.
	Strategy string `json:"strategy,omitempty"`
	// Run is the first run of the piece that showed it; Count how many did.
	Run   int `json:"run"`
	Count int `json:"count"`
	// Events is the length of Schedule.
	Events int  `json:"events"`
	Flaky  bool `json:"flaky,omitempty"`
	// AfterS is when Run ended, in seconds from the start of the piece.
	AfterS float64 `json:"after_s,omitempty"`
	// Crash is set when the run crashed its worker process.
	Crash bool `json:"crash,omitempty"`
	// Upstream is the known hashicorp/raft bug it is, confirmed on its
	// schedule (fuzz.Found.Upstream), "" for none.
	Upstream string `json:"upstream,omitempty"`
	// Schedule is the schedule file's content (nil when the campaign
	// already knew the fingerprint and the worker did not keep it).
	Schedule []byte `json:"schedule,omitempty"`
}

// Hit is a piece's count of one violation.
type Hit struct {
	ID    string `json:"id"`
	Count int    `json:"count"`
}

// Piece is a finished range of runs.
type Piece struct {
	First int `json:"first"`
	Count int `json:"count"`
	// Events applied by the piece's runs; ElapsedS the worker's time.
	Events   int     `json:"events"`
	ElapsedS float64 `json:"elapsed_s"`
	Hits     []Hit   `json:"hits,omitempty"`
	// Worker is the worker slot that ran it; RSSKB that worker's peak
	// resident set size when it finished, in KiB.
	Worker int   `json:"worker"`
	RSSKB  int64 `json:"rss_kb,omitempty"`
	// HeapKB is the worker's live heap after its last collection, and
	// RSSNowKB its resident set size then, in KiB.
	HeapKB   int64 `json:"heap_kb,omitempty"`
	RSSNowKB int64 `json:"rss_now_kb,omitempty"`
	// At is the campaign's elapsed time when it was recorded, in seconds.
	At float64 `json:"at_s"`
	// Monitors counts, per liveness monitor, the piece's runs whose phase
	// saw it hot (fuzz.Result.Monitors).
	Monitors map[string]int `json:"monitors,omitempty"`
	// Faults and Checks are the piece's coverage (fuzz.Result.Faults,
	// fuzz.Result.Checks).
	Faults map[string]int `json:"faults,omitempty"`
	Checks map[string]int `json:"checks,omitempty"`
}

// Minimization states of a violation.
const (
	Pending   = "pending"
	Minimized = "minimized"
	Failed    = "failed"
)

// Violation is a distinct violation of the campaign.
type Violation struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
	Invariant   string `json:"invariant"`
	Detail      string `json:"detail"`
	Hits        int    `json:"hits"`
	// Run, Strategy, Events, Flaky and Crash describe the first schedule
	// recorded; AfterS is the campaign's elapsed time then.
	Run      int     `json:"run"`
	Strategy string  `json:"strategy,omitempty"`
	Events   int     `json:"events"`
	Flaky    bool    `json:"flaky,omitempty"`
	Crash    bool    `json:"crash,omitempty"`
	AfterS   float64 `json:"after_s"`
	// Upstream is the known hashicorp/raft bug it is ("hashicorp/raft#695"),
	// "" for none (invariants.UpstreamByID gives its link).
	Upstream string `json:"upstream,omitempty"`
	// Status is Pending, Minimized or Failed; Note says why when
	// it is not Minimized.
	Status          string  `json:"status"`
	Note            string  `json:"note,omitempty"`
	MinimizedEvents int     `json:"minimized_events,omitempty"`
	MinimizeS       float64 `json:"minimize_s,omitempty"`
	HasReport       bool    `json:"has_report,omitempty"`
}

// Stats are the campaign's totals.
type Stats struct {
	Runs   int `json:"runs"`
	Events int `json:"events"`
	// ElapsedS is the campaign's wall-clock time over every session.
	ElapsedS float64 `json:"elapsed_s"`
	Sessions int     `json:"sessions"`
	// RSSStartKB is the largest worker RSS of the pieces recorded in the
	// campaign's first minute; WorkerRSSKB the latest per worker slot.
	RSSStartKB  int64         `json:"rss_start_kb"`
	WorkerRSSKB map[int]int64 `json:"worker_rss_kb,omitempty"`
	// HeapStartKB and WorkerHeapKB are the same for the workers' live heap,
	// RSSNowStartKB and WorkerRSSNowKB for their resident set size at the
	// end of a piece.
	HeapStartKB    int64         `json:"heap_start_kb,omitempty"`
	WorkerHeapKB   map[int]int64 `json:"worker_heap_kb,omitempty"`
	RSSNowStartKB  int64         `json:"rss_now_start_kb,omitempty"`
	WorkerRSSNowKB map[int]int64 `json:"worker_rss_now_kb,omitempty"`
	// Memory samples the workers' figures about once a minute, so that a
	// long campaign shows whether its memory stays flat.
	Memory []MemorySample `json:"memory,omitempty"`
	// Monitors counts, per liveness monitor, the runs whose phase saw it
	// hot; a monitor at 0 never turned hot in the campaign: it checked
	// nothing.
	Monitors map[string]int `json:"monitors,omitempty"`
	// Faults counts the faults that fired and Checks each safety
	// property's comparisons, over the campaign (fuzz.Result.Faults,
	// fuzz.Result.Checks).
	Faults map[string]int `json:"faults,omitempty"`
	Checks map[string]int `json:"checks,omitempty"`
}

// MemorySample is the largest of the workers' latest memory figures, at
// AtS seconds into the campaign, in KiB.
type MemorySample struct {
	AtS    float64 `json:"at_s"`
	PeakKB int64   `json:"peak_rss_kb"`
	RSSKB  int64   `json:"rss_kb"`
	HeapKB int64   `json:"heap_kb"`
}

// memoryEvery is how often Stats.Memory takes a sample, in seconds.
const memoryEvery = 60

// RSSNowLatestKB is the largest of the workers' latest resident set sizes.
func (s Stats) RSSNowLatestKB() int64 { return maxOf(s.WorkerRSSNowKB) }

func maxOf(m map[int]int64) int64 {
	var x int64
	for _, v := range m {
		x = max(x, v)
	}
	return x
}

// HeapLatestKB is the largest of the workers' latest live heaps.
func (s Stats) HeapLatestKB() int64 { return maxOf(s.WorkerHeapKB) }

// RSSLatestKB is the largest of the workers' latest RSS.
func (s Stats) RSSLatestKB() int64 { return maxOf(s.WorkerRSSKB) }

// Store is an open campaign store.
type Store struct {
	db  *badger.DB
	dir string
	// path is the directory of the store's files; for a store opened by
	// OpenRead, copy is the private copy badger has open, which Close
	// removes.
	path, copy string
	log        *badgerLog
}

// ErrNoCampaign is returned when a directory holds no campaign store.
var ErrNoCampaign = errors.New("no campaign here")

// ErrLocked is returned when another process has the store open.
var ErrLocked = errors.New("the campaign store is in use by another process")

// storeDir is where the badger files live inside a campaign directory.
const storeDir = "store"

// storeOptions are badger's options for the store in path.
func storeOptions(path string) badger.Options {
	// Small tables and caches: a campaign store holds thousands of small
	// records, not gigabytes, and its workers need the memory. Every write
	// is synced, so that a machine that loses power loses nothing
	// recorded. Every value and every block read is checked against its
	// checksum, so that a damaged store is an error, never wrong figures.
	return badger.DefaultOptions(path).
		WithLogger(nil).
		WithSyncWrites(true).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(8 << 20).
		WithNumCompactors(2).
		WithValueLogFileSize(64 << 20).
		WithMetricsEnabled(false).
		WithNumGoroutines(2).
		WithVerifyValueChecksum(true).
		WithChecksumVerificationMode(options.OnBlockRead)
}

// Open opens the store of the campaign in dir for writing (a session, a
// merge's destination), creating it when create is set; create refuses a
// directory that holds files but no campaign. An existing store is first
// checked whole (checkStore, and every value read in a private copy), so
// that badger never opens a damaged store for writing: it would repair it
// by deleting what it cannot read. A damaged store is ErrDamaged, naming
// the file, and is left as it was.
func Open(dir string, create bool) (*Store, error) {
	path := filepath.Join(dir, storeDir)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !create {
			return nil, noStore(dir)
		}
		if err := checkEmpty(dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("campaign: %w", err)
		}
		return openDB(dir, path)
	case err != nil:
		return nil, fmt.Errorf("campaign: %w", err)
	case !fi.IsDir():
		return nil, damaged(path, "not a directory")
	}
	release, err := lockDir(path, true)
	if err != nil {
		return nil, lockErr(dir, err)
	}
	orphans, err := checkStore(path)
	if err == nil {
		var c *Store
		if c, err = openCopy(dir, path, orphans); err == nil {
			err = c.Verify()
			if cerr := c.Close(); err == nil {
				err = cerr
			}
		}
	}
	release()
	if errors.Is(err, ErrNoCampaign) && create {
		err = nil // an empty store: a campaign killed before its first write
	}
	if err != nil {
		return nil, err
	}
	return openDB(dir, path)
}

// OpenRead opens the store of the campaign in dir for reading (status,
// list, show, a merge's sources) without changing a byte of it: it checks
// the store whole (checkStore), copies it into a private temporary
// directory and opens the copy, which Close removes. A store open for
// writing by a running campaign is ErrLocked; a damaged one ErrDamaged,
// naming the file.
//
// The copy is what makes reading safe: badger opened read-only refuses a
// store whose write-ahead log a killed campaign left unfinished (it wants
// to truncate it), and opened for writing it changes the store.
func OpenRead(dir string) (*Store, error) {
	path := filepath.Join(dir, storeDir)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, noStore(dir)
	case err != nil:
		return nil, fmt.Errorf("campaign: %w", err)
	case !fi.IsDir():
		return nil, damaged(path, "not a directory")
	}
	release, err := lockDir(path, false)
	if err != nil {
		return nil, lockErr(dir, err)
	}
	defer release()
	orphans, err := checkStore(path)
	if err != nil {
		return nil, err
	}
	return openCopy(dir, path, orphans)
}

// openCopy copies the store in path into a private temporary directory
// and opens the copy, checking that the tables its MANIFEST does not list
// lose nothing. The caller holds the store's lock.
func openCopy(dir, path string, orphans orphanTables) (*Store, error) {
	tmp, err := MkdirTemp("faultline-read-")
	if err != nil {
		return nil, err
	}
	if err := copyStore(tmp, path); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("campaign store %s: copying it to read it: %w", path, err)
	}
	s, err := openDB(dir, tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s.path, s.copy = path, tmp
	if err := s.checkOrphans(orphans); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openDB opens the badger store in path, of the campaign in dir.
func openDB(dir, path string) (s *Store, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w: %s: %s", ErrDamaged, path, firstLine(fmt.Sprint(r)))
		}
	}()
	log := &badgerLog{}
	db, err := badger.Open(storeOptions(path).WithLogger(log))
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("campaign store %s: %w", path, err)
	}
	return &Store{db: db, dir: dir, path: path, log: log}, nil
}

// lockErr is lockDir's error for the campaign in dir.
func lockErr(dir string, err error) error {
	if errors.Is(err, ErrLocked) {
		return fmt.Errorf("%s: %w", dir, ErrLocked)
	}
	return fmt.Errorf("campaign store %s: %w", dir, err)
}

// noStore is the error of a campaign directory without a store: none, or
// a damaged one when the campaign's status file says one ran there.
func noStore(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such directory: %w", dir, ErrNoCampaign)
	}
	if _, err := os.Stat(filepath.Join(dir, snapshotFile)); err == nil {
		return damaged(filepath.Join(dir, storeDir), "missing (%s says a campaign ran here)", snapshotFile)
	}
	return fmt.Errorf("%s: %w", dir, ErrNoCampaign)
}

// checkEmpty refuses to make a campaign in a directory that holds files
// but no campaign store: a mistyped --dir must not fill someone's
// directory, nor a campaign whose store was lost start afresh beside its
// leftovers.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	if err := noStore(dir); errors.Is(err, ErrDamaged) {
		return err
	}
	return fmt.Errorf("%s: %w: the directory is not empty; start a campaign in a new or empty directory", dir, ErrNoCampaign)
}

// guard turns a panic of badger's, reading or writing a damaged store,
// into an error naming the store, so that a command ends with one line
// and not a trace; and for OpenRead's copy it names the store's files,
// not the copy's. Every method of Store defers it.
func (s *Store) guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %s: %s", ErrDamaged, s.path, firstLine(fmt.Sprint(r)))
	}
	if *err != nil && s.copy != "" && strings.Contains((*err).Error(), s.copy) {
		*err = inCopy{err: *err, copy: s.copy, path: s.path}
	}
}

// inCopy is an error about OpenRead's copy of a store, told as about the
// store itself.
type inCopy struct {
	err        error
	copy, path string
}

func (e inCopy) Error() string { return strings.ReplaceAll(e.err.Error(), e.copy, e.path) }
func (e inCopy) Unwrap() error { return e.err }

// Verify reads every record and stored file of the store, each checked
// against its checksum: an error (ErrDamaged naming the file) when one
// cannot be read.
func (s *Store) Verify() (err error) {
	defer s.guard(&err)
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if _, err := s.value(item); err != nil {
				return err
			}
		}
		return nil
	})
}

// value reads an item's value. badger answers a value it cannot read
// from the value log (a checksum that does not match, a file cut short)
// with no value and no error, only a line for its logger: an empty value
// where badger knows it stored some is that.
func (s *Store) value(item *badger.Item) ([]byte, error) {
	v, err := item.ValueCopy(nil)
	if err == nil && len(v) == 0 && item.ValueSize() > 0 {
		err = errors.New(s.log.lastError())
	}
	if err != nil {
		return nil, s.valueErr(item.KeyCopy(nil), err)
	}
	return v, nil
}

// valueErr is the error of a value that could not be read: one that
// large lives in the value log, whose files it names.
func (s *Store) valueErr(key []byte, err error) error {
	logs, _ := filepath.Glob(filepath.Join(s.path, "*.vlog"))
	for i, l := range logs {
		logs[i] = filepath.Base(l)
	}
	file := s.path
	switch len(logs) {
	case 0:
	case 1:
		file = filepath.Join(s.path, logs[0])
	default:
		file = fmt.Sprintf("%s (%s)", filepath.Join(s.path, "*.vlog"), strings.Join(logs, ", "))
	}
	return fmt.Errorf("%w: %s: the value of %s is unreadable, cut short or corrupted (%w)", ErrDamaged, file, key, err)
}

// badgerLog is a badger logger that keeps the last error badger logged:
// the only word badger says of a value it could not read.
type badgerLog struct {
	mu   sync.Mutex
	last string
}

func (l *badgerLog) Errorf(format string, args ...any) {
	if !strings.HasPrefix(format, "Unable to read") {
		return // the lines that follow list the key's versions
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = fmt.Sprintf(format, args...)
}
func (*badgerLog) Warningf(string, ...any) {}
func (*badgerLog) Infof(string, ...any)    {}
func (*badgerLog) Debugf(string, ...any)   {}

// lastError is what badger said of the last read it failed.
func (l *badgerLog) lastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, after, ok := strings.Cut(l.last, " Error: "); ok {
		return strings.TrimSpace(after)
	}
	if l.last == "" {
		return "no value where one was stored"
	}
	return strings.TrimSpace(l.last)
}

// Close closes the store (and removes OpenRead's copy).
func (s *Store) Close() (err error) {
	defer s.guard(&err)
	if s.copy != "" {
		defer os.RemoveAll(s.copy)
	}
	return s.db.Close()
}

// Dir is the campaign's directory.
func (s *Store) Dir() string { return s.dir }

// Keys.
const (
	keyConfig = "config"
	keyStats  = "stats"
	prePiece  = "piece/"
	preViol   = "viol/"
	preBlob   = "blob/"
)

func pieceKey(first int) []byte { return fmt.Appendf(nil, "%s%020d", prePiece, first) }

// Blobs of a violation.
const (
	BlobFirst     = "first"     // the first schedule that showed it
	BlobMinimized = "minimized" // its minimized schedule
	BlobReport    = "report"    // its Markdown report
)

func blobKey(id, name string) []byte { return []byte(preBlob + id + "/" + name) }

// ID is the short identifier of a violation fingerprint.
func ID(fingerprint string) string {
	h := sha256.Sum256([]byte(fingerprint))
	return hex.EncodeToString(h[:])[:10]
}

func get[T any](txn *badger.Txn, key []byte, v *T) (bool, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := item.Value(func(b []byte) error { return decode(b, v) }); err != nil {
		return true, fmt.Errorf("record %s: %w", key, err)
	}
	return true, nil
}

// decode reads a JSON record. badger answers a value it could not read
// with an empty one, which no record is.
func decode[T any](b []byte, v *T) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return nil
}

func put(txn *badger.Txn, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, data)
}

// Init records the campaign's config, or checks it against the one recorded.
func (s *Store) Init(c Config) (err error) {
	defer s.guard(&err)
	return s.db.Update(func(txn *badger.Txn) error {
		var old Config
		ok, err := get(txn, []byte(keyConfig), &old)
		if err != nil {
			return err
		}
		if ok {
			if !old.same(c) || old.Shard != c.Shard || old.Shards != c.Shards {
				return fmt.Errorf("%s already holds a different campaign (target %s, seed %d); resume it with `faultline campaign resume --dir %s`",
					s.dir, old.Target, old.Seed, s.dir)
			}
			return nil
		}
		return put(txn, []byte(keyConfig), c)
	})
}

// Config returns the campaign's config.
func (s *Store) Config() (c Config, err error) {
	defer s.guard(&err)
	err = s.db.View(func(txn *badger.Txn) error {
		ok, err := get(txn, []byte(keyConfig), &c)
		if err == nil && !ok {
			err = fmt.Errorf("%s: %w", s.dir, ErrNoCampaign)
		}
		return err
	})
	return c, err
}

// Stats returns the campaign's totals.
func (s *Store) Stats() (st Stats, err error) {
	defer s.guard(&err)
	err = s.db.View(func(txn *badger.Txn) error {
		_, err := get(txn, []byte(keyStats), &st)
		return err
	})
	return st, err
}

// BeginSession counts a new session (a start or a resume) and returns the
// campaign's elapsed time before it.
func (s *Store) BeginSession() (base float64, err error) {
	defer s.guard(&err)
	err = s.db.Update(func(txn *badger.Txn) error {
		var st Stats
		if _, err := get(txn, []byte(keyStats), &st); err != nil {
			return err
		}
		st.Sessions++
		base = st.ElapsedS
		return put(txn, []byte(keyStats), st)
	})
	return base, err
}

// SetElapsed records the campaign's elapsed time.
func (s *Store) SetElapsed(elapsedS float64) (err error) {
	defer s.guard(&err)
	return s.db.Update(func(txn *badger.Txn) error {
		var st Stats
		if _, err := get(txn, []byte(keyStats), &st); err != nil {
			return err
		}
		st.ElapsedS = elapsedS
		return put(txn, []byte(keyStats), st)
	})
}

// rssStartWindow is how long after the campaign's start a piece's RSS
// counts as the starting RSS.
const rssStartWindow = 60

// Record stores a finished piece and what it found, in one transaction,
// and returns the IDs of the violations it is the first to show. A piece
// already recorded (the same first run) changes nothing.
func (s *Store) Record(p Piece, found []Finding) (fresh []string, err error) {
	defer s.guard(&err)
	err = s.db.Update(func(txn *badger.Txn) error {
		fresh = nil
		var old Piece
		if ok, err := get(txn, pieceKey(p.First), &old); err != nil || ok {
			return err
		}
		p.Hits = p.Hits[:0:0]
		for _, f := range found {
			id := ID(f.Fingerprint)
			p.Hits = append(p.Hits, Hit{ID: id, Count: f.Count})
			var v Violation
			ok, err := get(txn, []byte(preViol+id), &v)
			if err != nil {
				return err
			}
			if !ok {
				if f.Schedule == nil {
					return fmt.Errorf("campaign: new violation %q recorded without its schedule", f.Fingerprint)
				}
				v = Violation{ID: id, Fingerprint: f.Fingerprint, Invariant: f.Invariant, Detail: f.Detail,
					Run: f.Run, Strategy: f.Strategy, Events: f.Events, Flaky: f.Flaky, Crash: f.Crash, Upstream: f.Upstream,
					AfterS: max(0, p.At-p.ElapsedS+f.AfterS), Status: Pending}
				if err := txn.Set(blobKey(id, BlobFirst), f.Schedule); err != nil {
					return err
				}
				fresh = append(fresh, id)
			}
			v.Hits += f.Count
			if err := put(txn, []byte(preViol+id), v); err != nil {
				return err
			}
		}
		st, err := addPiece(txn, p)
		if err != nil {
			return err
		}
		st.ElapsedS = max(st.ElapsedS, p.At)
		track(&st.RSSStartKB, &st.WorkerRSSKB, p, p.RSSKB)
		track(&st.HeapStartKB, &st.WorkerHeapKB, p, p.HeapKB)
		track(&st.RSSNowStartKB, &st.WorkerRSSNowKB, p, p.RSSNowKB)
		if n := len(st.Memory); p.RSSKB > 0 && (n == 0 || p.At-st.Memory[n-1].AtS >= memoryEvery) {
			st.Memory = append(st.Memory, MemorySample{AtS: p.At, PeakKB: st.RSSLatestKB(), RSSKB: st.RSSNowLatestKB(),
				HeapKB: st.HeapLatestKB()})
		}
		return put(txn, []byte(keyStats), st)
	})
	return fresh, err
}

// addPiece stores a piece and adds its runs and events to the stats, which
// it returns for the caller to complete and store.
func addPiece(txn *badger.Txn, p Piece) (Stats, error) {
	var st Stats
	if err := put(txn, pieceKey(p.First), p); err != nil {
		return st, err
	}
	if _, err := get(txn, []byte(keyStats), &st); err != nil {
		return st, err
	}
	st.Runs += p.Count
	st.Events += p.Events
	addCounts(&st.Monitors, p.Monitors)
	addCounts(&st.Faults, p.Faults)
	addCounts(&st.Checks, p.Checks)
	return st, nil
}

// track records a worker's memory figure v of piece p: the largest in the
// campaign's first minute, and the latest per worker.
func track(start *int64, latest *map[int]int64, p Piece, v int64) {
	if v <= 0 {
		return
	}
	if p.At < rssStartWindow {
		*start = max(*start, v)
	}
	if *latest == nil {
		*latest = map[int]int64{}
	}
	(*latest)[p.Worker] = v
}

// Pieces returns every recorded piece, in run order.
func (s *Store) Pieces() (ps []Piece, err error) {
	defer s.guard(&err)
	err = s.db.View(func(txn *badger.Txn) error {
		return each(txn, prePiece, func(b []byte) error {
			var p Piece
			if err := decode(b, &p); err != nil {
				return err
			}
			ps = append(ps, p)
			return nil
		})
	})
	return ps, err
}

func each(txn *badger.Txn, prefix string, fn func([]byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte(prefix)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if err := item.Value(fn); err != nil {
			return fmt.Errorf("record %s: %w", item.Key(), err)
		}
	}
	return nil
}

// Violations returns the distinct violations, in the order they were found.
func (s *Store) Violations() (vs []Violation, err error) {
	defer s.guard(&err)
	err = s.db.View(func(txn *badger.Txn) error {
		return each(txn, preViol, func(b []byte) error {
			var v Violation
			if err := decode(b, &v); err != nil {
				return err
			}
			vs = append(vs, v)
			return nil
		})
	})
	slices.SortStableFunc(vs, func(a, b Violation) int {
		if a.AfterS != b.AfterS {
			if a.AfterS < b.AfterS {
				return -1
			}
			return 1
		}
		return a.Run - b.Run
	})
	return vs, err
}

// Blob returns a stored file of a violation (nil when absent).
func (s *Store) Blob(id, name string) (out []byte, err error) {
	defer s.guard(&err)
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blobKey(id, name))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = s.value(item)
		return err
	})
	return out, err
}

// Outcome is how a minimization ended.
type Outcome struct {
	Status    string
	Note      string
	Events    int
	ElapsedS  float64
	Minimized []byte // the minimized schedule (nil: none)
	Report    []byte // the Markdown report (nil: none)
}

// SetOutcome records how the minimization of violation id ended.
func (s *Store) SetOutcome(id string, o Outcome) (err error) {
	defer s.guard(&err)
	return s.db.Update(func(txn *badger.Txn) error {
		var v Violation
		ok, err := get(txn, []byte(preViol+id), &v)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no violation %s", id)
		}
		v.Status, v.Note, v.MinimizedEvents, v.MinimizeS = o.Status, o.Note, o.Events, o.ElapsedS
		if o.Minimized != nil {
			if err := txn.Set(blobKey(id, BlobMinimized), o.Minimized); err != nil {
				return err
			}
		}
		if o.Report != nil {
			v.HasReport = true
			if err := txn.Set(blobKey(id, BlobReport), o.Report); err != nil {
				return err
			}
		}
		return put(txn, []byte(preViol+id), v)
	})
}

// addCounts adds the counts of from to *to, making it when needed; a key at
// 0 is kept (a monitor or a check that was armed and saw nothing).
func addCounts(to *map[string]int, from map[string]int) {
	for k, v := range from {
		if *to == nil {
			*to = map[string]int{}
		}
		(*to)[k] += v
	}
}
