package interpose

import (
	"errors"
	"fmt"
	"slices"
)

// Controller applies events to a System one at a time, checks invariants at
// quiescent points and records the schedule of what it applied.
type Controller struct {
	sys   System
	check Checker
	// CheckEvery checks invariants after every CheckEvery events (0 or 1:
	// after every event). Observations between checks are kept, so nothing is
	// missed, only seen later.
	CheckEvery int
	// CheckFrom leaves invariants unchecked until CheckFrom events were
	// applied (observations are kept until then too).
	CheckFrom int

	sched       Schedule
	sinceCheck  int
	violation   *Violation
	all         []Violation
	stabilizing bool
	excused     []int // the node a phase keeps faulty for good, if any
	// results are the results client operations, membership changes and
	// transfers of the stabilization phase had when applied, for the next
	// check: a system that answers at once (interpose/actor) reports no
	// Completion for them, and the liveness monitors, which look only in
	// the phase, need them.
	results []Completion
	// history is the run's client history as the checks saw it (View.Ops),
	// histAt where each operation is in it.
	history []ClientOp
	histAt  map[int]int
}

// NewController returns a controller that records a schedule for spec.
func NewController(sys System, check Checker, spec TargetSpec) *Controller {
	return &Controller{
		sys:   sys,
		check: check,
		sched: Schedule{Version: Version, Target: spec},
	}
}

// System returns the controlled system.
func (c *Controller) System() System { return c.sys }

// Len is the number of events recorded so far.
func (c *Controller) Len() int { return len(c.sched.Events) }

// Reuse records the schedule in buf's storage (its events are cleared):
// the events of an earlier run the caller no longer needs, so that a run
// does not allocate its schedule anew. Call it before the first event.
func (c *Controller) Reuse(buf []Event) {
	clear(buf[:cap(buf)])
	c.sched.Events = buf[:0]
}

// Reserve makes room for n more events, so that a run of known length does
// not grow the schedule as it goes.
func (c *Controller) Reserve(n int) { c.sched.Events = slices.Grow(c.sched.Events, n) }

// Take returns the schedule recorded, as Schedule does, without copying its
// events: the controller must not be used afterwards.
func (c *Controller) Take() *Schedule {
	s := c.sched
	s.Final = CloneViews(s.Final)
	if c.violation != nil {
		v := *c.violation
		s.Violation = &v
	}
	s.History = c.historyFor(s.Violation)
	c.sched = Schedule{}
	c.history, c.histAt = nil, nil
	return &s
}

// Event returns the i-th event recorded (0-based), as it happened.
func (c *Controller) Event(i int) Event { return c.sched.Events[i] }

// Step applies ev. An event that cannot happen now returns an error wrapping
// ErrNotEnabled and is not recorded. After a recorded event, invariants are
// checked when CheckEvery says so; the first violation is kept (Violation).
func (c *Controller) Step(ev Event) (string, error) {
	idx := len(c.sched.Events)
	if ev.Kind == Stabilize {
		// A mark for the checker, not an event of the system.
		c.stabilizing = true
		ev.Result = ""
		if ev.Op != "" {
			c.excused = []int{ev.Node}
		}
	} else {
		var err error
		if ev, err = c.sys.Apply(idx, ev); err != nil {
			return "", err
		}
	}
	ev.Hint = 0
	c.sched.Events = append(c.sched.Events, ev)
	if c.stabilizing && ev.Result != "" {
		switch ev.Kind {
		case Client, Membership, Transfer:
			c.results = append(c.results, Completion{Index: idx, Node: ev.Node, Result: ev.Result})
		}
	}
	c.sinceCheck++
	if c.sinceCheck >= max(c.CheckEvery, 1) && len(c.sched.Events) >= c.CheckFrom {
		c.Check()
	}
	return ev.Result, nil
}

// Check checks invariants now and returns the first violation seen so far.
func (c *Controller) Check() *Violation {
	c.sinceCheck = 0
	v := c.sys.View()
	for i, comp := range v.Completions {
		if comp.Index >= 0 && comp.Index < len(c.sched.Events) {
			c.sched.Events[comp.Index].Result = comp.Result
			v.Completions[i].Node = c.sched.Events[comp.Index].Node
		}
	}
	// The views' facts may live in the system's storage, valid until its
	// next View: the controller is the one that calls View, and Schedule
	// and Take hand out owned copies, so no check pays for a copy.
	c.sched.Final = append(c.sched.Final[:0], v.Nodes...)
	for _, o := range v.Ops {
		if i, ok := c.histAt[o.Event]; ok {
			c.history[i] = o
			continue
		}
		if c.histAt == nil {
			c.histAt = map[int]int{}
		}
		c.histAt[o.Event] = len(c.history)
		c.history = append(c.history, o)
	}
	if c.check == nil {
		return c.violation
	}
	v.Step, v.Stabilizing, v.Excused = len(c.sched.Events), c.stabilizing, c.excused
	v.Completions = append(v.Completions, c.results...)
	c.results = c.results[:0]
	c.found(c.check.Check(v))
	return c.violation
}

