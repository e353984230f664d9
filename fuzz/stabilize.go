package fuzz

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/faultline-dev/faultline/interpose"
)

// defaultStabilize is the stabilization phase's bound: election timeouts
// of virtual time for a target with clocks, turns of each node for one
// whose timers are messages.
const defaultStabilize = 20

// maxRounds bounds the rounds of a phase whatever its bound in time: a
// leader whose clock moves a few milliseconds a round would take
// thousands.
const maxRounds = 4000

// stabilizer runs a run's stabilization phase after its walk.
type stabilizer struct {
	w       *walker
	ctl     *interpose.Controller
	buf     []interpose.Message
	elapsed time.Duration // the phase's virtual time so far (see tick)
	clock   map[int]time.Duration
}

// stabilize runs the stabilization phase: a Stabilize mark, then the faults
// healed (the partition, every node down recovered) and no new ones; then
// rounds, each delivering every message until the network is quiet (oldest
// first, every channel served, up to a bound), writing through the node
// that leads (or the next live one), and letting time pass (tick). It ends
// once bound election timeouts of virtual time have passed
// (spec.Config["election_timeout"], else one second; the leader's clock
// while there is one, else any node's), or each node had bound turns when
// the target's timers are messages, or as soon as no liveness monitor is
// hot. Everything it does is an event of the schedule, after the mark, so
// that a replay does it again.
func (w *walker) stabilize(ctl *interpose.Controller, spec interpose.TargetSpec, bound int) error {
	if bound <= 0 {
		bound = defaultStabilize
	}
	s := &stabilizer{w: w, ctl: ctl, clock: map[int]time.Duration{}}
	rounds, limit := bound*w.sys.Nodes(), time.Duration(0)
	if w.w.Advance > 0 {
		et, err := time.ParseDuration(spec.Config["election_timeout"])
		if err != nil || et <= 0 {
			et = time.Second
		}
		rounds, limit = maxRounds, time.Duration(bound)*et
	}
	if err := s.step(interpose.Event{Kind: interpose.Stabilize}); err != nil {
		return err
	}
	if w.cut {
		if err := s.step(interpose.Event{Kind: interpose.Heal}); err != nil {
			return err
		}
		w.cut = false
	}
	n := w.sys.Nodes()
	for id := 1; id <= n; id++ {
		if w.sys.State(id) == interpose.Down {
			if err := s.step(interpose.Event{Kind: interpose.Recover, Node: id}); err != nil {
				return err
			}
		}
	}
	ctl.Check()
	for round := 0; round < rounds && ctl.Hot() && (limit == 0 || s.elapsed < limit); round++ {
		if err := s.quiet(); err != nil {
			return err
		}
		if w.w.Client > 0 {
			if err := s.step(s.write(round)); err != nil {
				return err
			}
			if err := s.quiet(); err != nil {
				return err
			}
		}
		ctl.Check()
		if err := s.tick(round); err != nil {
			return err
		}
		ctl.Check()
	}
	return nil
}

// step applies an event; one that cannot happen now is passed over.
func (s *stabilizer) step(ev interpose.Event) error {
	if _, err := s.ctl.Step(ev); err != nil && !errors.Is(err, interpose.ErrNotEnabled) {
		return err
	}
	return nil
}

// quiet delivers the deliverable messages that are not timers, oldest
// first, until there are none, or a bound (a system that keeps talking
// without time passing must not hold the phase).
func (s *stabilizer) quiet() error {
	n := s.w.sys.Nodes()
	for budget := 4 * n * n * 8; budget > 0; {
		s.buf = append(s.buf[:0], s.w.sys.Pending()...)
		s.buf = slices.DeleteFunc(s.buf, func(m interpose.Message) bool { return !m.Deliverable || m.Timer })
		if len(s.buf) == 0 {
			return nil
		}
		slices.SortFunc(s.buf, func(a, b interpose.Message) int { return int(a.Seq - b.Seq) })
		for _, m := range s.buf {
			if budget--; budget < 0 {
				return nil
			}
			if err := s.step(interpose.Event{Kind: interpose.Deliver, Msg: &m.Msg}); err != nil {
				return err
			}
		}
	}
	return nil
}

