package casestudies

import (
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/casestudies/raft"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/measure"
)

// TestActorRaftBugsAreFound fuzzes each of DEMi's bugs in the actor Raft
// with its workload and checks that the campaign finds the invariant the
// bug breaks, with a schedule that replays.
func TestActorRaftBugsAreFound(t *testing.T) {
	for _, bug := range raft.Bugs {
		t.Run(string(bug), func(t *testing.T) {
			s, err := Lookup(string(bug))
			if err != nil {
				t.Fatal(err)
			}
			res, err := fuzz.Run(t, s.Target, s.Options(fuzz.Options{Seed: 1, Runs: 5000, Events: 400}))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Violations) == 0 {
				t.Fatalf("no violation in %d runs", res.Runs)
			}
			v := res.Violations[0]
			if !strings.HasPrefix(v.Fingerprint, s.Expect) || v.Flaky {
				t.Errorf("found %s (flaky %v), want %s", v.Fingerprint, v.Flaky, s.Expect)
			}
			t.Logf("%s after %d runs (%d events)", v.Fingerprint, res.Runs, res.Events)
		})
	}
}

// TestActorRaftCorrect: the correct actor Raft shows no violation under the
// same workload. (The issue's bar, 10,000 runs, is measured by `faultline
// fuzz --target raft --runs 10000`; here 2,000.)
func TestActorRaftCorrect(t *testing.T) {
	s, err := Lookup("raft")
	if err != nil {
		t.Fatal(err)
	}
	res, err := fuzz.Run(t, s.Target, s.Options(fuzz.Options{Seed: 2, Runs: 2000, Events: 400}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) > 0 {
		t.Fatalf("violation in run %d: %s", res.Violations[0].Run, res.Violations[0].Fingerprint)
	}
}

// BenchmarkActorRaftWalk measures the fuzzer on the 4-member actor Raft
// with its workload, invariants checked after every event, setup included.
func BenchmarkActorRaftWalk(b *testing.B) {
	for _, strategy := range []string{fuzz.Random, fuzz.PCT} {
		b.Run(strategy, func(b *testing.B) { benchmarkActorWalk(b, strategy, false) })
	}
}

// BenchmarkActorRaftWalkCost is BenchmarkActorRaftWalk/random under a CPU
// profile, split by measure.Costs: the actor Raft program's own code (the
// system), the runtime alone, faultline's walk, checks and actor runtime,
// and the runtime's calls the program makes (Send, timers). Run it alone,
// with -benchtime 20000x or so.
func BenchmarkActorRaftWalkCost(b *testing.B) { benchmarkActorWalk(b, fuzz.Random, true) }

func benchmarkActorWalk(b *testing.B, strategy string, profile bool) {
	s, err := Lookup("raft")
	if err != nil {
		b.Fatal(err)
	}
	// One fuzz session of b.N runs, as `faultline fuzz` runs them.
	var cost *measure.CostOptions
	if profile {
		cost = &measure.CostOptions{System: []string{"github.com/faultline-dev/faultline/casestudies/raft"}}
	}
	err = measure.BenchWalk(b, cost, func() (*fuzz.Result, error) {
		return fuzz.Run(nil, s.Target, s.Options(fuzz.Options{Runs: b.N, Events: 400, KeepGoing: true, Strategy: strategy}))
	})
	if err != nil {
		b.Fatal(err)
	}
}

// TestTimerWeight: with a small weight of their own, timers fire far less
// often than as ordinary pending messages (still whenever nothing else can
// be delivered).
func TestTimerWeight(t *testing.T) {
	s, err := Lookup("raft")
	if err != nil {
		t.Fatal(err)
	}
	share := func(timer int) float64 {
		o := s.Options(fuzz.Options{Seed: 3, Runs: 50, Events: 400, KeepGoing: true})
		w := *o.Weights
		w.Timer = timer
		o.Weights = &w
		res, err := fuzz.Run(t, s.Target, o)
		if err != nil {
			t.Fatal(err)
		}
		timers := res.Delivered[raft.ElectionTimeout] + res.Delivered[raft.Heartbeat]
		return float64(timers) / float64(res.Events)
	}
	uniform, rare := share(0), share(2)
	t.Logf("timer firings per event: %.3f as messages, %.3f with weight 2", uniform, rare)
	if rare >= uniform/2 {
		t.Errorf("timer weight 2: %.3f timer firings per event; as messages: %.3f", rare, uniform)
	}
}
