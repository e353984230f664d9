package measure_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/measure"
)

func TestParseSeeds(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []uint64
		err  string
	}{
		{"1-3", []uint64{1, 2, 3}, ""},
		{"4,1,9", []uint64{4, 1, 9}, ""},
		{"1-2,7", []uint64{1, 2, 7}, ""},
		{"5", []uint64{5}, ""},
		{"3-1", nil, "bad range"},
		{"x", nil, "is not a seed"},
		{"1-1000000", nil, "too large"},
	} {
		got, err := measure.ParseSeeds(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseSeeds(%q): %v, want an error with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseSeeds(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// target is a case study's target, with its workload.
func target(t *testing.T, name string) interpose.Target {
	t.Helper()
	s, err := casestudies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return s.Target
}

// TestTTF: raft-46's bug shows within a few runs of every seed; the report
// counts every seed, and its table names each.
func TestTTF(t *testing.T) {
	rep, err := measure.TTF(t, nil, target(t, "raft-46"), fuzz.Options{Runs: 200, Events: 2000, CheckEvery: 20}, []uint64{1, 2, 3}, "faultline measure ttf")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seeds != 3 || rep.Found != 3 || len(rep.Rows) != 3 || rep.MedianJSON == nil || rep.EventsPerSec <= 0 {
		t.Fatalf("report %+v", rep)
	}
	var b bytes.Buffer
	if err := measure.WriteTTF(&b, rep); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.HasPrefix(out, "$ faultline measure ttf\n") || !strings.Contains(out, "a violation in 3 of 3 seeds") {
		t.Errorf("table:\n%s", out)
	}
}

// TestReplay: an actor Raft's replays are exact, every one.
func TestReplay(t *testing.T) {
	rep, err := measure.Replay(&campaign.Workers{T: t}, target(t, "raft"), fuzz.ReplayRateOptions{Campaign: fuzz.Options{Events: 300}, Schedules: 3, Repeat: 2}, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Schedules != 6 || rep.Replays != 12 || rep.Identical != 12 {
		t.Errorf("rate %+v", rep)
	}
}

// TestNeedWorkers: the experiments that run campaigns or minimizations in
// worker processes say so without them.
func TestNeedWorkers(t *testing.T) {
	w := &campaign.Workers{T: t}
	tg := target(t, "raft-46")
	if _, err := measure.Minimize(w, tg, measure.MinimizeOptions{Seeds: []uint64{1}}); !errors.Is(err, campaign.ErrNoWorkers) {
		t.Errorf("Minimize: %v", err)
	}
	if err := measure.Scaling(w, tg, measure.ScalingOptions{}, &bytes.Buffer{}); !errors.Is(err, campaign.ErrNoWorkers) {
		t.Errorf("Scaling: %v", err)
	}
	if _, err := measure.Strategies(w, []interpose.Target{tg}, measure.StrategiesOptions{}); !errors.Is(err, campaign.ErrNoWorkers) {
		t.Errorf("Strategies: %v", err)
	}
}

// TestCost: the actor Raft's walk, profiled in this process (8,000 runs:
// some seconds of CPU, well past the one Cost needs to split), splits into
// parts that add up to the whole, the program's own code among them, and
// the bound is above the walk's own speed.
func TestCost(t *testing.T) {
	st, err := casestudies.Lookup("raft")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := measure.Cost(&campaign.Workers{T: t}, st.Target, fuzz.Options{Seed: 1, Runs: 8000, Events: 300, Strategy: fuzz.Random},
		measure.CostOptions{System: []string{"github.com/faultline-dev/faultline/casestudies"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	share := map[string]float64{}
	sum := 0.0
	for _, c := range rep.Parts {
		share[c.Part] = c.Share
		sum += c.Share
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("shares add up to %.3f", sum)
	}
	if share[measure.PartSystem] == 0 || share[measure.PartFaultline] == 0 || share[measure.PartCalled] == 0 {
		t.Errorf("want time in the program, in faultline and in what the program calls of it: %v", share)
	}
	if share[measure.PartReseed] != 0 {
		t.Errorf("the actor runtime reseeds nothing, yet reseeding took %.1f%%", 100*share[measure.PartReseed])
	}
	if rep.Runs != 8000 || rep.Events == 0 || rep.BoundPerSec <= rep.EventsPerSec {
		t.Errorf("runs %d, events %d, %.0f events/s, bound %.0f", rep.Runs, rep.Events, rep.EventsPerSec, rep.BoundPerSec)
	}
	var out bytes.Buffer
	if err := measure.WriteCost(&out, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "raft: 8000 runs") {
		t.Errorf("no summary line:\n%s", out.String())
	}
}
