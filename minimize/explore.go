package minimize

import (
	"hash/fnv"
	"math/rand/v2"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// explore looks for another interleaving of a candidate's events that shows
// the violation, when replaying it diverged: it replays the candidate (with
// the type-only wildcard), then goes on with up to steps internal events,
// deliveries and clock advances chosen by a walk seeded from the candidate,
// as long as the violation does not show. It returns the schedule of the
// walk that shows it, or nil. This is a bounded random search, the stand-in
// for DEMi's DPOR phase until package dpor exists.
func (m *minimizer) explore(cand *interpose.Schedule, attempt, steps int) (*interpose.Schedule, error) {
	sys, err := m.target.Open(m.t, cand.Target)
	if err != nil {
		return nil, err
	}
	defer sys.Close()
	var check interpose.Checker
	if m.opts.Checker != nil {
		check = m.opts.Checker()
	} else {
		check = invariants.NewRaft()
	}
	ctl := interpose.NewController(sys, check, cand.Target)
	m.replays++
	if _, err := ctl.Replay(cand.Events, interpose.ReplayOptions{Wildcard: true, Expect: m.fp}); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(candidateSeed(cand), uint64(attempt)))
	var fps []interpose.Msg
	var up []int
	for range steps {
		if ctl.Seen(m.fp) != nil {
			break
		}
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
		var ev interpose.Event
		switch {
		case len(fps) > 0 && (len(up) == 0 || rng.IntN(5) > 0):
			msg := fps[rng.IntN(len(fps))]
			ev = interpose.Event{Kind: interpose.Deliver, Msg: &msg}
		case len(up) > 0:
			ev = interpose.Event{Kind: interpose.Advance, Node: up[rng.IntN(len(up))]}
		}
		if ev.Kind == "" {
			break // nothing can happen
		}
		if _, err := ctl.Step(ev); err != nil {
			continue
		}
	}
	ctl.Check()
	if v := ctl.Seen(m.fp); v != nil {
		s := ctl.Schedule()
		s.Violation = v
		return s, nil
	}
	return nil, nil
}

// candidateSeed derives the walk's seed from the candidate's events, so that
// one input always gets the same exploration.
func candidateSeed(s *interpose.Schedule) uint64 {
	h := fnv.New64a()
	for _, e := range s.Events {
		h.Write([]byte(e.Key()))
	}
	return h.Sum64()
}
