package measure

import (
	"bytes"
	"testing"

	"github.com/google/pprof/profile"
)

// cpuProfile builds a CPU profile whose samples are the given stacks
// (innermost first), each with its nanoseconds.
func cpuProfile(t *testing.T, stacks map[string][]string, ns map[string]int64) *bytes.Buffer {
	t.Helper()
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     1e7,
	}
	funcs := map[string]*profile.Function{}
	for name, stack := range stacks {
		var locs []*profile.Location
		for _, f := range stack {
			fn, ok := funcs[f]
			if !ok {
				fn = &profile.Function{ID: uint64(len(funcs) + 1), Name: f, SystemName: f}
				funcs[f] = fn
				p.Function = append(p.Function, fn)
			}
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn}}}
			p.Location = append(p.Location, loc)
			locs = append(locs, loc)
		}
		p.Sample = append(p.Sample, &profile.Sample{Location: locs, Value: []int64{1, ns[name]}})
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func TestCosts(t *testing.T) {
	stacks := map[string][]string{
		// raft's goroutine selecting: a library function under raft's.
		"raft": {"runtime.selectgo", "github.com/hashicorp/raft.(*Raft).runFollower", "github.com/hashicorp/raft.(*Raft).run"},
		// raft encoding through another module: still raft's time.
		"codec": {"github.com/hashicorp/go-msgpack/v2/codec.(*Encoder).Encode", "github.com/hashicorp/raft.(*Raft).appendEntries"},
		// The walker, with a generic function of the standard library.
		"walker": {"slices.SortFunc[go.shape.[]github.com/faultline-dev/faultline/interpose.Message]", "github.com/faultline-dev/faultline/fuzz.(*walker).next", "github.com/faultline-dev/faultline/fuzz.walk"},
		// Our transport, called by raft's goroutine.
		"transport": {"runtime.mallocgc", "github.com/faultline-dev/faultline/interpose/hraft.(*transport).AppendEntries", "github.com/hashicorp/raft.(*Raft).replicateTo"},
		// Reseeding, under our adapter.
		"reseed": {"math/rand.seedrand", "math/rand.(*rngSource).Seed", "math/rand.Seed", "github.com/faultline-dev/faultline/interpose/hraft.(*Cluster).Apply"},
		// The collector.
		"gc": {"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"},
		// A compiler-made equality of our type.
		"eq": {"type:.eq.github.com/faultline-dev/faultline/interpose.Msg", "github.com/faultline-dev/faultline/interpose.(*Inflight[...]).Find"},
	}
	ns := map[string]int64{"raft": 30, "codec": 10, "walker": 20, "transport": 5, "reseed": 25, "gc": 8, "eq": 2}
	got, err := Costs(cpuProfile(t, stacks, ns), CostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{PartSystem: 40, PartRuntime: 8, PartReseed: 25, PartFaultline: 22, PartCalled: 5}
	if len(got) != len(Parts) {
		t.Fatalf("got %d parts, want %d", len(got), len(Parts))
	}
	for i, c := range got {
		if c.Part != Parts[i] {
			t.Errorf("part %d is %q, want %q", i, c.Part, Parts[i])
		}
		if w := float64(want[c.Part]) / 1e9; c.Seconds != w || c.Share != float64(want[c.Part])/100 {
			t.Errorf("%s: %g s (%.2f), want %g s (%.2f)", c.Part, c.Seconds, c.Share, w, float64(want[c.Part])/100)
		}
	}
}

// TestCostsSystemInOurModule: an actor program in casestudies is the
// system when CostOptions says so; the runtime it runs on is faultline's.
func TestCostsSystemInOurModule(t *testing.T) {
	stacks := map[string][]string{
		"member": {"github.com/faultline-dev/faultline/casestudies/raft.(*member).Receive", "github.com/faultline-dev/faultline/interpose/actor.(*System).dispatch"},
		"send":   {"github.com/faultline-dev/faultline/interpose/actor.(*Context).Send", "github.com/faultline-dev/faultline/casestudies/raft.(*member).sendAppend"},
		"check":  {"github.com/faultline-dev/faultline/invariants.(*Raft).Check"},
		// Another module is the system's whatever System lists.
		"raft": {"github.com/hashicorp/raft.(*Raft).run"},
	}
	ns := map[string]int64{"member": 2, "send": 2, "check": 5, "raft": 1}
	got, err := Costs(cpuProfile(t, stacks, ns), CostOptions{System: []string{"github.com/faultline-dev/faultline/casestudies/raft"}})
	if err != nil {
		t.Fatal(err)
	}
	byPart := map[string]float64{}
	for _, c := range got {
		byPart[c.Part] = c.Share
	}
	if byPart[PartSystem] != 0.3 || byPart[PartCalled] != 0.2 || byPart[PartFaultline] != 0.5 {
		t.Errorf("shares %v, want system 0.3, called 0.2, faultline 0.5", byPart)
	}
}

func TestCostsBadProfile(t *testing.T) {
	if _, err := Costs(bytes.NewBufferString("not a profile"), CostOptions{}); err == nil {
		t.Error("a damaged profile gave no error")
	}
	// A heap profile has no CPU samples.
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "alloc_space", Unit: "bytes"}}}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Costs(&buf, CostOptions{}); err == nil {
		t.Error("a heap profile gave no error")
	}
}
