package campaign

import (
	"slices"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
)

// TestWorkloadRoundTrip: what WorkloadArgs writes, ParseWorkload reads back,
// and the flags of a workload stay those earlier campaigns recorded.
func TestWorkloadRoundTrip(t *testing.T) {
	for _, c := range []struct {
		opts fuzz.Options
		args []string
	}{
		{fuzz.Options{Seed: 1, Events: 300, NoLiveness: true}, []string{"--target", "t", "--seed", "1", "--events", "300", "--check-every", "0", "--check-from", "0", "--liveness=false"}},
		{fuzz.Options{Seed: 7, Events: 2000, CheckEvery: 20, CheckFrom: 1000, Nodes: 5, Want: "LogMatching", PCTDepth: 4, Strategy: fuzz.PCT, NoLiveness: true},
			[]string{"--target", "t", "--seed", "7", "--events", "2000", "--check-every", "20", "--check-from", "1000", "--nodes", "5",
				"--want", "LogMatching", "--pct-depth", "4", "--strategy", "pct", "--liveness=false"}},
		{fuzz.Options{Seed: 1, Events: 300}, []string{"--target", "t", "--seed", "1", "--events", "300", "--check-every", "0", "--check-from", "0", "--liveness"}},
		{fuzz.Options{Seed: 1, Events: 300, Stabilize: 10},
			[]string{"--target", "t", "--seed", "1", "--events", "300", "--check-every", "0", "--check-from", "0", "--liveness", "--stabilize", "10"}},
		{fuzz.Options{Seed: 1, Events: 300, NoLiveness: true, Weights: &fuzz.Weights{Deliver: 100, Crash: 15, Recover: 30, Choice: 2}},
			[]string{"--target", "t", "--seed", "1", "--events", "300", "--check-every", "0", "--check-from", "0", "--liveness=false",
				"--weights", "deliver=100,timer=0,drop=0,duplicate=0,advance=0,crash=15,recover=30,client=0,partition=0,heal=0,membership=0,transfer=0,disk=0,choice=2"}},
	} {
		args := WorkloadArgs("t", c.opts)
		if !slices.Equal(args, c.args) {
			t.Errorf("WorkloadArgs(%+v) = %q, want %q", c.opts, args, c.args)
		}
		target, got, err := ParseWorkload(args)
		if err != nil || target != "t" {
			t.Fatalf("ParseWorkload(%q): %q, %v", args, target, err)
		}
		if c.opts.Strategy == "" {
			c.opts.Strategy = fuzz.Random
		}
		if got.Seed != c.opts.Seed || got.Events != c.opts.Events || got.CheckEvery != c.opts.CheckEvery || got.CheckFrom != c.opts.CheckFrom ||
			got.Nodes != c.opts.Nodes || got.Want != c.opts.Want || got.PCTDepth != c.opts.PCTDepth || got.Strategy != c.opts.Strategy ||
			got.NoLiveness != c.opts.NoLiveness || got.Stabilize != c.opts.Stabilize ||
			(got.Weights == nil) != (c.opts.Weights == nil) || got.Weights != nil && *got.Weights != *c.opts.Weights {
			t.Errorf("ParseWorkload(%q) = %+v", args, got)
		}
	}
	// A workload recorded before liveness was on by default has no flag
	// and no phase.
	if _, got, err := ParseWorkload([]string{"--target", "t", "--seed", "1"}); err != nil || !got.NoLiveness {
		t.Errorf("a workload without --liveness read as %+v, %v: want no liveness", got, err)
	}
	if _, _, err := ParseWorkload([]string{"--frobnicate"}); err == nil {
		t.Error("an unknown flag was read")
	}
}

// TestChunkHoldsAboutTheSameEvents: a chunk holds about defaultChunkEvents
// whatever the strategy: a swarm run averages fuzz.MeanEvents, longer than
// --events, so its chunks have fewer runs.
func TestChunkHoldsAboutTheSameEvents(t *testing.T) {
	random := NewConfig("t", fuzz.Options{Events: 300}, 0, 0)
	swarm := NewConfig("t", fuzz.Options{Events: 300, Strategy: fuzz.Swarm}, 0, 0)
	if random.Chunk != ChunkFor(300) || swarm.Chunk >= random.Chunk {
		t.Fatalf("chunks: random %d runs, swarm %d; want %d and fewer", random.Chunk, swarm.Chunk, ChunkFor(300))
	}
	if n := swarm.Chunk * fuzz.MeanEvents(fuzz.Options{Events: 300, Strategy: fuzz.Swarm}); n > defaultChunkEvents || n < defaultChunkEvents*9/10 {
		t.Errorf("a swarm chunk holds about %d events; want about %d", n, defaultChunkEvents)
	}
}
