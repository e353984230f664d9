package campaign

import (
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
)

// TestMergeFoundKeeps: of one fingerprint's schedules from several pieces,
// the campaign keeps one that replays, then one that is not a known
// upstream bug, then the shorter, with that schedule's own label.
func TestMergeFoundKeeps(t *testing.T) {
	for _, c := range []struct {
		name        string
		first, then fuzz.Found
		want        string // the schedule kept
	}{
		{"shorter", fuzz.Found{Schedule: "a", Events: 300}, fuzz.Found{Schedule: "b", Events: 200}, "b"},
		{"longer", fuzz.Found{Schedule: "a", Events: 200}, fuzz.Found{Schedule: "b", Events: 300}, "a"},
		{"replays over flaky", fuzz.Found{Schedule: "a", Events: 100, Flaky: true}, fuzz.Found{Schedule: "b", Events: 300}, "b"},
		{"flaky never over one that replays", fuzz.Found{Schedule: "a", Events: 300}, fuzz.Found{Schedule: "b", Events: 100, Flaky: true}, "a"},
		{"unknown over upstream", fuzz.Found{Schedule: "a", Events: 100, Upstream: "hashicorp/raft#635"}, fuzz.Found{Schedule: "b", Events: 300}, "b"},
		{"upstream never over unknown", fuzz.Found{Schedule: "a", Events: 300}, fuzz.Found{Schedule: "b", Events: 100, Upstream: "hashicorp/raft#635"}, "a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.first.Fingerprint, c.then.Fingerprint = "Liveness:Leader", "Liveness:Leader"
			c.first.Count, c.then.Count = 1, 1
			total := &fuzz.Result{}
			mergeFound(total, c.first)
			mergeFound(total, c.then)
			if len(total.Violations) != 1 {
				t.Fatalf("%d findings", len(total.Violations))
			}
			g := total.Violations[0]
			want := c.first
			if c.want == "b" {
				want = c.then
			}
			if g.Schedule != c.want || g.Upstream != want.Upstream || g.Count != 2 {
				t.Errorf("kept %q (upstream %q, count %d); want %q (upstream %q, count 2)", g.Schedule, g.Upstream, g.Count, c.want, want.Upstream)
			}
		})
	}
}
