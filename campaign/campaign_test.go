package campaign

import (
	"errors"
	"slices"
	"testing"
)

func open(t *testing.T, c Config) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Init(c); err != nil {
		t.Fatal(err)
	}
	return s
}

var cfg = Config{Target: "raft-45", Seed: 1, Chunk: 10, Strategy: "random", FuzzArgs: []string{"--target", "raft-45"}}

func finding(fp string, run, count int) Finding {
	return Finding{Fingerprint: fp, Invariant: "ElectionSafety", Run: run, Count: count, Events: 7, Schedule: []byte(`{"version":1}`)}
}

func TestPlanner(t *testing.T) {
	cases := []struct {
		name          string
		shard, shards int
		done          []Range
		want          []Range // the first ranges handed out
	}{
		{"fresh", 0, 1, nil, []Range{{0, 10}, {10, 10}, {20, 10}}},
		{"after two chunks", 0, 1, []Range{{0, 10}, {10, 10}}, []Range{{20, 10}, {30, 10}}},
		{"a chunk in flight when killed", 0, 1, []Range{{0, 10}, {20, 10}}, []Range{{10, 10}, {30, 10}}},
		{"a crash cut a chunk", 0, 1, []Range{{0, 4}, {4, 1}, {7, 3}}, []Range{{5, 2}, {10, 10}}},
		{"shard 1 of 3", 1, 3, nil, []Range{{10, 10}, {40, 10}, {70, 10}}},
		{"shard 1 of 3 resumed", 1, 3, []Range{{10, 10}, {70, 10}}, []Range{{40, 10}, {100, 10}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cf := cfg
			cf.Shard, cf.Shards = c.shard, c.shards
			p := NewPlanner(cf, slices.Clone(c.done))
			var got []Range
			for range c.want {
				r, ok := p.Next()
				if !ok {
					t.Fatal("planner ended")
				}
				got = append(got, r)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestShardsCoverOnce(t *testing.T) {
	const n = 4
	seen := map[int]int{}
	for i := range n {
		cf := cfg
		cf.Shard, cf.Shards = i, n
		p := NewPlanner(cf, nil)
		for range 25 {
			r, _ := p.Next()
			for run := r.First; run < r.End(); run++ {
				seen[run]++
			}
		}
	}
	for run := range 1000 {
		if seen[run] != 1 {
			t.Fatalf("run %d handed out %d times over %d shards", run, seen[run], n)
		}
	}
}

func TestRecordDeduplicates(t *testing.T) {
	s := open(t, cfg)
	fresh, err := s.Record(Piece{First: 0, Count: 10, Events: 100}, []Finding{finding("A", 3, 2), finding("B", 5, 1)})
	if err != nil || len(fresh) != 2 {
		t.Fatalf("fresh %v, err %v", fresh, err)
	}
	// Known fingerprint: no schedule needed, hits add up.
	known := finding("A", 12, 3)
	known.Schedule = nil
	if fresh, err = s.Record(Piece{First: 10, Count: 10, Events: 50}, []Finding{known}); err != nil || len(fresh) != 0 {
		t.Fatalf("fresh %v, err %v", fresh, err)
	}
	// The same piece again changes nothing.
	if _, err = s.Record(Piece{First: 10, Count: 10, Events: 50}, []Finding{known}); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Violations()
	if err != nil {
		t.Fatal(err)
	}
	hits := map[string]int{}
	for _, v := range vs {
		hits[v.Fingerprint] = v.Hits
	}
	if len(vs) != 2 || hits["A"] != 5 || hits["B"] != 1 {
		t.Errorf("violations %+v", vs)
	}
	st, _ := s.Stats()
	if st.Runs != 20 || st.Events != 150 {
		t.Errorf("stats %+v", st)
	}
	// A new fingerprint without its schedule is refused, and nothing of
	// the piece is kept.
	bad := finding("C", 21, 1)
	bad.Schedule = nil
	if _, err := s.Record(Piece{First: 20, Count: 10}, []Finding{bad}); err == nil {
		t.Error("a new violation without a schedule was recorded")
	}
	if st2, _ := s.Stats(); st2.Runs != 20 {
		t.Errorf("a refused piece counted: %+v", st2)
	}
}

func TestReopenAndConfig(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(Piece{First: 0, Count: 10, Events: 9}, []Finding{finding("A", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, false); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
	s.Close()
	s, err = Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other := cfg
	other.Seed = 2
	if err := s.Init(other); err == nil {
		t.Error("a different campaign was accepted in the same directory")
	}
	p, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := p.Next(); r != (Range{10, 10}) {
		t.Errorf("resumed at %v", r)
	}
	if _, err := Open(t.TempDir(), false); !errors.Is(err, ErrNoCampaign) {
		t.Errorf("empty dir: %v", err)
	}
}

func TestMerge(t *testing.T) {
	a, b := cfg, cfg
	a.Shard, a.Shards, b.Shard, b.Shards = 0, 2, 1, 2
	sa, sb := open(t, a), open(t, b)
	sa.Record(Piece{First: 0, Count: 10, Events: 10}, []Finding{finding("A", 1, 2)})
	sa.Record(Piece{First: 20, Count: 10, Events: 10}, nil)
	sb.Record(Piece{First: 10, Count: 10, Events: 10}, []Finding{finding("A", 11, 1), finding("B", 12, 4)})
	if err := sb.SetOutcome(ID("B"), Outcome{Status: Minimized, Events: 3, Minimized: []byte("m"), Report: []byte("# r")}); err != nil {
		t.Fatal(err)
	}
	dst, err := Open(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for range 2 { // twice: the second merge adds nothing
		for _, src := range []*Store{sa, sb} {
			if _, err := dst.Merge(src); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, _ := dst.Stats()
	vs, _ := dst.Violations()
	hits := map[string]int{}
	for _, v := range vs {
		hits[v.Fingerprint] = v.Hits
	}
	if st.Runs != 30 || len(vs) != 2 || hits["A"] != 3 || hits["B"] != 4 {
		t.Errorf("merged: stats %+v, violations %+v", st, vs)
	}
	if r, _ := dst.Blob(ID("B"), BlobReport); string(r) != "# r" {
		t.Errorf("report not merged: %q", r)
	}
	c, _ := dst.Config()
	if c.Shards != 1 || len(c.Merged) != 2 {
		t.Errorf("merged config %+v", c)
	}
	other := cfg
	other.Target = "raft-46"
	if _, err := dst.Merge(open(t, other)); err == nil {
		t.Error("merged another campaign")
	}
}

// TestMemorySamples: about one sample a minute of the workers' latest
// memory figures, and the first minute's largest kept apart.
func TestMemorySamples(t *testing.T) {
	s := open(t, cfg)
	for i, at := range []float64{0, 30, 61, 125, 150} {
		p := Piece{First: i * 10, Count: 10, At: at, Worker: i % 2, RSSKB: int64(100 + i), RSSNowKB: int64(50 + i), HeapKB: 7}
		if _, err := s.Record(p, nil); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := s.Stats()
	var at []float64
	for _, m := range st.Memory {
		at = append(at, m.AtS)
	}
	if !slices.Equal(at, []float64{0, 61, 125}) {
		t.Errorf("samples at %v, want 0, 61, 125", at)
	}
	if last := st.Memory[len(st.Memory)-1]; last.PeakKB != 103 || last.RSSKB != 53 || last.HeapKB != 7 {
		t.Errorf("last sample %+v", last)
	}
	if st.RSSStartKB != 101 || st.RSSLatestKB() != 104 {
		t.Errorf("start %d, latest %d", st.RSSStartKB, st.RSSLatestKB())
	}
}
