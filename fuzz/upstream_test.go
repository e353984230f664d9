package fuzz_test

import (
	"maps"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// TestUpstream confirms the committed reproductions of raft's own bugs and
// refuses what only looks like one. A store that forgets the vote, on a
// target that does not declare it (what a user's buggy store looks like),
// breaks ElectionSafety on the heartbeat fast path, which the table alone
// takes for #695 seen from a candidate; it still breaks it with serial
// heartbeats, so it is not confirmed.
func TestUpstream(t *testing.T) {
	undeclared := hraft.NewTarget("hraft-forgetful", "", hraft.Options{
		NewStableStore: func(int) (raft.StableStore, error) { return casestudies.NewForgetfulStore(), nil },
	})
	for _, c := range []struct {
		file   string
		target interpose.Target
		bug    string // "" when declared a bug (in the spec) or not an upstream one
		strip  bool   // clear the spec's Bug, as an undeclared store would record it
	}{
		{"../casestudies/testdata/hraft.min.json", target(t, "hraft"), "hashicorp/raft#695", false},
		{"../casestudies/testdata/found/hraft-candidate-late-vote.json", target(t, "hraft"), "hashicorp/raft#695", false},
		{"../results/found/hraft-LogMatching-seed2-run637.json", target(t, "hraft"), "hashicorp/raft#695", false},
		{"../casestudies/testdata/found/hraft-serial-stale-snapshot.json", target(t, "hraft-serial"), "hashicorp/raft#85", false},
		{"../casestudies/testdata/hraft-forgetful.min.json", target(t, "hraft-forgetful"), "", false},
		{"../casestudies/testdata/hraft-forgetful.min.json", undeclared, "", true},
		{"../casestudies/testdata/raft-46.min.json", target(t, "raft-46"), "", false},
	} {
		s, err := interpose.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if c.strip {
			s.Target.Bug = ""
		}
		start := time.Now()
		bug, ok, err := fuzz.Upstream(t, c.target, s, fuzz.ReplayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %q %v in %v", c.file, bug.ID, ok, time.Since(start).Round(time.Millisecond))
		if ok != (c.bug != "") || bug.ID != c.bug {
			t.Errorf("%s: %q (%v), want %q", c.file, bug.ID, ok, c.bug)
		}
		if c.strip {
			// Refused for the right reason: it shows as recorded, and
			// without the fast path too.
			serial := *s
			serial.Target.Config = maps.Clone(s.Target.Config)
			serial.Target.Config["heartbeat_fast_path"] = "false"
			for _, r := range []*interpose.Schedule{s, &serial} {
				rep, err := fuzz.Replay(t, c.target, r, fuzz.ReplayOptions{Repeat: 3})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Reproduced == 0 {
					t.Errorf("%s with heartbeat_fast_path %s: no replay shows %s (seen %v)", c.file,
						r.Target.Config["heartbeat_fast_path"], s.Violation.Fingerprint, rep.Seen)
				}
			}
		}
	}
}

// TestKnownDoesNotStop: a campaign whose violations are all Known goes on
// to its last run, counting them, where it stops at the first one
// otherwise.
func TestKnownDoesNotStop(t *testing.T) {
	tg := target(t, "hraft-forgetful")
	opts := fuzz.Options{Seed: 1, Runs: 60}
	res, err := fuzz.Run(t, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) != 1 || res.Runs == 60 {
		t.Fatalf("without Known: %d runs, %+v; want a stop at the first violation", res.Runs, res.Violations)
	}
	opts.Known = func(string) bool { return true }
	res, err = fuzz.Run(t, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, v := range res.Violations {
		count += v.Count
		if v.Sched != nil || v.Upstream != "" {
			t.Errorf("known %s: schedule kept or labelled: %+v", v.Fingerprint, v)
		}
	}
	if res.Runs != 60 || count < 2 {
		t.Errorf("with Known: %d runs, %d violating; want 60 runs and several", res.Runs, count)
	}
}

// TestPassOverUpstream: seed 1's run 350 on hraft meets #695 (LogMatching).
// Without the option the campaign stops there with the violation labelled;
// with it, the walk passes over it and the campaign goes on to its last
// run, counting it. The runs before 350 are the same walks either way.
func TestPassOverUpstream(t *testing.T) {
	tg := target(t, "hraft")
	opts := fuzz.Options{Seed: 1, FirstRun: 345, Runs: 10}
	start := time.Now()
	res, err := fuzz.Run(t, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("without: %d runs in %v", res.Runs, time.Since(start).Round(time.Millisecond))
	if len(res.Violations) != 1 || res.Runs != 6 || len(res.PassedOver) != 0 {
		t.Fatalf("without PassOverUpstream: %d runs, %+v, passed over %+v; want a stop at run 350", res.Runs, res.Violations, res.PassedOver)
	}
	if v := res.Violations[0]; v.Run != 350 || v.Fingerprint != "LogMatching" || v.Upstream != "hashicorp/raft#695" {
		t.Errorf("found %+v; want run 350's LogMatching, labelled hashicorp/raft#695", v)
	}

	opts.PassOverUpstream = true
	start = time.Now()
	res, err = fuzz.Run(t, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with: %d runs in %v, passed over %+v", res.Runs, time.Since(start).Round(time.Millisecond), res.PassedOver)
	if len(res.Violations) != 0 || res.Runs != 10 {
		t.Fatalf("with PassOverUpstream: %d runs, %+v; want 10 runs and no violation", res.Runs, res.Violations)
	}
	want := fuzz.Passed{Upstream: "hashicorp/raft#695", Label: "known upstream: hashicorp/raft#695 (https://github.com/hashicorp/raft/issues/695)",
		Fingerprint: "LogMatching", Count: 1, Run: 350}
	if len(res.PassedOver) != 1 || res.PassedOver[0] != want {
		t.Errorf("passed over %+v, want [%+v]", res.PassedOver, want)
	}
}

// TestPassOverKeepsWalks: the option changes what a walk stops at, never
// what it does: a run's events up to its first violation are the same with
// and without it, and without a violation the whole walk is.
func TestPassOverKeepsWalks(t *testing.T) {
	tg := target(t, "hraft")
	for _, run := range []int{349, 350} {
		off, err := fuzz.Walk(t, tg, fuzz.Options{Seed: 1, NoLiveness: true}, run)
		if err != nil {
			t.Fatal(err)
		}
		on, err := fuzz.Walk(t, tg, fuzz.Options{Seed: 1, PassOverUpstream: true, NoLiveness: true}, run)
		if err != nil {
			t.Fatal(err)
		}
		n := len(off.Events)
		if off.Violation != nil {
			n = off.Violation.Step
		}
		if len(on.Events) < n || (&interpose.Schedule{Events: on.Events[:n]}).Hash() != (&interpose.Schedule{Events: off.Events[:n]}).Hash() {
			t.Errorf("run %d: the first %d events differ with PassOverUpstream", run, n)
		}
		if run == 350 && (off.Violation == nil || on.Violation != nil || len(on.Events) != 300) {
			t.Errorf("run 350: violation %v without, %v with (%d events); want #695's LogMatching passed over, and 300 events", off.Violation, on.Violation, len(on.Events))
		}
	}
}

// TestPassOverRefusesLookalike: on a store that forgets the vote, not
// declared as a bug, a walk passes over ElectionSafety as #695's candidate
// form by the table; the replay without the fast path still shows it, so it
// is the run's violation after all, and the campaign stops at the same run
// as without the option, with a schedule cut at the violation.
func TestPassOverRefusesLookalike(t *testing.T) {
	tg := hraft.NewTarget("forgetful", "", hraft.Options{
		NewStableStore: func(int) (raft.StableStore, error) { return casestudies.NewForgetfulStore(), nil },
	})
	opts := fuzz.Options{Seed: 1, Runs: 200}
	off, err := fuzz.Run(t, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(off.Violations) != 1 || off.Violations[0].Fingerprint != "ElectionSafety" {
		t.Fatalf("without PassOverUpstream: %+v; want one ElectionSafety", off.Violations)
	}
	opts.PassOverUpstream = true
	on, err := fuzz.Run(t, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(on.Violations) != 1 || len(on.PassedOver) != 0 {
		t.Fatalf("with PassOverUpstream: %+v, passed over %+v; want the same violation, nothing passed over", on.Violations, on.PassedOver)
	}
	a, b := off.Violations[0], on.Violations[0]
	if b.Run != a.Run || b.Fingerprint != a.Fingerprint || b.Upstream != "" || b.Flaky || b.Sched.Violation.Step != b.Events {
		t.Errorf("with PassOverUpstream: %+v (step %d); without: %+v", b, b.Sched.Violation.Step, a)
	}
}

// BenchmarkUpstream measures the confirmation of #695 on the schedule a
// campaign saved (seed 1, run 350: 198 events), a replay as recorded and
// three without the fast path: what a passed-over hit or a labelled finding
// costs.
func BenchmarkUpstream(b *testing.B) {
	tg := target(b, "hraft")
	s, err := interpose.ReadFile("../results/found/hraft-LogMatching-seed1-run350.json")
	if err != nil {
		b.Fatal(err)
	}
	ok := hraft.UnderTest(b.Name(), func(t *testing.T) {
		// b.N, not b.Loop: the loop runs on the test's goroutine, where
		// b.Loop finds the benchmark's timer stopped.
		b.ResetTimer()
		for range b.N {
			if _, ok, err := fuzz.Upstream(t, tg, s, fuzz.ReplayOptions{}); err != nil || !ok {
				t.Fatalf("not confirmed: %v", err)
			}
		}
	})
	if !ok {
		b.Fatal("upstream failed")
	}
}
