package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/casestudies"
)

func TestCasestudyList(t *testing.T) {
	code, out, stderr := cli(t, "casestudy", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range casestudies.Cases {
		if !strings.Contains(out, name) {
			t.Errorf("list lacks %s", name)
		}
	}
	if !strings.Contains(out, "2160") || !strings.Contains(out, "12.1 h") {
		t.Errorf("list lacks DEMi's figures:\n%s", out)
	}
}

// TestCasestudyRun fuzzes and minimizes raft-58b in this process and checks
// the JSON a script reads.
func TestCasestudyRun(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := cli(t, "casestudy", "run", "raft-58b", "--budget", "10s", "--out", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"case", "initial_events", "minimized_events", "manual_events", "replays", "elapsed_s", "reproduced", "runs"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var r casestudies.Result
	json.Unmarshal([]byte(out), &r)
	if r.Case != "raft-58b" || r.Fingerprint != "LogMatching" || r.ManualEvents != 15 || r.DEMi == nil || r.DEMi.Manual != 28 {
		t.Errorf("result %+v", r)
	}
	if r.MinimizedEvents == 0 || r.MinimizedEvents >= r.InitialEvents || r.Reproduced < 19 || r.Runs != 20 {
		t.Errorf("%d -> %d events, reproduced %d/%d", r.InitialEvents, r.MinimizedEvents, r.Reproduced, r.Runs)
	}
	t.Logf("%d -> %d events (manual %d), %d replays, %.1fs", r.InitialEvents, r.MinimizedEvents, r.ManualEvents, r.Replays, r.ElapsedS)
	if r.Schedule != filepath.Join(dir, "raft-58b.min.json") {
		t.Errorf("schedule %q", r.Schedule)
	}
	// Three violations minimized, the smallest kept.
	if len(r.Attempts) != 3 || slices.Min(r.Attempts) != r.MinimizedEvents {
		t.Errorf("attempts %v, result %d events", r.Attempts, r.MinimizedEvents)
	}
	if code, _, stderr := cli(t, "casestudy", "run", "nope"); code != 2 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("unknown case: exit %d, %q", code, stderr)
	}
}
