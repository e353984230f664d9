package casestudies

import (
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
)

// TestLossyLogIsNotAnOverwrite: a log store that loses its last batch at a
// crash is reported as StoreLostEntries, and hunted for LeaderAppendOnly
// the same runs show none: raft overwrote nothing (before the adapter read
// the store back after a crash, 50 of the first 150 runs of seed 1 said
// "n3, leader of term 4, overwrote entry 3").
func TestLossyLogIsNotAnOverwrite(t *testing.T) {
	s, err := Lookup("hraft-lossy-log")
	if err != nil {
		t.Fatal(err)
	}
	res, err := fuzz.Run(t, s.Target, fuzz.Options{Seed: 1, Runs: 20, KeepGoing: true, NoLiveness: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 || res.Violations[0].Fingerprint != "StoreLostEntries" {
		t.Fatalf("20 runs found %+v; want StoreLostEntries", res.Violations)
	}
	res, err = fuzz.Run(t, s.Target, fuzz.Options{Seed: 1, Runs: 150, KeepGoing: true, NoLiveness: true, Want: "LeaderAppendOnly"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) != 0 {
		t.Errorf("a lossy log store blamed on raft: %+v", res.Violations)
	}
}