// found records violations seen after the events applied so far.
func (c *Controller) found(vs []Violation) {
	for i := range vs {
		vs[i].Step = len(c.sched.Events)
	}
	c.all = append(c.all, vs...)
	if c.violation == nil && len(vs) > 0 {
		first := vs[0]
		c.violation = &first
		c.sched.Violation = c.violation
	}
}

// Nodes returns every node's view as of the last check (valid until the
// next), without taking a view of the system, which would consume its
// observations before the checker sees them.
func (c *Controller) Nodes() []NodeView { return c.sched.Final }

// Stabilizing reports whether the run's stabilization phase has begun.
func (c *Controller) Stabilizing() bool { return c.stabilizing }

// Hot reports whether a liveness monitor of the checker is hot, as of the
// last check (false for a checker that has none).
func (c *Controller) Hot() bool {
	s, ok := c.check.(Settler)
	return ok && s.Hot()
}

// Settle ends a run: it checks once more, makes a Finalizer's final check
// (and a SystemFinalizer's), and, when the run's stabilization phase has
// begun, records a violation for each liveness monitor still hot. It
// returns the first violation seen.
func (c *Controller) Settle() *Violation {
	c.Check()
	if f, ok := c.check.(Finalizer); ok {
		c.found(f.Final())
	}
	if f, ok := c.sys.(SystemFinalizer); ok {
		c.found(f.Final())
	}
	if !c.stabilizing {
		return c.violation
	}
	if s, ok := c.check.(Settler); ok {
		c.found(s.Settle())
	}
	return c.violation
}

// Finish ends a run: Settle, then, when the system is a Stopper, its nodes
// stopped and what that found recorded (a node that cannot stop). Walks and
// replays call it last, so that both judge the same.
func (c *Controller) Finish() *Violation {
	c.Settle()
	if s, ok := c.sys.(Stopper); ok {
		c.found(s.Stop())
	}
	return c.violation
}

// Violation returns the first violation seen, or nil.
func (c *Controller) Violation() *Violation { return c.violation }

// Violations returns every violation seen, in order.
func (c *Controller) Violations() []Violation { return c.all }

// Seen returns the first violation seen with fingerprint fp, or nil.
func (c *Controller) Seen(fp string) *Violation {
	for i := range c.all {
		if c.all[i].Fingerprint == fp {
			v := c.all[i]
			return &v
		}
	}
	return nil
}

// Schedule returns the schedule recorded so far, with the first violation and
// the nodes' state at the last check. It is a copy.
func (c *Controller) Schedule() *Schedule {
	s := c.sched
	s.Events = slices.Clone(s.Events)
	s.Final = CloneViews(s.Final)
	if c.violation != nil {
		v := *c.violation
		s.Violation = &v
	}
	s.History = c.historyFor(s.Violation)
	return &s
}

// historyFor is the client history to keep in a schedule whose violation
// is v: a copy, when v is about the history; none otherwise.
func (c *Controller) historyFor(v *Violation) []ClientOp {
	if v == nil || v.Invariant != LinearizabilityName || len(c.history) == 0 {
		return nil
	}
	return slices.Clone(c.history)
}

// LinearizabilityName is the violation a client history breaks
// (invariants.Linearizability).
const LinearizabilityName = "Linearizability"

