package casestudies

import (
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
)

// TestSparkCorrect: the correct Spark shows nothing in 300 runs of its
// workload, each checked at every event (the workload's runs are checked
// only at their end, as DEMi's were).
func TestSparkCorrect(t *testing.T) {
	s, err := Lookup("spark")
	if err != nil {
		t.Fatal(err)
	}
	res, err := fuzz.Run(t, s.Target, s.Options(fuzz.Options{Seed: 1, Runs: 300, Events: 1000, NoLiveness: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) > 0 {
		v := res.Violations[0]
		t.Fatalf("run %d: %s: %s", v.Run, v.Fingerprint, v.Detail)
	}
	if res.Faults["crash"] == 0 || res.Delivered["MasterChanged"] == 0 || res.Delivered["CompleteRecovery"] == 0 {
		t.Errorf("the workload never recovered a master: faults %v, delivered %v", res.Faults, res.Delivered)
	}
}

// BenchmarkSparkWalk measures the fuzzer on the 4-node Spark with its
// workload, invariants checked after every event, setup included.
func BenchmarkSparkWalk(b *testing.B) {
	s, err := Lookup("spark")
	if err != nil {
		b.Fatal(err)
	}
	events := 0
	for i := 0; b.Loop(); i++ {
		res, err := fuzz.Run(nil, s.Target, s.Options(fuzz.Options{Seed: uint64(i), Runs: 1, Events: 1000,
			KeepGoing: true, NoLiveness: true}))
		if err != nil {
			b.Fatal(err)
		}
		events += res.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
