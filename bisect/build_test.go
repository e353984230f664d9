package bisect

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// TestGenerations builds faultline against a release of each API
// generation of hashicorp/raft (hraft.Generations; the newest, v1.8.0, is
// what every other test runs) and fuzzes hraft-forgetful briefly on it: the
// run must work, find a violation, and record the release it linked.
func TestGenerations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds faultline once for each API generation")
	}
	releases := map[string]string{ // tag: a release of its generation
		"":             "v1.7.3", // also needs go-metrics pinned to v0.5.4
		"hraft_v1_7_0": "v1.7.1",
		"hraft_v1_6":   "v1.6.1",
		"hraft_v1_3_7": "v1.3.10",
		"hraft_v1_2":   "v1.3.6",
		"hraft_v1_1":   "v1.1.2",
		"hraft_v1_1_0": "v1.1.0",
	}
	if len(releases) != len(hraft.Generations) {
		t.Fatalf("%d generations, %d releases to test them", len(hraft.Generations), len(releases))
	}
	b, cleanup, err := newBuilder(context.Background(), Options{Module: "..", WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for _, g := range hraft.Generations {
		v := releases[g.Tag]
		if got, err := hraft.GenerationOf(v); err != nil || got.Tag != g.Tag {
			t.Fatalf("%s is of generation %q (%v), want %q", v, got.Tag, err, g.Tag)
		}
		t.Run(v, func(t *testing.T) {
			bin, err := b.build(t.Context(), v)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			cmd := exec.CommandContext(t.Context(), bin, "fuzz", "--target", "hraft-forgetful", "--runs", "300", "--seed", "1", "--json", "--out", out)
			stdout, err := cmd.Output()
			if ee := (*exec.ExitError)(nil); err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
				t.Fatalf("fuzz: %v: %s", err, stderrOf(err))
			}
			var rep fuzz.Result
			if err := json.Unmarshal(stdout, &rep); err != nil {
				t.Fatalf("fuzz report: %v", err)
			}
			if len(rep.Violations) == 0 {
				t.Fatalf("no violation in %d runs of hraft-forgetful", rep.Runs)
			}
			s, err := interpose.ReadFile(rep.Violations[0].Schedule)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := s.Target.Config["raft"], "hashicorp/raft "+v; got != want {
				t.Errorf("schedule says it ran %q, want %q", got, want)
			}
			if got, want := s.Target.Config["prevote"], map[bool]string{true: "true", false: "false"}[g.PreVote]; got != want {
				t.Errorf("schedule says prevote=%s, want %s", got, want)
			}
			t.Logf("%s (tag %q): %s after %d runs (%s)", v, g.Tag, rep.Violations[0].Fingerprint, rep.Runs, filepath.Base(rep.Violations[0].Schedule))
		})
	}
}

func stderrOf(err error) string {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return lastLines(string(ee.Stderr), 3)
	}
	return ""
}
