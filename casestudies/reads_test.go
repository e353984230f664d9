package casestudies

import (
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/invariants"
)

// TestStaleReadsAreNotLinearizable: reads any node serves from its own
// state machine break Linearizability within a few runs, with a witness,
// and so do reads a leader serves after VerifyLeader; the same reads
// through the log, on the correct hraft-serial, break neither
// Linearizability nor LostWrite in 100 runs.
func TestStaleReadsAreNotLinearizable(t *testing.T) {
	s, err := Lookup("hraft-stale-reads")
	if err != nil {
		t.Fatal(err)
	}
	res, err := fuzz.Run(t, s.Target, s.Options(fuzz.Options{Seed: 1, Runs: 20, NoLiveness: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 || res.Violations[0].Fingerprint != invariants.Linearizability ||
		!strings.Contains(res.Violations[0].Detail, "witness: [op ") {
		t.Fatalf("20 runs of stale reads found %+v; want Linearizability with a witness", res.Violations)
	}
	// VerifyLeader, then the leader's own state machine: stale on a new
	// leader that has not yet applied what the last one committed (seed
	// 1's run 405).
	vr, err := Lookup("hraft-verify-reads")
	if err != nil {
		t.Fatal(err)
	}
	res, err = fuzz.Run(t, vr.Target, vr.Options(fuzz.Options{Seed: 1, FirstRun: 400, Runs: 10, NoLiveness: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 || res.Violations[0].Fingerprint != invariants.Linearizability {
		t.Fatalf("runs 400..409 of verified reads found %+v; want Linearizability", res.Violations)
	}
	correct, err := Lookup("hraft-serial")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{invariants.Linearizability, invariants.LostWrite} {
		res, err = fuzz.Run(t, correct.Target, fuzz.Options{Seed: 1, Runs: 100, Reads: 50, NoLiveness: true, KeepGoing: true, Want: want})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Violations) != 0 {
			t.Errorf("reads through the log on hraft-serial: %+v", res.Violations)
		}
	}
}
