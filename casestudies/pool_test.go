package casestudies

import (
	"slices"
	"testing"

	pool "github.com/faultline-dev/faultline/casestudies/poolmanager"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// TestPoolCorrect: the correct pool manager breaks no invariant in 1,000
// runs of its workload with failovers, duplicated messages and every mock
// failure, and every failure kind fired.
func TestPoolCorrect(t *testing.T) {
	s, err := Lookup("pool")
	if err != nil {
		t.Fatal(err)
	}
	res, err := fuzz.Run(t, s.Target, s.Options(fuzz.Options{Seed: 1, Runs: 1000, Events: 300, NoLiveness: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) > 0 {
		v := res.Violations[0]
		t.Fatalf("run %d: %s: %s", v.Run, v.Fingerprint, v.Detail)
	}
	for _, f := range []string{"crash", "duplicate", "choice storage.write → error", "choice storage.write → error-after-write",
		"choice deploy.allocate → error", "choice deploy.allocate → error-after-allocate"} {
		if res.Faults[f] == 0 {
			t.Errorf("%q never fired: %v", f, res.Faults)
		}
	}
}

// TestPoolBugsFound: each injected failover bug is found within 2,000 runs
// of seed 1 (the liveness bug with the stabilization phase, the safety bugs
// without); its schedule replays 20/20, and the correct pool manager shows
// nothing on it.
func TestPoolBugsFound(t *testing.T) {
	correct, _ := Lookup("pool")
	for _, bug := range append(slices.Clone(pool.Bugs), pool.LivenessBugs...) {
		t.Run(string(bug), func(t *testing.T) {
			s, err := Lookup(string(bug))
			if err != nil {
				t.Fatal(err)
			}
			live := slices.Contains(pool.LivenessBugs, bug)
			res, err := fuzz.Run(t, s.Target, s.Options(fuzz.Options{Seed: 1, Runs: 2000, Events: 300, NoLiveness: !live,
				Out: t.TempDir()}))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{s.Expect}
			if bug == pool.NoETag {
				want = append(want, pool.PoolVMsAllocated) // an undone write can show either way first
			}
			if len(res.Violations) == 0 || !slices.Contains(want, res.Violations[0].Fingerprint) {
				t.Fatalf("2,000 runs: %+v; want %v", res.Violations, want)
			}
			v := res.Violations[0]
			t.Logf("run %d: %s", v.Run, v.Detail)
			sched, err := interpose.ReadFile(v.Schedule)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := fuzz.Replay(t, s.Target, sched, fuzz.ReplayOptions{Repeat: 20})
			if err != nil || rep.Reproduced != 20 {
				t.Fatalf("replayed %d/20 (%v)", rep.Reproduced, err)
			}
			if live {
				// The phase is made again after the same events: the
				// correct pool manager's delete takes other messages.
				if got := remadePhase(t, correct, sched); got != "" {
					t.Errorf("the correct pool manager on its events: %s", got)
				}
				return
			}
			other := *sched
			other.Target.Name = "pool"
			rep, err = fuzz.Replay(t, correct.Target, &other, fuzz.ReplayOptions{Repeat: 1})
			if err != nil || rep.Seen[""] != 1 {
				t.Errorf("the correct pool manager on it: %v (%v)", rep.Seen, err)
			}
		})
	}
}

// BenchmarkPoolWalk measures the fuzzer on the pool manager with its
// workload (failovers, duplicated messages, mock failures), invariants
// checked after every event, setup included.
func BenchmarkPoolWalk(b *testing.B) {
	s, err := Lookup("pool")
	if err != nil {
		b.Fatal(err)
	}
	events := 0
	for i := 0; b.Loop(); i++ {
		res, err := fuzz.Run(nil, s.Target, s.Options(fuzz.Options{Seed: uint64(i), Runs: 1, Events: 300,
			KeepGoing: true, NoLiveness: true}))
		if err != nil {
			b.Fatal(err)
		}
		events += res.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// remadePhase replays the events of s before its stabilization phase on
// study's target, makes the phase again, and returns the fingerprint of
// what it found ("" for nothing).
func remadePhase(t *testing.T, study Study, s *interpose.Schedule) string {
	t.Helper()
	pre, o, ok := interpose.PhaseOf(s)
	if !ok {
		t.Fatal("no stabilization phase")
	}
	cut := *s
	cut.Events, cut.Violation = pre, nil
	cut.Target.Name, cut.Target.Bug = study.Name, study.Bug
	sys, err := study.Target.Open(t, cut.Target)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	r, err := interpose.Replay(sys, invariants.CheckerFor(study.Target, nil, true), &cut, interpose.ReplayOptions{Stabilize: &o})
	if err != nil {
		t.Fatal(err)
	}
	if r.Violation == nil {
		return ""
	}
	return r.Violation.Fingerprint
}
