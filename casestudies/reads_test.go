package casestudies

import (
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/invariants"
)

// TestStaleReadsAreNotLinearizable: reads any node serves from its own
// state machine break Linearizability within a few runs, with a witness;
// the same reads through the log, on the correct hraft-serial, break
// neither Linearizability nor LostWrite in 100 runs.
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
