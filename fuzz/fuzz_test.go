package fuzz_test

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
	"github.com/faultline-dev/faultline/invariants"
)

func target(t testing.TB, name string) interpose.Target {
	s, err := casestudies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return s.Target
}

func TestFindsTheForgetfulStore(t *testing.T) {
	dir := t.TempDir()
	res, err := fuzz.Run(t, target(t, "hraft-forgetful"), fuzz.Options{Seed: 1, Out: dir, Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) != 1 {
		t.Fatalf("violations = %+v; want exactly one (stop at the first)", res.Violations)
	}
	v := res.Violations[0]
	if v.Invariant != "ElectionSafety" && v.Invariant != "LeaderCompleteness" {
		t.Errorf("seed 1 found %s; the forgetful store breaks ElectionSafety or LeaderCompleteness", v.Invariant)
	}
	s, err := interpose.ReadFile(v.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Events) != v.Events || s.Violation == nil || s.Violation.Fingerprint != v.Fingerprint {
		t.Fatalf("saved schedule: %d events, violation %v; want %d events and %s", len(s.Events), s.Violation, v.Events, v.Fingerprint)
	}
	if s.Origin == nil || s.Origin.Run != v.Run || s.Origin.FuzzSeed != 1 {
		t.Errorf("origin = %+v", s.Origin)
	}
	if len(s.Final) != 3 {
		t.Errorf("final states: %d; want 3", len(s.Final))
	}
}

// TestWalksAreDeterministic records each of ten walks three times: run i of
// a seed is the same walk. raft keeps a little nondeterminism of its own
// (see the README), so a walk may diverge once; it must agree with itself in
// at least two of three recordings.
func TestWalksAreDeterministic(t *testing.T) {
	tg := target(t, "hraft-forgetful")
	for run := range 10 {
		hashes := map[string]int{}
		for range 3 {
			s, err := fuzz.Walk(t, tg, fuzz.Options{Seed: 3}, run)
			if err != nil {
				t.Fatal(err)
			}
			hashes[s.Hash()]++
		}
		best := 0
		for _, n := range hashes {
			best = max(best, n)
		}
		if best < 2 {
			t.Errorf("run %d: three recordings, %d different schedules", run, len(hashes))
		}
	}
}

func TestCheckEveryMakesLongFailures(t *testing.T) {
	res, err := fuzz.Run(t, target(t, "hraft-forgetful"), fuzz.Options{Seed: 1, Events: 600, CheckEvery: 600, Runs: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 {
		t.Fatal("no violation in 200 runs of 600 events")
	}
	if n := res.Violations[0].Events; n != 600 {
		t.Fatalf("violating schedule has %d events; checking only at the end should give 600", n)
	}
}

func TestKeepGoingCollectsDistinctBugs(t *testing.T) {
	dir := t.TempDir()
	res, err := fuzz.Run(t, target(t, "hraft-forgetful"), fuzz.Options{Seed: 2, Runs: 300, KeepGoing: true, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	es := false
	for _, v := range res.Violations {
		es = es || v.Invariant == "ElectionSafety"
	}
	if !es {
		t.Errorf("300 runs of hraft-forgetful found no ElectionSafety violation: %+v", res.Violations)
	}
	seen := map[string]bool{}
	total := 0
	for _, v := range res.Violations {
		if seen[v.Fingerprint] {
			t.Errorf("fingerprint %s listed twice", v.Fingerprint)
		}
		seen[v.Fingerprint] = true
		total += v.Count
	}
	if res.Runs != 300 || total < 2 {
		t.Fatalf("runs %d, violating runs %d; want 300 runs and several violations", res.Runs, total)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != len(res.Violations) {
		t.Errorf("%d files for %d distinct violations", len(files), len(res.Violations))
	}
}

func TestTimeBound(t *testing.T) {
	start := time.Now()
	res, err := fuzz.Run(t, target(t, "hraft-serial"), fuzz.Options{Runs: 1 << 30, Time: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second || res.Runs == 0 {
		t.Fatalf("%d runs in %v with a 300ms bound", res.Runs, el)
	}
}

// TestManyRunsLeaveNoTrace runs 10,000 short runs in this process and checks
// that goroutines and the live heap come back to where they were.
func TestManyRunsLeaveNoTrace(t *testing.T) {
	runs := 10000
	if testing.Short() {
		runs = 1000
	}
	tg := target(t, "hraft")
	if _, err := fuzz.Run(t, tg, fuzz.Options{Runs: 50, Events: 40, MaxDown: 1}); err != nil {
		t.Fatal(err) // warm up: pools, lazily built tables
	}
	g0, h0 := baseline()
	res, err := fuzz.Run(t, tg, fuzz.Options{Runs: runs, Events: 40, KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	g1, h1 := baseline()
	t.Logf("%d runs, %d events: goroutines %d → %d, live heap %d KB → %d KB", res.Runs, res.Events, g0, g1, h0>>10, h1>>10)
	if g1 > g0 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if h1 > h0+4<<20 {
		t.Errorf("live heap grew from %d KB to %d KB", h0>>10, h1>>10)
	}
}

func baseline() (goroutines int, heap uint64) {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}

// BenchmarkWalk measures events per second of 300-event walks on 3 nodes,
// with invariants checked after every event and cluster setup included.
func BenchmarkWalk(b *testing.B) {
	tg := target(b, "hraft")
	ok := hraft.UnderTest(b.Name(), func(t *testing.T) {
		events := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := fuzz.Run(t, tg, fuzz.Options{Seed: uint64(i), Runs: 1, Events: 300, KeepGoing: true})
			if err != nil {
				t.Fatal(err)
			}
			events += res.Events
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
	if !ok {
		b.Fatal("walk failed")
	}
}

// TestReplayLooksPastOtherViolations: a failure found checking only at the
// end (seed 7) shows LeaderCompleteness first when every event is checked,
// and ElectionSafety later. Its replay must look for ElectionSafety, the
// recorded one, and not stop at the first violation.
func TestReplayLooksPastOtherViolations(t *testing.T) {
	tg := target(t, "hraft-forgetful")
	res, err := fuzz.Run(t, tg, fuzz.Options{Seed: 7, Events: 2000, CheckEvery: 2000, Runs: 5})
	if err != nil || len(res.Violations) == 0 {
		t.Fatalf("no violation: %v", err)
	}
	s := res.Violations[0].Sched
	sys, err := tg.Open(t, s.Target)
	if err != nil {
		t.Fatal(err)
	}
	first, err := interpose.Replay(sys, invariants.NewRaft(), s, interpose.ReplayOptions{})
	sys.Close()
	if err != nil {
		t.Fatal(err)
	}
	if first.Violation == nil || first.Violation.Fingerprint == s.Violation.Fingerprint {
		t.Skipf("this schedule shows %v first: nothing to look past", first.Violation)
	}
	rep, err := fuzz.Replay(t, tg, s, fuzz.ReplayOptions{Repeat: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reproduced != 3 {
		t.Fatalf("reproduced %d/3 (seen %v); the first violation was %s", rep.Reproduced, rep.Seen, first.Violation.Fingerprint)
	}
}