// leader is the node whose facts, at the last check, say it leads the
// highest term, and that term (0: none).
func (s *stabilizer) leader() (int, uint64) {
	id, term := 0, uint64(0)
	for _, v := range s.ctl.Nodes() {
		if r, ok := interpose.RaftOf(v); ok && v.Up && r.Role == interpose.RoleLeader && (id == 0 || r.Term > term) {
			id, term = v.Node, r.Term
		}
	}
	return id, term
}

// write is the phase's client write of a round: through the leader, else
// through the live nodes in turn.
func (s *stabilizer) write(round int) interpose.Event {
	w := s.w
	w.writes++
	leader, _ := s.leader()
	ev := interpose.Event{Kind: interpose.Client, Node: leader}
	if len(w.clients) > 0 {
		ev.Data = w.clients[round%len(w.clients)]
	} else {
		ev.Data = "k0=" + strconv.Itoa(w.writes)
	}
	if ev.Node == 0 {
		var live []int
		for id := 1; id <= w.sys.Nodes(); id++ {
			if w.sys.State(id) == interpose.Up {
				live = append(live, id)
			}
		}
		if len(live) > 0 {
			ev.Node = live[round%len(live)]
		}
	}
	return ev
}

// tick lets time pass. With a leader: for the leader (its next heartbeat)
// and for every live node that does not follow it in its term (a candidate
// waits for its election timer: a real one fires); its followers need no
// time, as a real cluster's heartbeats keep their timers from firing. Without
// a leader: for one live node at a time, in turn, so that one candidate
// runs before the others time out (timeouts are random in a real cluster;
// here every node's next timer would fire at once and split the votes for
// ever), and every node gets its turn (a candidate whose log is behind
// cannot win). A node's time passes by an advance of its clock when the
// target has clocks (Weights.Advance), else by firing its oldest timer.
func (s *stabilizer) tick(round int) error {
	w := s.w
	var nodes []int
	leader, term := s.leader()
	defer func() {
		// The phase's time is its leader's (a transfer of leadership, say,
		// times out on its clock), or any node's while there is none: a
		// node outside the configuration advancing to its cap round after
		// round must not end the phase.
		if leader != 0 {
			s.elapsed = max(s.elapsed, s.clock[leader])
			return
		}
		for _, c := range s.clock {
			s.elapsed = max(s.elapsed, c)
		}
	}()
	if leader != 0 {
		nodes = append(nodes, leader)
		for _, v := range s.ctl.Nodes() {
			r, ok := interpose.RaftOf(v)
			if v.Up && v.Node != leader && (!ok || r.Role != interpose.RoleFollower || r.Term != term) {
				nodes = append(nodes, v.Node)
			}
		}
	} else {
		var live []int
		for n := 1; n <= w.sys.Nodes(); n++ {
			if w.sys.State(n) == interpose.Up {
				live = append(live, n)
			}
		}
		if len(live) == 0 {
			return nil
		}
		nodes = append(nodes, live[round%len(live)])
	}
	for _, id := range nodes {
		if err := s.pass(id); err != nil {
			return err
		}
	}
	return nil
}

// pass lets time pass for node id: an advance of its clock, or its oldest
// timer fired.
func (s *stabilizer) pass(id int) error {
	w := s.w
	if w.w.Advance > 0 {
		if err := s.step(interpose.Event{Kind: interpose.Advance, Node: id}); err != nil {
			return err
		}
		if ev := s.ctl.Event(s.ctl.Len() - 1); ev.Kind == interpose.Advance && ev.Node == id {
			s.clock[id] += ev.Took
		}
		return nil
	}
	var oldest *interpose.Message
	for _, m := range w.sys.Pending() {
		if m.Timer && m.Deliverable && m.Msg.To == id && (oldest == nil || m.Seq < oldest.Seq) {
			oldest = &m
		}
	}
	if oldest == nil {
		return nil
	}
	return s.step(interpose.Event{Kind: interpose.Deliver, Msg: &oldest.Msg})
}
