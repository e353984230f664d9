package hraft

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// TestSparseReseedingCoversTheDraws walks hraft with every event reseeded
// and asks, after each, whether it drew from math/rand (raft's
// randomTimeout). The kinds of event reseeds passes over must draw rarely:
// when one does, its timeouts are the previous reseeded event's stream, and
// a minimizer removing that event moves them. Run with -v for the table.
func TestSparseReseedingCoversTheDraws(t *testing.T) {
	if testing.Short() {
		t.Skip("walks 100 runs")
	}
	type tally struct{ n, drew int }
	byClass := map[string]*tally{}
	drawProbe = func(ev interpose.Event, drew bool) {
		class := string(ev.Kind)
		if ev.Msg != nil {
			class += " " + ev.Msg.Type
		}
		if !reseeds(ev) {
			class += " (not reseeded)"
		}
		tl := byClass[class]
		if tl == nil {
			tl = &tally{}
			byClass[class] = tl
		}
		tl.n++
		if drew {
			tl.drew++
		}
	}
	defer func() { drawProbe = nil }()
	tg := NewTarget("hraft", "", Options{})
	if _, err := fuzz.Run(t, tg, fuzz.Options{Seed: 1, Runs: 100, Events: 300, KeepGoing: true, NoLiveness: true}); err != nil {
		t.Fatal(err)
	}
	classes := make([]string, 0, len(byClass))
	events, drew := 0, 0
	for c, tl := range byClass {
		classes = append(classes, c)
		events += tl.n
		drew += tl.drew
	}
	slices.SortFunc(classes, func(a, b string) int { return cmp.Compare(byClass[b].n, byClass[a].n) })
	var b strings.Builder
	fmt.Fprintf(&b, "%d events, %d drew\n", events, drew)
	for _, c := range classes {
		tl := byClass[c]
		fmt.Fprintf(&b, "%-45s %6d %6d  %5.1f%%\n", c, tl.n, tl.drew, 100*float64(tl.drew)/float64(tl.n))
		if strings.HasSuffix(c, "(not reseeded)") && tl.n >= 50 && tl.drew*20 > tl.n {
			t.Errorf("%s: drew in %d of %d occurrences; reseeds should reseed it", c, tl.drew, tl.n)
		}
	}
	t.Log("\n" + b.String())
}
