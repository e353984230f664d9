package fuzz

import (
	"fmt"
	"math/rand/v2"

	"github.com/faultline-dev/faultline/interpose"
)

// Guided is search that learns: a run reaches something new when its
// schedule holds a sequence of three events at one node never seen before
// in the campaign (per node, the kinds of event it took part in, with the
// type of each message delivered to it: "RequestVote, crash, recover", say;
// DistFuzz's and Mallory's kind of feedback, over message types rather
// than states). Such runs go into a corpus. Three runs in four then start
// from a corpus run: they replay its first events (a prefix cut at random,
// on its cluster, whose seed they take) and go on with a random walk of
// their own, extending what was new; the fourth is a fresh random walk.
// A campaign that wants one invariant (Options.Want) also keeps the runs
// that broke another on the way as stepping stones: a store that lost what
// it acknowledged, say, on the way to two state machines that disagree.
// Once there are some, half the runs that start from the corpus start from
// a stepping stone instead, replaying it past that violation.
// The corpus is the campaign's own, built as its runs go, so a run is the
// same walk every time its campaign is run from the same first run; a
// finding records the run it started from and the cut in its origin
// (Origin.Mutation), and its schedule, as every schedule, replays alone.
const Guided = "guided"

// corpusMax bounds the corpus: a new run then replaces one drawn at random.
const corpusMax = 256

// guide is a guided campaign's state: what its runs covered, and the runs
// that covered something first.
type guide struct {
	seen   map[string]bool
	corpus []corpusRun
	stones []corpusRun // runs past a violation not wanted; novel is its event
}

// corpusRun is a run of the corpus: its cluster's seed and its walk's
// events (not its stabilization phase).
type corpusRun struct {
	run    int
	seed   uint64
	events []interpose.Event
	novel  int    // the index of the event that covered something new first
	past   string // a stepping stone's: the invariant broken at novel
}

// mutation is how a guided run starts: from a corpus run's first events.
type mutation struct {
	from   int    // the corpus run's index in the campaign
	seed   uint64 // its cluster's seed, which this run takes
	prefix []interpose.Event
	cut    int    // events of the corpus run replayed, its nodes' starts included
	past   string // a stepping stone's violation, which the prefix replays
}

func (m *mutation) String() string {
	if m == nil {
		return ""
	}
	if m.past != "" {
		return fmt.Sprintf("the first %d events of run %d (past its %s), then a walk of its own", m.cut, m.from, m.past)
	}
	return fmt.Sprintf("the first %d events of run %d, then a walk of its own", m.cut, m.from)
}

func newGuide() *guide { return &guide{seen: map[string]bool{}} }

// plan draws how run starts: nil for a fresh walk.
func (g *guide) plan(seed uint64, run, nodes int) *mutation {
	if g == nil || len(g.corpus) == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(RunSeed(seed, run), 0x6775696465)) // its own stream: the walk's is untouched
	if rng.IntN(4) == 0 {
		return nil
	}
	c := g.corpus[rng.IntN(len(g.corpus))]
	if len(g.stones) > 0 && rng.IntN(2) == 0 {
		c = g.stones[rng.IntN(len(g.stones))]
	}
	if len(c.events) <= nodes || c.novel < nodes {
		return nil
	}
	// From the new event on: the corpus run as far as it reached
	// something new, and a few of its events after.
	cut := c.novel + 1 + rng.IntN((len(c.events)-c.novel)/4+1)
	return &mutation{from: c.run, seed: c.seed, prefix: c.events[nodes:cut], cut: cut, past: c.past}
}

// learn records what s covered and reports whether it was new; a run that
// was joins the corpus (its events copied up to its stabilization phase).
//
// A run that went past a violation of another invariant than the one
// wanted (bypassed, each at its step) before its stabilization phase also
// becomes a stepping stone, from the event of the first.
func (g *guide) learn(s *interpose.Schedule, run int, seed uint64, bypassed []interpose.Violation) bool {
	events := s.Events
	if pre, _, ok := interpose.PhaseOf(s); ok {
		events = pre
	}
	if len(bypassed) > 0 && bypassed[0].Step >= 1 && bypassed[0].Step <= len(events) {
		stone := corpusRun{run: run, seed: seed, events: append([]interpose.Event(nil), events...), novel: bypassed[0].Step - 1,
			past: bypassed[0].Invariant}
		if len(g.stones) < corpusMax {
			g.stones = append(g.stones, stone)
		} else {
			g.stones[rand.New(rand.NewPCG(seed, uint64(run)^0x73746f6e65)).IntN(corpusMax)] = stone
		}
	}
	novel := -1
	last := map[int][2]string{}
	for i, e := range events {
		node, tok := token(e)
		if tok == "" {
			continue
		}
		l := last[node]
		if key := l[0] + "," + l[1] + "," + tok; !g.seen[key] {
			g.seen[key] = true
			if novel < 0 {
				novel = i
			}
		}
		last[node] = [2]string{l[1], tok}
	}
	if novel < 0 {
		return false
	}
	c := corpusRun{run: run, seed: seed, events: append([]interpose.Event(nil), events...), novel: novel}
	if len(g.corpus) < corpusMax {
		g.corpus = append(g.corpus, c)
	} else {
		g.corpus[rand.New(rand.NewPCG(seed, uint64(run))).IntN(corpusMax)] = c
	}
	return true
}

// token is what an event is at the node it happens to, for coverage: the
// type of a message delivered to it, the kind of a fault or operation on
// it; "" for an event of no one node (a partition) or of none that counts
// (a drop, a duplicate).
func token(e interpose.Event) (int, string) {
	switch e.Kind {
	case interpose.Deliver:
		if e.Msg == nil {
			return 0, ""
		}
		return e.Msg.To, e.Msg.Type
	case interpose.Crash, interpose.Recover, interpose.Start, interpose.Client, interpose.Membership, interpose.Transfer, interpose.Advance:
		return e.Node, string(e.Kind)
	case interpose.Choice:
		return e.Node, e.Data + "→" + e.Op
	case interpose.Disk:
		return e.Node, "disk " + e.Op
	}
	return 0, ""
}
