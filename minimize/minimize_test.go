package minimize_test

import (
	"sync"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/faultline-dev/faultline/minimize"
)

func forgetful(t *testing.T) interpose.Target {
	s, err := casestudies.Lookup("hraft-forgetful")
	if err != nil {
		t.Fatal(err)
	}
	return s.Target
}

// failure returns the first violating schedule of a campaign, with
// invariants checked only at the end of each run, as overnight runs do.
func failure(t *testing.T, seed uint64, events int) *interpose.Schedule {
	t.Helper()
	res, err := fuzz.Run(t, forgetful(t), fuzz.Options{Seed: seed, Events: events, CheckEvery: events, Runs: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 {
		t.Fatalf("seed %d: no violation in 500 runs", seed)
	}
	return res.Violations[0].Sched
}

func TestMinimizesALongFailure(t *testing.T) {
	in := failure(t, 1, 800)
	res, err := minimize.Minimize(t, forgetful(t), in, minimize.Options{Replays: 2, Budget: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events (%d external) -> %d (%d), %d replays, %.1fs, reproduced %d/%d",
		res.InitialEvents, res.InitialExternals, res.MinimizedEvents, res.MinimizedExternals,
		res.Replays, res.ElapsedS, res.Reproduced, res.Runs)
	if res.Flaky || res.Fingerprint != in.Violation.Fingerprint {
		t.Fatalf("flaky %v, fingerprint %s (input %s)", res.Flaky, res.Fingerprint, in.Violation.Fingerprint)
	}
	// The 2,000-event bar (at most 40 events, over ten seeds) is measured by
	// `faultline measure minimize` (results/minimize-hraft-forgetful.txt);
	// here, a clear reduction.
	if res.MinimizedEvents > res.InitialEvents/4 {
		t.Errorf("minimized to %d events from %d; want at most a quarter", res.MinimizedEvents, res.InitialEvents)
	}
	if res.Reproduced < 19 || res.Runs != 20 {
		t.Errorf("final check reproduced %d/%d; want at least 19/20", res.Reproduced, res.Runs)
	}
	s := res.Schedule
	if s.Violation == nil || s.Violation.Fingerprint != in.Violation.Fingerprint {
		t.Errorf("minimized schedule's violation: %v", s.Violation)
	}
	if s.Origin == nil || s.Origin.Parent != in.Hash() || s.Minimization == nil || len(s.Minimization.Phases) == 0 {
		t.Errorf("origin %+v, minimization %+v", s.Origin, s.Minimization)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
	// The forgetful store's bug does not depend on what clients write: the
	// contents phase empties every payload.
	for i, e := range s.Events {
		if e.Kind == interpose.Client && e.Data != "" {
			t.Errorf("event %d: client payload %q left", i+1, e.Data)
		}
	}
	if res.DPORSearches == 0 {
		t.Error("no DPOR search was run")
	}
	t.Logf("DPOR: %d searches, %d found the violation", res.DPORSearches, res.DPORFound)
}

func TestFlakyInputIsNotMinimized(t *testing.T) {
	in := failure(t, 3, 300)
	// A violation this schedule never shows: every replay "fails to
	// reproduce", as a flaky schedule's would.
	bogus := *in
	v := *in.Violation
	v.Fingerprint, v.Invariant = invariants.StateMachineSafety, invariants.StateMachineSafety
	bogus.Violation = &v
	res, err := minimize.Minimize(t, forgetful(t), &bogus, minimize.Options{Replays: 3, FinalRuns: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Flaky || res.Schedule != &bogus || res.Reproduced != 0 {
		t.Fatalf("flaky %v, reproduced %d, same schedule %v", res.Flaky, res.Reproduced, res.Schedule == &bogus)
	}
	if res.Replays != 3+4 {
		t.Errorf("%d replays; want 3 to judge the input and 4 to check it", res.Replays)
	}
}

// TestKeepsTheSameBug minimizes an ElectionSafety failure under a checker
// that calls ElectionSafety "Decoy" when it shows after fewer crashes than the
// input had: every reduction that drops a crash and still elects two leaders
// shows the decoy, a different bug. The minimizer must keep ElectionSafety,
// and so every crash.
func TestKeepsTheSameBug(t *testing.T) {
	// The input as a replay checking every event sees it: up to the
	// violation.
	rep, err := fuzz.Replay(t, forgetful(t), failure(t, 2, 400), fuzz.ReplayOptions{})
	if err != nil || rep.Reproduced != 1 {
		t.Fatalf("input does not replay: %v %v", err, rep)
	}
	in := rep.Last.Schedule
	crashes := 0
	for _, e := range in.Events {
		if e.Kind == interpose.Crash {
			crashes++
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	decoy := func() interpose.Checker {
		r := invariants.NewRaft()
		up := map[int]bool{}
		downs := 0
		return interpose.CheckerFunc(func(v *interpose.View) []interpose.Violation {
			for _, n := range v.Nodes {
				if up[n.Node] && !n.Up {
					downs++
				}
				up[n.Node] = n.Up
			}
			out := r.Check(v)
			if len(out) > 0 && out[0].Invariant == invariants.ElectionSafety && downs < crashes {
				out = []interpose.Violation{{Invariant: "Decoy", Fingerprint: "Decoy", Detail: "ElectionSafety with fewer crashes"}}
			}
			mu.Lock()
			for _, x := range out {
				seen[x.Fingerprint]++
			}
			mu.Unlock()
			return out
		})
	}
	m, err := minimize.Minimize(t, forgetful(t), in, minimize.Options{Replays: 2, Budget: time.Minute, Checker: decoy})
	if err != nil {
		t.Fatal(err)
	}
	if m.Flaky {
		t.Fatalf("input judged flaky under the decoy checker (seen %v)", seen)
	}
	if seen["Decoy"] == 0 {
		t.Fatalf("no reduction showed the decoy (seen %v): the test exercised nothing", seen)
	}
	kept := 0
	for _, e := range m.Schedule.Events {
		if e.Kind == interpose.Crash {
			kept++
		}
	}
	if got := m.Schedule.Violation.Fingerprint; got != invariants.ElectionSafety || kept < crashes {
		t.Fatalf("minimized to %s with %d of %d crashes; want ElectionSafety with all of them", got, kept, crashes)
	}
	if m.Reproduced < 19 {
		t.Fatalf("final check %d/%d", m.Reproduced, m.Runs)
	}
	t.Logf("%d -> %d events, %d crashes kept; replays ended with %v", m.InitialEvents, m.MinimizedEvents, kept, seen)
}

func TestDeterministic(t *testing.T) {
	in := failure(t, 4, 300)
	var hashes []string
	for range 2 {
		res, err := minimize.Minimize(t, forgetful(t), in, minimize.Options{Replays: 2, FinalRuns: 3})
		if err != nil {
			t.Fatal(err)
		}
		s := *res.Schedule
		s.Minimization, s.Origin = nil, nil // timings differ
		hashes = append(hashes, s.Hash())
	}
	if hashes[0] != hashes[1] {
		t.Fatal("two minimizations of one input gave different schedules")
	}
}

// found reads a schedule kept in casestudies/testdata/found and looks up
// its target's case study.
func found(t *testing.T, name string) (*interpose.Schedule, casestudies.Study) {
	t.Helper()
	s, err := interpose.ReadFile("../casestudies/testdata/found/" + name)
	if err != nil {
		t.Fatal(err)
	}
	st, err := casestudies.Lookup(s.Target.Name)
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// TestMinimizesLiveness: a liveness violation is minimized over the events
// before its stabilization phase, the phase made again after each
// candidate: the result ends with a phase and shows the violation again.
func TestMinimizesLiveness(t *testing.T) {
	if testing.Short() {
		t.Skip("minimizes for up to a minute")
	}
	s, st := found(t, "hraft-serial-demoted-leader-no-election.json")
	res, err := minimize.Minimize(t, st.Target, s, minimize.Options{Budget: time.Minute, FinalRuns: 5})
	if err != nil {
		t.Fatal(err)
	}
	pre, _, ok := interpose.PhaseOf(res.Schedule)
	// It converges to about a dozen events in about 20 s (17-22 s in four
	// runs); a budget of 20 s left it at 105-259 events in 3 runs of 4,
	// already at the start of this work. The minute and the bound leave
	// room for a loaded machine, where the budget buys fewer replays.
	if res.Flaky || res.Reproduced != res.Runs || !ok || len(pre) > 100 ||
		res.Schedule.Violation == nil || res.Schedule.Violation.Fingerprint != "Liveness:Leader" {
		t.Fatalf("%d -> %d events (%d before the phase, phase %v), reproduced %d/%d, flaky %v",
			res.InitialEvents, res.MinimizedEvents, len(pre), ok, res.Reproduced, res.Runs, res.Flaky)
	}
	// #635's deadlock is labelled by the nodes' final states: every step
	// was held to that label, and the result keeps it.
	if b, ok := invariants.UpstreamIn(res.Schedule); res.HeldTo != "hashicorp/raft#635" || !ok || b.ID != res.HeldTo {
		t.Fatalf("held to %q; the result is labelled %q (%v)", res.HeldTo, b.ID, ok)
	}
	t.Logf("%d -> %d events, %d before the phase", res.InitialEvents, res.MinimizedEvents, len(pre))
}

// TestHeldToItsCause: #696's Liveness:Commit is labelled by the answers of
// its stabilization phase, which the minimizer cuts off its input and
// makes again for each candidate: the label is taken from the input as
// given, and whatever the budget reached keeps it. (Unheld, a 15-minute
// minimization of this schedule ended at another cause of an uncommitted
// phase: results/found/hraft-serial-Liveness-Commit-no-leader.min.json.)
func TestHeldToItsCause(t *testing.T) {
	if testing.Short() {
		t.Skip("minimizes for a few seconds")
	}
	s, st := found(t, "hraft-serial-leadership-transfer-leak-commit.json")
	res, err := minimize.Minimize(t, st.Target, s, minimize.Options{Budget: 5 * time.Second, FinalRuns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := invariants.UpstreamIn(res.Schedule); res.HeldTo != "hashicorp/raft#696" || !ok || b.ID != res.HeldTo {
		t.Fatalf("held to %q; the result (%d events, flaky %v) is labelled %q (%v)", res.HeldTo, res.MinimizedEvents, res.Flaky, b.ID, ok)
	}
	t.Logf("%d -> %d events in the budget", res.InitialEvents, res.MinimizedEvents)
}

// TestFlakyLivenessKeepsItsPhase: a liveness violation that shows in about
// half of its executions (raft's VerifyLeader racing its shutdown with Go's
// select) is minimized to a schedule that still ends with its phase and
// whose violation is within its events. The phase is made again after the
// result until an execution shows the violation; made once, it came back
// without the violation half the time, and the result was the events
// before the phase with a violation after event 60 of 16.
func TestFlakyLivenessKeepsItsPhase(t *testing.T) {
	if testing.Short() {
		t.Skip("minimizes for up to 10 s")
	}
	s, st := found(t, "hraft-read-index-verify-after-shutdown-never-returns.min.json")
	res, err := minimize.Minimize(t, st.Target, s, minimize.Options{Budget: 10 * time.Second, FinalRuns: 5, Replays: 10})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Schedule
	if _, _, ok := interpose.PhaseOf(out); !ok || out.Violation == nil || out.Violation.Step > len(out.Events) {
		t.Fatalf("result of %d events, phase %v, violation %+v", len(out.Events), ok, out.Violation)
	}
	t.Logf("%d -> %d events, reproduced %d/%d, flaky input %v", res.InitialEvents, res.MinimizedEvents, res.Reproduced, res.Runs, res.Flaky)
}
