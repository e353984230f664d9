package minimize

import (
	"hash/fnv"
	"math/rand/v2"

	"github.com/faultline-dev/faultline/dpor"
	"github.com/faultline-dev/faultline/interpose"
)

// dporExtend bounds the events of the walk after a plan's, in each
// execution of the DPOR search for another interleaving.
const dporExtend = 40

// search looks for another interleaving of a candidate's events that shows
// the violation, when replaying it exactly did not: package dpor executes it
// DEMi's way (the type-only wildcard, ambiguous matches kept as backtrack
// points), then reorders racing deliveries and timer firings, nearest to
// the candidate first, within runs executions. It returns the schedule of
// the execution that shows the violation, cut there, or nil.
func (m *minimizer) search(cand *interpose.Schedule, runs int) (*interpose.Schedule, error) {
	open := m.opener(cand)
	var seen *interpose.Violation
	res, err := dpor.Explore(open, cand.Events, dpor.Options{
		Runs:     runs,
		Deadline: m.deadline,
		Extend:   dporExtend,
		Choose:   walker(candidateSeed(cand)),
		Wildcard: true,
		Stop: func(c *interpose.Controller) bool {
			seen = c.Seen(m.fp)
			return seen != nil
		},
	})
	m.searches++
	if err != nil || res.Found == nil {
		return nil, err
	}
	// The execution's first violation may be another one; the schedule
	// records the one looked for.
	res.Found.Violation = seen
	// A new interleaving counts once it replays: one that showed the
	// violation by a chance of the runtime's scheduling would make every
	// later step flaky.
	r, err := m.replay(res.Found, false)
	if err != nil || !m.shows(r) {
		return nil, err
	}
	m.searchFound++
	return r.Schedule, nil
}

// walker returns, for each execution of a search, a seeded random walk over
// the pending deliveries (four times in five) and the up nodes' clock
// advances: after the reordered plan, the search goes on as the fuzzer
// would, differently in each execution and the same way for one candidate.
func walker(seed uint64) func(run int) dpor.Chooser {
	return func(run int) dpor.Chooser {
		rng := rand.New(rand.NewPCG(seed, uint64(run)))
		var fps []interpose.Msg
		var up []int
		return func(sys interpose.System) (interpose.Event, bool) {
			fps = fps[:0]
			for _, p := range sys.Pending() {
				if p.Deliverable && (len(fps) == 0 || fps[len(fps)-1] != p.Msg) {
					fps = append(fps, p.Msg)
				}
			}
			up = up[:0]
			for n := 1; n <= sys.Nodes(); n++ {
				if sys.State(n) == interpose.Up {
					up = append(up, n)
				}
			}
			switch {
			case len(fps) > 0 && (len(up) == 0 || rng.IntN(5) > 0):
				msg := fps[rng.IntN(len(fps))]
				return interpose.Event{Kind: interpose.Deliver, Msg: &msg}, true
			case len(up) > 0:
				return interpose.Event{Kind: interpose.Advance, Node: up[rng.IntN(len(up))]}, true
			}
			return interpose.Event{}, false
		}
	}
}

// candidateSeed derives a key from the candidate's events, by which the
// command's worker recovery knows a candidate.
func candidateSeed(s *interpose.Schedule) uint64 {
	h := fnv.New64a()
	for _, e := range s.Events {
		h.Write([]byte(e.Key()))
	}
	return h.Sum64()
}
