package fuzz_test

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/faultline-dev/faultline/measure"
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
	// The walk ran on this process's CPU from the campaign's start to the
	// finding: measure baseline puts that beside the baseline's.
	if v.CPUS <= 0 || v.CPUS > res.ElapsedS*float64(runtime.NumCPU())+0.1 {
		t.Errorf("CPU to the finding %.3f s; want more than 0 and at most the campaign's %.3f s on %d cores", v.CPUS, res.ElapsedS, runtime.NumCPU())
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
	res, err := fuzz.Run(t, target(t, "hraft-forgetful"), fuzz.Options{Seed: 1, Events: 600, CheckEvery: 600, Runs: 200, NoLiveness: true})
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
func BenchmarkWalk(b *testing.B) { benchmarkWalk(b, "hraft", false, 0, nil) }

// BenchmarkWalkCost is BenchmarkWalk under a CPU profile, split into
// where the time goes (measure.Costs): hashicorp/raft's own code, the Go
// runtime alone, reseeding math/rand, faultline's walk and checks, and
// faultline's transport and stores as raft calls them; bound-events/s is
// what the walk would make if faultline and reseeding took no time. Run it
// alone (not with -cpuprofile), long enough for the profile's 100 samples
// a second to count: -benchtime 600x.
func BenchmarkWalkCost(b *testing.B) { benchmarkWalk(b, "hraft", false, 0, &measure.CostOptions{}) }

// BenchmarkEtcdWalk is BenchmarkWalk on etcd's raft library (target
// etcdraft): the same 300-event walks on 3 nodes, every invariant after
// every event. Run both in one invocation to compare the two adapters.
func BenchmarkEtcdWalk(b *testing.B) { benchmarkWalk(b, "etcdraft", false, 0, nil) }

// BenchmarkEtcdWalkCost is BenchmarkWalkCost on etcd's raft library.
func BenchmarkEtcdWalkCost(b *testing.B) {
	benchmarkWalk(b, "etcdraft", false, 0, &measure.CostOptions{})
}

// BenchmarkWalkLiveness is BenchmarkWalk with a stabilization phase after
// each walk (the phase's events count as events).
func BenchmarkWalkLiveness(b *testing.B) { benchmarkWalk(b, "hraft", true, 0, nil) }

// BenchmarkWalkReads is BenchmarkWalk with half of the client operations
// reads through the log (Options.Reads 50): a history of reads and writes
// recorded on the way and checked for linearizability at the end of each
// walk. Its walks are other walks than BenchmarkWalk's: compare events/s.
func BenchmarkWalkReads(b *testing.B) { benchmarkWalk(b, "hraft", false, 50, nil) }

// benchmarkWalk runs one fuzz session of b.N runs on the named target and
// reports its events/s; with cost set, under a CPU profile split by
// measure.Costs.
func benchmarkWalk(b *testing.B, name string, liveness bool, reads int, cost *measure.CostOptions) {
	tg := target(b, name)
	ok := hraft.UnderTest(b.Name(), func(t *testing.T) {
		// One fuzz session of b.N runs, as `faultline fuzz` runs them.
		b.ResetTimer()
		err := measure.BenchWalk(b, cost, func() (*fuzz.Result, error) {
			return fuzz.Run(t, tg, fuzz.Options{Runs: b.N, Events: 300, KeepGoing: true, NoLiveness: !liveness,
				Reads: reads})
		})
		if err != nil {
			t.Fatal(err)
		}
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

// skipping diverges from any recording: the first Skip systems it opens
// refuse every event.
type skipping struct {
	interpose.Target
	opens, skip int
}

func (s *skipping) Open(t *testing.T, spec interpose.TargetSpec) (interpose.System, error) {
	sys, err := s.Target.Open(t, spec)
	s.opens++
	if err != nil || s.opens%2 == 0 {
		return sys, err
	}
	return refusing{sys}, nil
}

type refusing struct{ interpose.System }

func (refusing) Apply(int, interpose.Event) (interpose.Event, error) {
	return interpose.Event{}, interpose.ErrNotEnabled
}

// A replay whose execution diverged and missed the violation runs again,
// up to Attempts executions; one that followed the recording is final.
func TestReplayAttempts(t *testing.T) {
	tg := target(t, "hraft-forgetful")
	res, err := fuzz.Run(t, tg, fuzz.Options{Seed: 1, Runs: 200})
	if err != nil || len(res.Violations) == 0 {
		t.Fatalf("no violation: %v", err)
	}
	s := res.Violations[0].Sched
	never := func() interpose.Checker {
		return interpose.CheckerFunc(func(*interpose.View) []interpose.Violation { return nil })
	}
	for _, tc := range []struct {
		name                               string
		opts                               fuzz.ReplayOptions
		runs, reproduced, first, execution int
	}{
		// Executions alternate: diverging (every event refused), then exact.
		{"one attempt", fuzz.ReplayOptions{Repeat: 4}, 4, 2, 2, 4},
		{"two attempts", fuzz.ReplayOptions{Repeat: 2, Attempts: 2}, 2, 2, 0, 4},
		{"five attempts stop at the first that shows it", fuzz.ReplayOptions{Repeat: 2, Attempts: 5}, 2, 2, 0, 4},
		// An exact execution that misses the violation is not run again;
		// the diverging one before it is.
		{"exact miss is final", fuzz.ReplayOptions{Repeat: 2, Attempts: 5, Checker: never}, 2, 0, 0, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := fuzz.Replay(t, &skipping{Target: tg}, s, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := []int{rep.Runs, rep.Reproduced, rep.FirstReproduced, rep.Executions}
			if want := []int{tc.runs, tc.reproduced, tc.first, tc.execution}; !slices.Equal(got, want) {
				t.Fatalf("runs, reproduced, first, executions = %v, want %v (seen %v)", got, want, rep.Seen)
			}
		})
	}
}

// stopping's systems, every second one it opens, find a Liveness:Stuck
// when their nodes are stopped at the end of a run, as raft's shutdown
// does when a select goes one way rather than the other.
type stopping struct {
	interpose.Target
	opens int
}

func (s *stopping) Open(t *testing.T, spec interpose.TargetSpec) (interpose.System, error) {
	sys, err := s.Target.Open(t, spec)
	s.opens++
	return stopped{System: sys, stuck: s.opens%2 == 0}, err
}

type stopped struct {
	interpose.System
	stuck bool
}

const stuckAtStop = interpose.Stuck + ": a goroutine left blocked at shutdown"

func (s stopped) Stop() []interpose.Violation {
	var found []interpose.Violation
	if st, ok := s.System.(interpose.Stopper); ok {
		found = st.Stop()
	}
	if s.stuck {
		found = append(found, interpose.Violation{Invariant: interpose.Stuck, Fingerprint: stuckAtStop})
	}
	return found
}

// An exact execution that misses a violation judged when the nodes were
// stopped after the last event runs again: the shutdown is no event of the
// schedule. One judged earlier is final, as TestReplayAttempts shows.
func TestReplayAttemptsAtStop(t *testing.T) {
	tg := target(t, "hraft-forgetful")
	res, err := fuzz.Run(t, tg, fuzz.Options{Seed: 1, Runs: 200})
	if err != nil || len(res.Violations) == 0 {
		t.Fatalf("no violation: %v", err)
	}
	rec := *res.Violations[0].Sched
	rec.Violation = &interpose.Violation{Invariant: interpose.Stuck, Fingerprint: stuckAtStop, Step: len(rec.Events)}
	early := rec
	early.Violation = &interpose.Violation{Invariant: interpose.Stuck, Fingerprint: stuckAtStop, Step: len(rec.Events) - 1}
	never := func() interpose.Checker {
		return interpose.CheckerFunc(func(*interpose.View) []interpose.Violation { return nil })
	}
	for _, tc := range []struct {
		name                        string
		s                           *interpose.Schedule
		atStop                      bool
		reproduced, first, executed int
	}{
		// Executions alternate: nothing at the stop, then the violation.
		// Judged at the stop, each run's miss runs again; judged before
		// the last event, the first run's miss is final and the second
		// run shows it.
		{"judged at the stop", &rec, true, 2, 0, 4},
		{"judged before the last event", &early, false, 1, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fuzz.DecidedAtStop(tc.s); got != tc.atStop {
				t.Fatalf("DecidedAtStop = %v, want %v", got, tc.atStop)
			}
			rep, err := fuzz.Replay(t, &stopping{Target: tg}, tc.s, fuzz.ReplayOptions{Repeat: 2, Attempts: 5, Checker: never})
			if err != nil {
				t.Fatal(err)
			}
			got := []int{rep.Reproduced, rep.FirstReproduced, rep.Executions}
			if want := []int{tc.reproduced, tc.first, tc.executed}; !slices.Equal(got, want) {
				t.Fatalf("reproduced, first, executions = %v, want %v (seen %v)", got, want, rep.Seen)
			}
		})
	}
}

func TestDiverged(t *testing.T) {
	ev := func(kind interpose.Kind, node int, res string) interpose.Event {
		return interpose.Event{Kind: kind, Node: node, Result: res}
	}
	rec := &interpose.Schedule{Events: []interpose.Event{ev(interpose.Start, 1, ""), ev(interpose.Advance, 1, "+1s"), ev(interpose.Crash, 1, "")}}
	for _, tc := range []struct {
		name    string
		got     []interpose.Event
		skipped int
		want    int
	}{
		{"same", rec.Events, 0, 0},
		{"prefix (stopped at the violation)", rec.Events[:2], 0, 0},
		{"another result", []interpose.Event{rec.Events[0], ev(interpose.Advance, 1, "+2s"), rec.Events[2]}, 0, 2},
		{"skipped in the middle", []interpose.Event{rec.Events[0], rec.Events[2]}, 1, 2},
		{"skipped at the end", rec.Events[:2], 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &interpose.ReplayResult{Skipped: tc.skipped, Schedule: &interpose.Schedule{Events: tc.got}}
			if got := fuzz.Diverged(rec, r); got != tc.want {
				t.Fatalf("Diverged = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestCoverageWarnings: a fault kind whose weight is zero never fires and
// is named in a warning, with the properties that had nothing to check
// (Linearizability, without reads); every property with something to check
// counts its comparisons, and each fault that fired is counted.
func TestCoverageWarnings(t *testing.T) {
	w := fuzz.DefaultWeights()
	w.Crash, w.Recover = 0, 0
	res, err := fuzz.Run(t, target(t, "hraft-serial"), fuzz.Options{Seed: 1, Runs: 20, KeepGoing: true, Weights: &w, NoLiveness: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "faults that never fired: crash, recover, disk") ||
		!strings.Contains(res.Warnings[1], "anything to check: Linearizability (") {
		t.Errorf("warnings %q", res.Warnings)
	}
	if res.Faults["drop"] == 0 || res.Faults["partition"] == 0 || res.Faults["crash"] != 0 {
		t.Errorf("faults %v", res.Faults)
	}
	for _, p := range []string{invariants.ElectionSafety, invariants.LogMatching, invariants.LeaderCompleteness, invariants.LostWrite} {
		if res.Checks[p] == 0 {
			t.Errorf("%s had nothing to check in 20 runs: %v", p, res.Checks)
		}
	}
	w = fuzz.DefaultWeights()
	res, err = fuzz.Run(t, target(t, "hraft-serial"), fuzz.Options{Seed: 1, Runs: 20, KeepGoing: true, Weights: &w, Disk: 3, Reads: 50, NoLiveness: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 0 || res.Checks[invariants.Linearizability] == 0 {
		t.Errorf("every fault and reads: warnings %q, checks %v", res.Warnings, res.Checks)
	}
}

// TestReplayJudgesOnAFairPhase: a liveness monitor's verdict holds of a
// phase of fair delivery. A schedule whose phase's deliveries no longer
// fit (here damaged: keys no message has) skips them, and its monitors
// turn hot for want of messages; Replay judges such an execution on a
// phase made again after the events before it. On the correct actor Raft
// the damaged phase ends hot, and the phase made again does not: the
// verdict is not reproduced, and Confirm keeps nothing (what saved run 534
// of swarm seed 4 on hraft-serial as a Liveness:Commit with no delivery in
// its phase). A real bug (raft-noretry's) still shows on a phase made again.
func TestReplayJudgesOnAFairPhase(t *testing.T) {
	damage := func(s *interpose.Schedule) *interpose.Schedule {
		d := *s
		d.Events = slices.Clone(s.Events)
		phase := false
		for i, e := range d.Events {
			phase = phase || e.Kind == interpose.Stabilize
			if phase && e.Kind == interpose.Deliver && e.Msg != nil {
				m := *e.Msg
				m.Key += " (damaged)"
				d.Events[i].Msg = &m
			}
		}
		return &d
	}

	phaseDeliveries := func(s *interpose.Schedule) int {
		n := 0
		if i := slices.IndexFunc(s.Events, func(e interpose.Event) bool { return e.Kind == interpose.Stabilize }); i >= 0 {
			for _, e := range s.Events[i:] {
				if e.Kind == interpose.Deliver {
					n++
				}
			}
		}
		return n
	}

	// A run of the correct actor Raft whose phase had work to do (most
	// end theirs at once: no monitor is hot).
	study, err := casestudies.Lookup("raft")
	if err != nil {
		t.Fatal(err)
	}
	tg := study.Target
	var s *interpose.Schedule
	for run := range 200 {
		w, err := fuzz.Walk(t, tg, study.Options(fuzz.Options{Seed: 1}), run)
		if err != nil {
			t.Fatal(err)
		}
		if w.Violation == nil && phaseDeliveries(w) >= 20 {
			s = w
			break
		}
	}
	if s == nil {
		t.Fatal("no correct run of 200 delivered 20 messages in its phase")
	}
	damaged := damage(s)
	rep, err := fuzz.Replay(t, tg, damaged, fuzz.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Last.Violation
	if v == nil || !fuzz.JudgedOnPhase(v) || rep.Skipped == 0 {
		t.Fatalf("the damaged phase: ended with %v, %d skipped; want a monitor hot for want of messages", v, rep.Skipped)
	}
	damaged.Violation = v // what a damaged record claims
	rep, err = fuzz.Replay(t, tg, damaged, fuzz.ReplayOptions{Attempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reproduced != 0 || rep.Executions != 3 {
		t.Errorf("the damaged record: reproduced %d in %d executions (seen %v); want 0 in 3", rep.Reproduced, rep.Executions, rep.Seen)
	}
	got, flaky, err := fuzz.Confirm(t, tg, damaged, fuzz.Options{})
	if err != nil || !flaky || got != damaged {
		t.Errorf("Confirm of the damaged record: flaky %v, kept its own %v, %v; want flaky", flaky, got == damaged, err)
	}

	bug := target(t, "raft-noretry")
	real, err := interpose.ReadFile(filepath.Join("..", "results", "found", "raft-noretry-Liveness-Leader-seed1-run100.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		s    *interpose.Schedule
	}{{"as recorded", real}, {"its phase damaged", damage(real)}} {
		rep, err := fuzz.Replay(t, bug, c.s, fuzz.ReplayOptions{})
		if err != nil || rep.Reproduced != 1 {
			t.Fatalf("raft-noretry, %s: reproduced %d, seen %v, %v", c.name, rep.Reproduced, rep.Seen, err)
		}
		if phaseDeliveries(rep.Last.Schedule) == 0 {
			t.Errorf("raft-noretry, %s: the phase judged delivered nothing", c.name)
		}
	}
}
