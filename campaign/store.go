package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
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
}

// ErrNoCampaign is returned when a directory holds no campaign store.
var ErrNoCampaign = errors.New("no campaign here")

// ErrLocked is returned when another process has the store open.
var ErrLocked = errors.New("the campaign store is in use by another process")

// storeDir is where the badger files live inside a campaign directory.
const storeDir = "store"

// Open opens the store of the campaign in dir, creating it when create is
// set.
func Open(dir string, create bool) (*Store, error) {
	path := filepath.Join(dir, storeDir)
	if _, err := os.Stat(path); err != nil {
		if !create {
			return nil, fmt.Errorf("%s: %w", dir, ErrNoCampaign)
		}
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("campaign: %w", err)
		}
	}
	// Small tables and caches: a campaign store holds thousands of small
	// records, not gigabytes, and its workers need the memory. Every write
	// is synced, so that a machine that loses power loses nothing
	// recorded.
	opts := badger.DefaultOptions(path).
		WithLogger(nil).
		WithSyncWrites(true).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(8 << 20).
		WithNumCompactors(2).
		WithValueLogFileSize(64 << 20).
		WithMetricsEnabled(false).
		WithNumGoroutines(2)
	db, err := badger.Open(opts)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("campaign store %s: %w", path, err)
	}
	return &Store{db: db, dir: dir}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

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
	return true, item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func put(txn *badger.Txn, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, data)
}

// Init records the campaign's config, or checks it against the one recorded.
func (s *Store) Init(c Config) error {
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
func (s *Store) Config() (Config, error) {
	var c Config
	err := s.db.View(func(txn *badger.Txn) error {
		ok, err := get(txn, []byte(keyConfig), &c)
		if err == nil && !ok {
			err = fmt.Errorf("%s: %w", s.dir, ErrNoCampaign)
		}
		return err
	})
	return c, err
}

// Stats returns the campaign's totals.
func (s *Store) Stats() (Stats, error) {
	var st Stats
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := get(txn, []byte(keyStats), &st)
		return err
	})
	return st, err
}

// BeginSession counts a new session (a start or a resume) and returns the
// campaign's elapsed time before it.
func (s *Store) BeginSession() (float64, error) {
	var base float64
	err := s.db.Update(func(txn *badger.Txn) error {
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
func (s *Store) SetElapsed(elapsedS float64) error {
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
func (s *Store) Pieces() ([]Piece, error) {
	var ps []Piece
	err := s.db.View(func(txn *badger.Txn) error {
		return each(txn, prePiece, func(b []byte) error {
			var p Piece
			if err := json.Unmarshal(b, &p); err != nil {
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
		if err := it.Item().Value(fn); err != nil {
			return err
		}
	}
	return nil
}

// Violations returns the distinct violations, in the order they were found.
func (s *Store) Violations() ([]Violation, error) {
	var vs []Violation
	err := s.db.View(func(txn *badger.Txn) error {
		return each(txn, preViol, func(b []byte) error {
			var v Violation
			if err := json.Unmarshal(b, &v); err != nil {
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
func (s *Store) Blob(id, name string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blobKey(id, name))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
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
func (s *Store) SetOutcome(id string, o Outcome) error {
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
