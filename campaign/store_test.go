package campaign

import (
	"crypto/sha256"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// hashFiles hashes each file of dir by name.
func hashFiles(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string][32]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sums[e.Name()] = sha256.Sum256(data)
	}
	return sums
}

// TestReadKilledStore reads the store a campaign killed with kill -9
// leaves (its files as they were while it ran: a write-ahead log badger
// opened read-only refuses), and checks that Load reads all of it and
// changes nothing.
func TestReadKilledStore(t *testing.T) {
	src := t.TempDir()
	s, err := Open(src, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Init(cfg); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Record(Piece{First: i * 10, Count: 10, Events: 5}, []Finding{finding("A", i*10+1, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	killed := t.TempDir()
	if err := os.Mkdir(filepath.Join(killed, storeDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyStore(filepath.Join(killed, storeDir), filepath.Join(src, storeDir)); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(killed, storeDir, "*.mem")); len(m) == 0 {
		t.Fatal("the copy has no write-ahead log: it is not what a kill leaves")
	}
	before := hashFiles(t, filepath.Join(killed, storeDir))
	sn, err := Load(killed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sn.Stats.Runs != 30 || len(sn.Violations) != 1 || sn.Violations[0].Hits != 3 || sn.Frontier != 30 {
		t.Errorf("read %+v, %d violations", sn.Stats, len(sn.Violations))
	}
	if after := hashFiles(t, filepath.Join(killed, storeDir)); !maps.Equal(before, after) {
		t.Error("reading the store changed it")
	}
}

// TestLoadRunning: while a campaign has its store open, Load reads the
// status it writes, and OpenRead says the store is in use.
func TestLoadRunning(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Init(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRead(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("OpenRead of an open store: %v, want ErrLocked", err)
	}
	if err := WriteSnapshot(dir, Snapshot{Config: cfg, Running: true}); err != nil {
		t.Fatal(err)
	}
	sn, err := Load(dir, nil)
	if err != nil || !sn.Running || sn.Config.Target != cfg.Target {
		t.Errorf("Load: %+v, %v", sn, err)
	}
}

// TestOpenCreate: a campaign is made in a new or empty directory only.
func TestOpenCreate(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    error // nil: the campaign is made
	}{
		{"new", func(t *testing.T, dir string) { os.Remove(dir) }, nil},
		{"empty", func(*testing.T, string) {}, nil},
		{"empty store (killed before its first write)", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, storeDir), 0o755); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"someone's files", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrNoCampaign},
		{"a campaign whose store is gone", func(t *testing.T, dir string) {
			if err := WriteSnapshot(dir, Snapshot{Config: cfg}); err != nil {
				t.Fatal(err)
			}
		}, ErrDamaged},
		{"store is a file", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, storeDir), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrDamaged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			c.prepare(t, dir)
			s, err := Open(dir, true)
			if err == nil {
				s.Close()
			}
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Open: %v, want %v", err, c.want)
			}
			if c.want != nil {
				if _, err := os.Stat(filepath.Join(dir, storeDir, "MANIFEST")); err == nil {
					t.Error("a refused directory got a store")
				}
			}
		})
	}
}

// TestOrphanTables: a table the MANIFEST does not list is what a campaign
// killed while badger wrote one leaves (its records are elsewhere too, or
// it was never finished), which the store is read and resumed with; or
// what a MANIFEST that lost entries leaves, which is damage.
func TestOrphanTables(t *testing.T) {
	cases := []struct {
		name   string
		orphan func(t *testing.T, store string)
		want   error
	}{
		{"a table compacted or flushed again", func(t *testing.T, store string) {
			data, err := os.ReadFile(filepath.Join(store, "000001.sst"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(store, "000002.sst"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"a table whose writing was cut", func(t *testing.T, store string) {
			if err := os.WriteFile(filepath.Join(store, "000002.sst"), make([]byte, 4096), 0o644); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"a MANIFEST that lost its entries", func(t *testing.T, store string) {
			if err := os.Truncate(filepath.Join(store, "MANIFEST"), 8); err != nil {
				t.Fatal(err)
			}
		}, ErrDamaged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Init(cfg); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Record(Piece{First: 0, Count: 10, Events: 5}, []Finding{finding("A", 1, 1)}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(dir, storeDir)
			c.orphan(t, store)
			before := hashFiles(t, store)
			sn, err := Load(dir, nil)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("Load: %v, want %v", err, c.want)
				}
			} else if err != nil || sn.Stats.Runs != 10 || len(sn.Violations) != 1 {
				t.Fatalf("Load: %v, %+v", err, sn.Stats)
			}
			if !maps.Equal(before, hashFiles(t, store)) {
				t.Error("reading the store changed it")
			}
			s, err = Open(dir, false)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Errorf("Open: %v, want %v", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if st, err := s.Stats(); err != nil || st.Runs != 10 {
				t.Errorf("resumed store: %+v, %v", st, err)
			}
		})
	}
}