// ReplayOptions tunes Replay. The zero value checks after every event and
// stops at the first violation.
type ReplayOptions struct {
	// CheckEvery and CheckFrom are passed to the controller (0: every
	// event, from the first).
	CheckEvery, CheckFrom int
	// KeepGoing replays the whole schedule even after a violation.
	KeepGoing bool
	// Expect, if set, is the fingerprint the replay looks for: it goes on
	// past other violations and stops at the first with this fingerprint,
	// which becomes the result's violation. A schedule found checking every
	// N events may show another violation first when every event is checked.
	Expect string
	// Wildcard delivers (drops, duplicates), for a recorded message whose
	// fingerprint is not pending, a pending message with the same type,
	// source and destination, as DEMi's wildcard passes do: the one whose
	// key shares the most fields with the recorded one, then the oldest
	// (Candidates). An advance stops at the node's next message of the
	// recorded one's type and destination (WildAdvance). The schedule
	// replayed records the messages actually delivered.
	Wildcard bool
	// Timed replays each advance by the duration it took when recorded
	// (Event.Took) rather than until its node sends the recorded message.
	// It suits replaying a schedule as it was recorded; a schedule with
	// events removed (a minimizer's candidate) should not be timed, since
	// its timers no longer fire when they did. Ignored with Wildcard.
	Timed bool
	// Stabilize, if set, runs a stabilization phase after the events
	// (Controller.Stabilize): how a minimizer judges a candidate for a
	// liveness violation, whose phase it makes again rather than replays.
	Stabilize *StabilizeOptions
}

// ReplayResult is what a replay did.
type ReplayResult struct {
	// Violation is the first violation seen, or nil.
	Violation *Violation
	// Applied and Skipped count the events of the input that were applied
	// and skipped (their message never appeared, or their node was down);
	// Wildcards counts the deliveries matched by type only.
	Applied, Skipped, Wildcards int
	// Schedule is what was actually applied.
	Schedule *Schedule
}

// Reproduced reports whether the replay showed a violation with fingerprint fp.
func (r *ReplayResult) Reproduced(fp string) bool {
	return r.Violation != nil && r.Violation.Fingerprint == fp
}

// Replay applies the events of s to sys DEMi's way: for each recorded delivery,
// deliver the pending message with the same fingerprint; skip a recorded event
// that cannot happen (a message that never appears, a node that is down).
// It ends the run with Controller.Finish, as a walk does: a Stopper has its
// nodes stopped, and takes no event after it.
func Replay(sys System, check Checker, s *Schedule, opts ReplayOptions) (*ReplayResult, error) {
	ctl := NewController(sys, check, s.Target)
	ctl.CheckEvery, ctl.CheckFrom = opts.CheckEvery, opts.CheckFrom
	res, err := ctl.Replay(s.Events, opts)
	if err != nil {
		return nil, err
	}
	if opts.Stabilize != nil && (opts.Expect == "" && ctl.Violation() == nil || opts.Expect != "" && ctl.Seen(opts.Expect) == nil) {
		if err := ctl.Stabilize(*opts.Stabilize); err != nil {
			return nil, fmt.Errorf("replay: stabilizing: %w", err)
		}
	}
	ctl.Finish()
	res.Violation = ctl.Violation()
	res.Schedule = ctl.Schedule()
	if v := ctl.Seen(opts.Expect); opts.Expect != "" && v != nil {
		res.Violation = v
		res.Schedule.Violation = v
	}
	return res, nil
}

// Replay applies recorded events through the controller as Replay does,
// stopping at the first violation unless opts.KeepGoing; the caller may go
// on stepping the controller afterwards. The result's Violation and Schedule
// are left for the caller to read from the controller.
func (c *Controller) Replay(events []Event, opts ReplayOptions) (*ReplayResult, error) {
	res := &ReplayResult{}
	for i, ev := range events {
		ev.Result = ""
		if (!opts.Timed || opts.Wildcard) && ev.UntilN >= 0 {
			ev.Took = 0 // an advance to its cap keeps its own: the cap
		}
		if opts.Wildcard {
			ev = WildAdvance(c.sys.Pending(), ev)
		}
		_, err := c.Step(ev)
		if errors.Is(err, ErrNotEnabled) && opts.Wildcard && ev.Msg != nil && ev.Msg.Key != "" {
			if cands := Candidates(c.sys.Pending(), ev); len(cands) > 0 {
				ev.Msg = &cands[0]
				if _, err = c.Step(ev); err == nil {
					res.Wildcards++
				}
			}
		}
		if err != nil {
			if errors.Is(err, ErrNotEnabled) {
				res.Skipped++
				continue
			}
			return nil, fmt.Errorf("replay event %d (%s): %w", i+1, ev.Kind, err)
		}
		res.Applied++
		if opts.KeepGoing {
			continue
		}
		if opts.Expect == "" && c.Violation() != nil || opts.Expect != "" && c.Seen(opts.Expect) != nil {
			break
		}
	}
	return res, nil
}
