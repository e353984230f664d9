package casestudies_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
)

func TestCasestudyMarkdown(t *testing.T) {
	d, _ := casestudies.DEMiResult("raft-45")
	rows := []casestudies.Result{
		{Case: "raft-45", InitialEvents: 780, MinimizedEvents: 24, ManualEvents: 22, ElapsedS: 3.5, Replays: 900, Reproduced: 20, Runs: 20, DEMi: &d},
		{Case: "hraft-forgetful", Error: "no violation in 5 runs"},
	}
	var b bytes.Buffer
	if err := casestudies.WriteResults(&b, rows, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"| raft-45", "| 780", "1.09×", "| 2160", "1.05×", "2.8 min", "no violation in 5 runs", "DEMi minimized"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

// TestTargetsCarryWorkloads: a study's target resolved by name (as a
// campaign's workers resolve it) has the study's workload, whichever file
// registered the study. The etcd studies once did not: a campaign on
// etcdraft-async made no reads.
func TestTargetsCarryWorkloads(t *testing.T) {
	for _, s := range casestudies.All() {
		if s.Workload == nil {
			continue
		}
		got, err := casestudies.Lookup(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		if fuzz.WorkloadOf(got.Target) != s.Workload {
			t.Errorf("%s: its target does not carry its workload", s.Name)
		}
	}
}
