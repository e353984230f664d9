package fuzz_test

import (
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// TestLivenessCorrectActorRaft: the correct actor Raft, with its workload
// and a stabilization phase after each walk, ends every run with a leader
// that every live member follows and a write of the phase applied
// everywhere.
func TestLivenessCorrectActorRaft(t *testing.T) {
	tg := target(t, "raft")
	res, err := fuzz.Run(t, tg, fuzz.ApplyWorkload(tg, fuzz.Options{Seed: 1, Runs: 300, Events: 300, KeepGoing: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) != 0 || res.Kinds[string(interpose.Stabilize)] != 300 {
		t.Fatalf("violations %+v, %d stabilization phases", res.Violations, res.Kinds[string(interpose.Stabilize)])
	}
	// Coverage: every phase owes a write until it commits; this leader
	// never refuses one, so Accepts is listed, never hot.
	if m := res.Monitors; len(m) != 3 || m["Commit"] != 300 || m["Leader"] == 0 || m["Accepts"] != 0 {
		t.Errorf("monitors %v", m)
	}
}

// never is a monitor that is always hot: a system that never delivers.
type never struct{}

func (never) Name() string                           { return "Never" }
func (never) Observe(*interpose.View) (bool, string) { return true, "never" }

// TestLivenessViolationReplays: a monitor hot at the end of the phase is a
// violation of the run; its schedule holds the phase (a Stabilize event)
// and replays to the same violation.
func TestLivenessViolationReplays(t *testing.T) {
	tg := target(t, "raft")
	checker := func() interpose.Checker { return invariants.NewLiveness(invariants.NewRaft(), never{}) }
	opts := fuzz.ApplyWorkload(tg, fuzz.Options{Seed: 1, Runs: 1, Events: 100, Stabilize: 2, Checker: checker})
	res, err := fuzz.Run(t, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) != 1 || res.Violations[0].Fingerprint != "Liveness:Never" {
		t.Fatalf("violations %+v", res.Violations)
	}
	s := res.Violations[0].Sched
	if !s.Stabilizes() || s.Violation.Step != len(s.Events) {
		t.Fatalf("schedule: stabilizes %v, violation after %d of %d events", s.Stabilizes(), s.Violation.Step, len(s.Events))
	}
	rep, err := fuzz.Replay(t, tg, s, fuzz.ReplayOptions{Repeat: 3, Checker: checker})
	if err != nil || rep.Reproduced != 3 {
		t.Fatalf("replay: %+v, %v", rep, err)
	}
}

// TestLivenessHraftSerial: runs 0 to 249 of seed 2 on hraft-serial end
// with no liveness violation. Run 222 ended with Liveness:Leader when only
// the leader's clock moved during the phase: a candidate in the leader's
// term (TimeoutNow, received while it was already a candidate) waited for
// an election timer that never fired.
func TestLivenessHraftSerial(t *testing.T) {
	if testing.Short() {
		t.Skip("250 runs")
	}
	res, err := fuzz.Run(t, target(t, "hraft-serial"), fuzz.Options{Seed: 2, Runs: 250, Events: 300, KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		if strings.HasPrefix(v.Fingerprint, invariants.LivenessPrefix) {
			t.Errorf("run %d: %s: %s", v.Run, v.Fingerprint, v.Detail)
		}
	}
}

// TestLivenessPermanentActorRaft: the correct actor Raft with a fault kept
// for good through each phase (a node cut off, muted by a one-way
// partition, or down) makes progress with the others in every run, and the
// runs keep every kind of fault.
func TestLivenessPermanentActorRaft(t *testing.T) {
	tg := target(t, "raft")
	opts := fuzz.ApplyWorkload(tg, fuzz.Options{Seed: 1, Events: 300, Permanent: true})
	kept := map[string]int{}
	for run := range 150 {
		s, err := fuzz.Walk(t, tg, opts, run)
		if err != nil {
			t.Fatal(err)
		}
		if s.Violation != nil {
			t.Fatalf("run %d: %s: %s", run, s.Violation.Fingerprint, s.Violation.Detail)
		}
		for _, e := range s.Events {
			if e.Kind == interpose.Stabilize {
				kept[e.Op]++
			}
		}
	}
	for _, k := range interpose.Permanents {
		if kept[k] == 0 {
			t.Errorf("no run kept %s: %v", k, kept)
		}
	}
}
