package baseline_test

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/baseline"
	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// TestForgetfulFound: the chaos loop finds the forgetful stable store's
// two leaders of one term on the real clock, well within its time limit
// (seconds when measured; a minute at most here, and any of four
// clusters side by side).
func TestForgetfulFound(t *testing.T) {
	if testing.Short() {
		t.Skip("real clock")
	}
	opts := hraft.Options{NewStableStore: func(int) (raft.StableStore, error) { return casestudies.NewForgetfulStore(), nil }}
	res, err := baseline.Run(context.Background(), opts, baseline.Options{Seed: 1, Clusters: 4, Time: time.Minute,
		Timers: baseline.DefaultsBy10})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Found || res.Invariant != baseline.ElectionSafety {
		t.Fatalf("nothing in %s (%d actions)", res.Wall, res.Actions)
	}
	t.Logf("%s after %s (%s CPU, %d actions)", res.Detail, res.Wall, res.CPU, res.Actions)
}

// TestCorrectQuiet: correct raft shows no two leaders of a term in a
// couple of seconds of the same chaos.
func TestCorrectQuiet(t *testing.T) {
	if testing.Short() {
		t.Skip("real clock")
	}
	res, err := baseline.Run(context.Background(), hraft.Options{}, baseline.Options{Seed: 1, Time: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Found {
		t.Fatalf("correct raft: %s", res.Detail)
	}
	if res.Actions < 5 {
		t.Errorf("%d actions in 2 s; want at least 5 (one every 10-50 ms, restarts slower)", res.Actions)
	}
}

// TestUnknownInvariant: a run asked for an invariant the baseline does not
// check is refused.
func TestUnknownInvariant(t *testing.T) {
	_, err := baseline.Run(context.Background(), hraft.Options{}, baseline.Options{Invariant: "LeaderCompleteness"})
	if err == nil {
		t.Fatal("no error for LeaderCompleteness")
	}
}
