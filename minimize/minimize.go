package minimize

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/ddmin"
	"github.com/faultline-dev/faultline/dpor"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// Options bound and tune a minimization. The zero value runs every phase
// with k = 2 replays per candidate (one exact, one with the wildcard), a
// final check of 20 replays and a budget of ten minutes.
type Options struct {
	// Budget bounds the wall-clock time (0: ten minutes). When it runs out
	// the smallest schedule found so far is returned, with Complete false.
	Budget time.Duration
	// Replays is k: a candidate reproduces when any of k replays shows the
	// violation's fingerprint (0: 2). Replays alternate exact and wildcard.
	Replays int
	// FinalRuns is the number of replays of the result's final check (0: 20).
	FinalRuns int
	// DPOR is how many executions package dpor may spend on a candidate
	// that did not reproduce by exact replay, the first being its replay
	// with the type-only wildcard; the others reorder racing deliveries and
	// timer firings, nearest to the candidate first (0: 3; negative: no
	// search, the k replays alternate exact and wildcard instead). Larger
	// budgets were measured to be slower and no smaller: an interleaving
	// found far from the candidate often leads into a worse local minimum.
	DPOR int
	// ExternalsOnly runs only ddmin over external events, without the
	// wildcard, the internal phases or the node shrink: DEMi's first phase
	// alone, for comparison.
	ExternalsOnly bool
	// Checker returns the checker of one replay (nil: invariants.NewRaft).
	Checker func() interpose.Checker
	// Progress, if set, is called at the end of each phase.
	Progress func(interpose.PhaseStat)
	// Command is recorded in the result's origin.
	Command string

	// Crash minimizes a violation that crashes the process (a panic in
	// raft's own goroutines): a candidate reproduces only by crashing the
	// process, which the caller's supervisor sees, with the candidate that
	// Before was given, and adopts by resuming a new process from it. Here
	// a candidate that replays without crashing does not reproduce. Each
	// candidate is replayed once, exactly, and the final check is the
	// supervisor's (Result.Runs stays 0).
	Crash bool

	// Resume, if set, is where a minimization interrupted by a crash stood:
	// it starts from there instead of from the input.
	Resume *Checkpoint
	// Skip, if set, is asked before each candidate is replayed, by the
	// candidate's key; a candidate it skips counts as not reproducing (the
	// command skips candidates that crashed a worker process).
	Skip func(key uint64) bool
	// Before, if set, is told each candidate, and its key, before its
	// replay; Adopt each schedule adopted, with the phases so far.
	Before func(key uint64, cand *interpose.Schedule)
	Adopt  func(Checkpoint)
}

// Checkpoint is the state of a minimization: the current schedule and the
// phases run so far.
type Checkpoint struct {
	Schedule *interpose.Schedule   `json:"schedule"`
	Phases   []interpose.PhaseStat `json:"phases"`
	Replays  int                   `json:"replays"`
	// Phase is the phase in progress ("" between phases): what a
	// supervisor shows as progress.
	Phase string `json:"phase,omitempty"`
}

// Result is a minimization's outcome.
type Result struct {
	// Schedule is the minimized schedule (the input when Flaky).
	Schedule *interpose.Schedule `json:"-"`
	interpose.Minimization
	Fingerprint string `json:"fingerprint"`
	// Flaky is set when the input did not reproduce in k replays: it was not
	// minimized.
	Flaky bool `json:"flaky"`
	// Complete is false when the budget ran out.
	Complete bool `json:"complete"`
	// HeldTo is the known upstream bug every accepted candidate was still
	// labelled with, when the input's label rests on its cause
	// (invariants.KnownBug State or Phase: a liveness monitor's name is
	// shared by every cause).
	HeldTo string `json:"held_to,omitempty"`
	// DPORSearches counts the DPOR searches for candidates that did not
	// reproduce by exact replay; DPORFound those that found an interleaving
	// showing the violation that then replayed.
	DPORSearches int `json:"dpor_searches"`
	DPORFound    int `json:"dpor_found"`
}

type minimizer struct {
	t        *testing.T
	target   interpose.Target
	opts     Options
	fp       string
	k        int
	cur      *interpose.Schedule
	replays  int
	deadline time.Time
	start    time.Time
	phases   []interpose.PhaseStat
	inPhase  string // the phase in progress, for Options.Adopt
	liveness bool   // the input has a stabilization phase: its checks judge liveness too
	// stab makes the stabilization phase of a liveness violation again
	// after each candidate, which holds only the events before it.
	stab *interpose.StabilizeOptions
	out  bool
	// timed replays advance clocks by their recorded durations: for a
	// schedule with storage faults, whose sleeps move when an advance
	// "until the node sends X" ends.
	timed bool
	// bug is the known upstream bug the input is labelled with when its
	// label rests on more than the fingerprint (a liveness monitor's name,
	// shared by every cause: KnownBug.State, KnownBug.Phase); a candidate
	// reproduces only when it is still labelled so, so that a shorter
	// schedule of another cause is not adopted.
	bug string

	searches, searchFound int
}

// Minimize shrinks a violating schedule of target to a schedule that shows
// the same violation fingerprint. Every accepted step reproduces in at least
// one of k replays; the result is checked again with FinalRuns replays.
func Minimize(t *testing.T, target interpose.Target, s *interpose.Schedule, opts Options) (*Result, error) {
	if s.Violation == nil {
		return nil, fmt.Errorf("minimize: the schedule shows no violation")
	}
	if s.Target.Name != target.Name() {
		return nil, fmt.Errorf("minimize: schedule is for target %q, not %q", s.Target.Name, target.Name())
	}
	input := s // what the result's origin names
	var stab *interpose.StabilizeOptions
	if strings.HasPrefix(s.Violation.Invariant, invariants.LivenessPrefix) && (s.Stabilizes() || s.Violation.Invariant != interpose.Stuck) {
		// A liveness violation is judged at the end of a stabilization
		// phase, which must not be cut short: the candidates are the events
		// before it, and each is judged by making the phase again after
		// them. (A node stuck before any phase is minimized as a safety
		// violation is: it needs no phase.)
		pre, o, ok := interpose.PhaseOf(s)
		if !ok {
			return nil, fmt.Errorf("minimize: %s without a stabilization phase", s.Violation.Invariant)
		}
		stab = &o
		cut := *s
		cut.Events = pre
		s = &cut
		opts.DPOR = -1 // its executions have no phase
	}
	if s.Violation.Crash && !opts.Crash {
		return nil, fmt.Errorf("minimize: the violation crashed the process; it is minimized in worker processes (faultline minimize)")
	}
	if opts.Crash {
		opts.Replays, opts.DPOR = 1, -1
	}
	if h, ok := target.(interpose.Holder); ok {
		defer h.Hold()()
	}
	budget := opts.Budget
	if budget <= 0 {
		budget = 10 * time.Minute
	}
	m := &minimizer{t: t, target: target, opts: opts, fp: s.Violation.Fingerprint, k: opts.Replays, start: time.Now(),
		liveness: s.Stabilizes() || stab != nil, stab: stab,
		timed: slices.ContainsFunc(s.Events, func(e interpose.Event) bool { return e.Kind == interpose.Disk })}
	if m.k <= 0 {
		m.k = 2
	}
	if b, ok := invariants.UpstreamIn(input); ok && b.ByCause() {
		m.bug = b.ID // judged on the input as given: with its phase
	}
	m.deadline = m.start.Add(budget)
	res := &Result{Fingerprint: m.fp, HeldTo: m.bug}
	res.InitialEvents, res.InitialExternals = len(s.Events), s.Externals()

	if r := opts.Resume; r != nil && r.Schedule != nil {
		m.cur, m.phases, m.replays = r.Schedule, r.Phases, r.Replays
	} else {
		first, err := m.tryOn(interpose.Schedule{Version: interpose.Version, Target: s.Target, Events: s.Events})
		if err != nil {
			return nil, err
		}
		if first == nil {
			res.Schedule, res.Flaky = s, true
			m.finish(res, input)
			return res, nil
		}
		m.cur = first
		m.phase("replay", func() error { return nil })
	}
	phases := []struct {
		name string
		f    func() error
	}{{"externals", m.externals}}
	if !opts.ExternalsOnly {
		// Internal events first: on a long failure most events are
		// internal, and every candidate of ddmin over the externals replays
		// all of them.
		phases = []struct {
			name string
			f    func() error
		}{{"prefixes", m.prefixes}, {"term clusters", m.terms}, {"internals", m.internals}, {"subtrees", m.subtrees},
			{"externals", m.externals}, {"nodes", m.nodes},
			{"chunks", m.chunks}, {"internals ddmin", m.internalsDDMin}, {"contents", m.contents}}
	}
	for !m.out {
		before := len(m.cur.Events)
		for _, p := range phases {
			if err := m.phase(p.name, p.f); err != nil {
				return nil, err
			}
		}
		if len(m.cur.Events) >= before || opts.ExternalsOnly {
			break
		}
	}
	res.Schedule = m.cur
	res.Complete = !m.out
	m.finish(res, input)
	return res, nil
}

// finish runs the final check and fills in the statistics.
func (m *minimizer) finish(res *Result, input *interpose.Schedule) {
	final := res.Schedule
	runs := m.opts.FinalRuns
	if runs <= 0 {
		runs = 20
	}
	if m.stab != nil && !res.Flaky && !final.Stabilizes() {
		// The result is the events before the phase, and the phase made
		// again after them: a schedule that replays as recorded. A
		// flaky violation (one that shows in some executions only) may
		// take a few tries; one that never shows again leaves the input
		// as the result, flaky, rather than events without their phase.
		made := false
		for range max(runs, 20) {
			if r, err := m.replay(final, false); err == nil && m.shows(r) {
				final, made = r.Schedule, true
				break
			}
		}
		if !made {
			final, res.Schedule, res.Flaky = input, input, true
		}
	}
	if m.opts.Crash {
		runs = 0 // each would end the process: the supervisor checks
	}
	for range runs {
		r, err := m.replay(final, false)
		res.Runs++
		if err == nil && m.shows(r) {
			res.Reproduced++
		}
	}
	res.Replays = m.replays
	res.DPORSearches, res.DPORFound = m.searches, m.searchFound
	res.ElapsedS = time.Since(m.start).Seconds()
	res.Phases = m.phases
	res.MinimizedEvents, res.MinimizedExternals = len(final.Events), final.Externals()
	if pre, _, ok := interpose.PhaseOf(final); ok && m.stab != nil {
		// Counted as the input was: the events before the phase.
		before := interpose.Schedule{Events: pre}
		res.MinimizedEvents, res.MinimizedExternals = len(pre), before.Externals()
		res.PhaseEvents = len(final.Events) - len(pre)
	}
	if res.Flaky {
		return
	}
	res.Minimization.Flaky = res.Reproduced < res.Runs
	out := *final
	out.Origin = &interpose.Origin{Command: m.opts.Command, Parent: input.Hash()}
	if o := input.Origin; o != nil {
		// Where the failure was found stays known: its seed, run and
		// strategy.
		out.Origin.FuzzSeed, out.Origin.Run, out.Origin.Strategy = o.FuzzSeed, o.Run, o.Strategy
	}
	mz := res.Minimization
	out.Minimization = &mz
	res.Schedule = &out
}

// phase runs one phase and records its statistics.
func (m *minimizer) phase(name string, f func() error) error {
	start, replays := time.Now(), m.replays
	m.inPhase = name
	m.adopt(m.cur) // tells Options.Adopt which phase runs now
	if err := f(); err != nil {
		return err
	}
	m.inPhase = ""
	p := interpose.PhaseStat{Name: name, EventsAfter: len(m.cur.Events), Replays: m.replays - replays,
		ElapsedS: time.Since(start).Seconds()}
	m.phases = append(m.phases, p)
	if m.opts.Progress != nil {
		m.opts.Progress(p)
	}
	m.adopt(m.cur)
	return nil
}

// adopt makes s the current schedule and tells Options.Adopt.
func (m *minimizer) adopt(s *interpose.Schedule) {
	m.cur = s
	if m.opts.Adopt != nil {
		m.opts.Adopt(Checkpoint{Schedule: s, Phases: m.phases, Replays: m.replays, Phase: m.inPhase})
	}
}

// announce asks Options.Skip about a candidate and tells Options.Before; it
// reports whether the candidate may be replayed.
func (m *minimizer) announce(cand *interpose.Schedule) bool {
	if m.opts.Skip == nil && m.opts.Before == nil {
		return true
	}
	key := candidateSeed(cand)
	if m.opts.Skip != nil && m.opts.Skip(key) {
		return false
	}
	if m.opts.Before != nil {
		m.opts.Before(key, cand)
	}
	return true
}

func (m *minimizer) expired() bool {
	if !m.out && time.Now().After(m.deadline) {
		m.out = true
	}
	return m.out
}

// replay replays a schedule once on a fresh system.
func (m *minimizer) replay(s *interpose.Schedule, wildcard bool) (*interpose.ReplayResult, error) {
	sys, err := m.target.Open(m.t, s.Target)
	if err != nil {
		return nil, fmt.Errorf("minimize: %w", err)
	}
	ro := interpose.ReplayOptions{Wildcard: wildcard, Expect: m.fp, Timed: m.timed}
	if m.stab != nil && !s.Stabilizes() {
		ro.Stabilize = m.stab
	}
	r, err := interpose.Replay(sys, m.checker(), s, ro)
	cerr := sys.Close()
	m.replays++
	if err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, fmt.Errorf("minimize: %w", cerr)
	}
	return r, nil
}

// shows reports whether a replay showed the violation looked for, and,
// for an input labelled by its cause (m.bug), the same known bug.
func (m *minimizer) shows(r *interpose.ReplayResult) bool {
	if !r.Reproduced(m.fp) {
		return false
	}
	if m.bug == "" {
		return true
	}
	b, ok := invariants.UpstreamIn(r.Schedule)
	return ok && b.ID == m.bug
}

// checker returns the checker of one execution.
func (m *minimizer) checker() interpose.Checker {
	return invariants.CheckerFor(m.target, m.opts.Checker, m.liveness)
}

// trim cuts a schedule that reproduced a liveness violation before its
// stabilization phase: what the next candidates are made of.
func (m *minimizer) trim(s *interpose.Schedule) *interpose.Schedule {
	if m.stab == nil {
		return s
	}
	pre, _, _ := interpose.PhaseOf(s)
	cut := *s
	cut.Events = pre
	return &cut
}

// tryOn judges a candidate and returns the schedule of the first execution
// that shows the fingerprint (what was actually applied, up to the
// violation), or nil. It replays the candidate k times, exactly and with
// the type-only wildcard in turn; when a DPOR search is allowed, the last
// of the k (or, for k = 1, one more) is package dpor's search, whose first
// execution is a wildcard replay and whose others reorder its races.
func (m *minimizer) tryOn(cand interpose.Schedule) (*interpose.Schedule, error) {
	if !m.announce(&cand) {
		return nil, nil
	}
	search := m.opts.DPOR
	if search == 0 {
		search = 3
	}
	if m.opts.ExternalsOnly || m.cur == nil { // the input must reproduce by replay
		search = -1
	}
	k := m.k
	if m.opts.Crash && m.cur == nil {
		k = 3 // a crash may need a few tries to show: give the input three
	}
	for i := range k {
		if m.expired() {
			return nil, nil
		}
		if i > 0 && i == k-1 && search > 0 {
			return m.search(&cand, search) // its first execution is a wildcard replay
		}
		wildcard := i%2 == 1 && !m.opts.ExternalsOnly
		r, err := m.replay(&cand, wildcard)
		if err != nil {
			return nil, err
		}
		if m.shows(r) {
			return m.trim(r.Schedule), nil
		}
	}
	if search > 0 && !m.expired() {
		return m.search(&cand, search)
	}
	return nil, nil
}

// reduce runs ddmin over the events of the current schedule that sel
// picks, keeping every other event. As soon as a candidate reproduces with a
// schedule a fifth shorter (events that could no longer happen drop out of a
// replay), ddmin starts again on that schedule: it would restart at
// granularity 2 after a success anyway, and every later replay is shorter.
func (m *minimizer) reduce(sel func(interpose.Event) bool) error {
	for !m.expired() {
		base := m.cur
		var idx []int
		for i, e := range base.Events {
			if sel(e) {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return nil
		}
		var failure error
		var shorter, best *interpose.Schedule
		test := func(subset []int) ddmin.Outcome {
			in := make([]bool, len(base.Events))
			for _, i := range subset {
				in[i] = true
			}
			var events []interpose.Event
			for i, e := range base.Events {
				if !sel(e) || in[i] {
					e.Result = ""
					events = append(events, e)
				}
			}
			got, err := m.tryWith(base, events)
			switch {
			case err != nil:
				failure = err
				return ddmin.Unresolved
			case got == nil:
				return ddmin.Pass
			}
			if len(got.Events) <= len(base.Events)*4/5 {
				shorter = got // a fifth shorter at least: worth starting again
			} else if best == nil || len(got.Events) < len(best.Events) {
				best = got
			}
			return ddmin.Fail
		}
		stop := func() bool { return failure != nil || shorter != nil || m.expired() }
		ddmin.Minimize(idx, test, ddmin.Options{Stop: stop})
		if failure != nil {
			return failure
		}
		if shorter == nil {
			if best != nil && len(best.Events) < len(m.cur.Events) {
				m.adopt(best)
			}
			return nil // 1-minimal over what sel picks
		}
		m.adopt(shorter)
	}
	return nil
}

func (m *minimizer) tryWith(base *interpose.Schedule, events []interpose.Event) (*interpose.Schedule, error) {
	return m.tryOn(interpose.Schedule{Version: interpose.Version, Target: base.Target, Events: events})
}

// externals is ddmin over the external events (crashes, recoveries, client
// operations, partitions, membership changes, transfers, starts).
func (m *minimizer) externals() error {
	return m.reduce(func(e interpose.Event) bool { return e.Kind.External() })
}

// internals removes deliveries, drops, duplicates and clock advances one at
// a time, latest first, as DEMi does: a removal that still reproduces also
// takes out whatever depended on the event (its messages never appear), and
// one that does not costs a single candidate. ddmin, tried here, spends most
// of its tests on large chunks that cannot go.
func (m *minimizer) internals() error {
	return m.removeEach(func(e interpose.Event) bool { return !e.Kind.External() })
}

// removeEach tries to remove each event sel picks, from the last to the
// first, adopting every smaller schedule that reproduces.
func (m *minimizer) removeEach(sel func(interpose.Event) bool) error {
	for i := len(m.cur.Events) - 1; i >= 0 && !m.expired(); i-- {
		if i >= len(m.cur.Events) || !sel(m.cur.Events[i]) {
			continue
		}
		if err := m.tryWithout(func(j int, _ interpose.Event) bool { return j == i }); err != nil {
			return err
		}
	}
	return nil
}

// chunkEvents is the longest schedule the chunks phase works on: it costs
// about twice as many candidates as there are events.
const chunkEvents = 400

// chunks removes runs of consecutive events, of every kind at once: halves,
// then quarters, and so on down to pairs, latest first, adopting every
// smaller schedule that reproduces; this is the complement half of ddmin
// over the whole schedule. It gets out of minima where no single event can
// go, because what one event starts (a client operation and its
// replication, an election) must go with it.
func (m *minimizer) chunks() error {
	if len(m.cur.Events) > chunkEvents {
		return nil
	}
	for parts := 2; !m.expired(); parts *= 2 {
		n := len(m.cur.Events)
		size := n / parts
		if size < 2 {
			return nil
		}
		for end := n; end-size >= 0 && !m.expired(); end -= size {
			if end > len(m.cur.Events) {
				end = len(m.cur.Events)
			}
			lo := max(end-size, 0)
			if err := m.tryWithout(func(i int, _ interpose.Event) bool { return i >= lo && i < end }); err != nil {
				return err
			}
		}
	}
	return nil
}

// subtrees removes, latest first, each internal event together with every
// event that follows from it: the deliveries of the messages it sent, of
// the messages those sent, and so on. Removing the event alone is not
// enough when the wildcard matches its descendants with other messages of
// their type (a stale election's RequestVotes answered as if they were the
// live election's). On schedules of at most pairEvents events it then tries
// pairs of such subtrees whose roots happen at one node (a stale election
// of a node and a delivery it would now take in another term). Causality
// comes from one exact replay of the current schedule; the phase stops if
// that replay diverges.
func (m *minimizer) subtrees() error {
	var senders []int
	var of *interpose.Schedule
	// causes refreshes senders for the current schedule; false when its
	// exact replay diverges.
	causes := func() (bool, error) {
		if of == m.cur {
			return true, nil
		}
		applied, s, err := dpor.Causes(m.opener(m.cur), m.cur.Events, false)
		if err != nil || len(applied) != len(m.cur.Events) {
			return false, err
		}
		senders, of = s, m.cur
		return true, nil
	}
	subtree := func(in []bool, root int) {
		in[root] = true
		for j := root + 1; j < len(senders); j++ {
			in[j] = in[j] || senders[j] >= 0 && in[senders[j]]
		}
	}
	for i := len(m.cur.Events) - 1; i >= 0 && !m.expired(); i-- {
		if i >= len(m.cur.Events) || m.cur.Events[i].Kind.External() {
			continue
		}
		if ok, err := causes(); !ok || err != nil {
			return err
		}
		in := make([]bool, len(senders))
		subtree(in, i)
		if err := m.tryWithout(func(j int, _ interpose.Event) bool { return in[j] }); err != nil {
			return err
		}
	}
	if len(m.cur.Events) > pairEvents {
		return nil
	}
	for i := len(m.cur.Events) - 1; i >= 0 && !m.expired(); i-- {
		for k := i + 1; k < len(m.cur.Events) && !m.expired(); k++ {
			if i >= len(m.cur.Events) || k >= len(m.cur.Events) {
				break
			}
			ei, ek := m.cur.Events[i], m.cur.Events[k]
			if ei.Kind.External() || ek.Kind.External() || ei.At() != ek.At() {
				continue
			}
			if ok, err := causes(); !ok || err != nil {
				return err
			}
			in := make([]bool, len(senders))
			subtree(in, i)
			if in[k] {
				continue // one subtree: tried above
			}
			subtree(in, k)
			before := m.cur
			if err := m.tryWithout(func(j int, _ interpose.Event) bool { return in[j] }); err != nil {
				return err
			}
			if m.cur != before {
				break // indexes moved: go on with the next root
			}
		}
	}
	return nil
}

// pairEvents is the longest schedule on which subtrees tries pairs.
const pairEvents = 100

// opener returns what package dpor needs to open a fresh system for s,
// counting each execution as a replay.
func (m *minimizer) opener(s *interpose.Schedule) dpor.Open {
	return func() (*interpose.Controller, error) {
		sys, err := m.target.Open(m.t, s.Target)
		if err != nil {
			return nil, err
		}
		m.replays++
		return interpose.NewController(sys, m.checker(), s.Target), nil
	}
}

// internalsDDMin is ddmin over the internal events, for schedules short
// enough (chunkEvents) that its quadratic worst case is affordable: it finds
// sets of deliveries that can only go together, such as the rounds before
// the failing one and a stale vote that would otherwise shift one node's
// term.
func (m *minimizer) internalsDDMin() error {
	if len(m.cur.Events) > chunkEvents {
		return nil
	}
	return m.reduce(func(e interpose.Event) bool { return !e.Kind.External() })
}

// prefixes removes the earliest internal events, as many as it can (with
// the external events among them, else without), largest first, adopting
// the first that reproduces, and again from there. A failure usually needs
// only its last few rounds; what came before (elections that changed
// nothing but the term) can go at once, where one event at a time would
// leave the nodes in different terms.
func (m *minimizer) prefixes() error {
	for !m.expired() {
		var internal []int
		for i, e := range m.cur.Events {
			if !e.Kind.External() {
				internal = append(internal, i)
			}
		}
		adopted := false
		before := len(m.cur.Events)
		for _, k := range prefixSizes(len(internal)) {
			if m.expired() {
				return nil
			}
			first, cut := internal[0], internal[k-1]
			// Everything from the first internal event to the cut (the
			// client operations there too; the starts and configuration
			// before it stay), else only the internal events.
			for _, all := range []bool{true, false} {
				if err := m.tryWithout(func(i int, e interpose.Event) bool {
					return i >= first && i <= cut && (all || !e.Kind.External())
				}); err != nil {
					return err
				}
				if len(m.cur.Events) < before {
					adopted = true
					break
				}
			}
			if adopted {
				break
			}
		}
		if !adopted {
			return nil
		}
	}
	return nil
}

// prefixSizes are the numbers of leading internal events prefixes tries to
// remove, out of n, largest first: every one from n-1 down to 2 when n is at
// most chunkEvents (which run can go is not monotone in its length: the
// nodes' terms must still line up), else n-1, then 7/8, 3/4, 1/2, 1/4, 1/8
// ... of n.
func prefixSizes(n int) []int {
	var out []int
	if n <= chunkEvents {
		for k := n - 1; k >= 2; k-- {
			out = append(out, k)
		}
		return out
	}
	add := func(k int) {
		if k >= 2 && k < n && (len(out) == 0 || out[len(out)-1] > k) {
			out = append(out, k)
		}
	}
	add(n - 1)
	add(n * 7 / 8)
	add(n * 3 / 4)
	for k := n / 2; k >= 2; k /= 2 {
		add(k)
	}
	return out
}

// terms removes, latest term first, all the deliveries that carry one Raft
// term, as DEMi's wildcard passes group them.
func (m *minimizer) terms() error {
	var terms []uint64
	for _, e := range m.cur.Events {
		if t, ok := termOf(e); ok && !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	slices.Sort(terms)
	slices.Reverse(terms)
	for _, term := range terms {
		if m.expired() {
			return nil
		}
		inTerm := func(_ int, e interpose.Event) bool { t, ok := termOf(e); return ok && t == term }
		if err := m.tryWithout(inTerm); err != nil {
			return err
		}
	}
	return nil
}

// tryWithout replays the current schedule without the events drop picks and
// adopts the result when it reproduces and is shorter.
func (m *minimizer) tryWithout(drop func(i int, e interpose.Event) bool) error {
	var events []interpose.Event
	for i, e := range m.cur.Events {
		if !drop(i, e) {
			e.Result = ""
			events = append(events, e)
		}
	}
	if len(events) == len(m.cur.Events) {
		return nil // nothing to drop
	}
	got, err := m.tryWith(m.cur, events)
	if err == nil && got != nil && len(got.Events) < len(m.cur.Events) {
		m.adopt(got)
	}
	return err
}

// termOf reads the term a delivery's fingerprint carries.
func termOf(e interpose.Event) (uint64, bool) {
	if e.Kind != interpose.Deliver || e.Msg == nil {
		return 0, false
	}
	_, rest, ok := strings.Cut(e.Msg.Key, "term=")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, " ")
	t, err := strconv.ParseUint(num, 10, 64)
	return t, err == nil
}

// nodes tries the schedule on fewer nodes: the highest-numbered node and
// every event that mentions it go, while the bug does not need them (and
// the stabilization phase keeps no fault on it).
func (m *minimizer) nodes() error {
	for m.cur.Target.Nodes > 1 && !m.expired() {
		n := m.cur.Target.Nodes
		if m.stab != nil && m.stab.Keep.Kind != "" && m.stab.Keep.Node >= n {
			return nil // the phase keeps a fault on it: it stays
		}
		var events []interpose.Event
		for _, e := range m.cur.Events {
			if !mentions(e, n) {
				e.Result = ""
				events = append(events, e)
			}
		}
		spec := m.cur.Target
		spec.Nodes = n - 1
		got, err := m.tryOn(interpose.Schedule{Version: interpose.Version, Target: spec, Events: events})
		if err != nil {
			return err
		}
		if got == nil {
			return nil
		}
		m.adopt(got)
	}
	return nil
}

func mentions(e interpose.Event, n int) bool {
	if e.Node == n || e.Peer == n {
		return true
	}
	if e.Msg != nil && (e.Msg.From == n || e.Msg.To == n) {
		return true
	}
	for _, g := range e.Groups {
		if slices.Contains(g, n) {
			return true
		}
	}
	return false
}

// contents shrinks what the external events carry: every client payload to
// nothing at once, else each in turn to nothing or, while that reproduces,
// to its first half. Membership changes and transfers name one server each
// and partitions are shrunk with the nodes; the number of events does not
// change, but the schedule says less.
func (m *minimizer) contents() error {
	// with returns the current events with the payloads of the client
	// operations pick selects set to what to makes of them.
	with := func(pick func(i int) bool, to func(string) string) []interpose.Event {
		events := slices.Clone(m.cur.Events)
		for i := range events {
			events[i].Result = ""
			if events[i].Kind == interpose.Client && events[i].Data != "" && pick(i) {
				events[i].Data = to(events[i].Data)
			}
		}
		return events
	}
	try := func(events []interpose.Event) (bool, error) {
		got, err := m.tryWith(m.cur, events)
		if err != nil || got == nil || len(got.Events) > len(m.cur.Events) {
			return false, err
		}
		m.adopt(got)
		return true, nil
	}
	empty := func(string) string { return "" }
	half := func(d string) string { return d[:len(d)/2] }
	clients := 0
	for _, e := range m.cur.Events {
		if e.Kind == interpose.Client && e.Data != "" {
			clients++
		}
	}
	if clients == 0 {
		return nil
	}
	if ok, err := try(with(func(int) bool { return true }, empty)); ok || err != nil {
		return err
	}
	for i := 0; i < len(m.cur.Events) && !m.expired(); i++ {
		if e := m.cur.Events[i]; e.Kind != interpose.Client || e.Data == "" {
			continue
		}
		only := func(j int) bool { return j == i }
		ok, err := try(with(only, empty))
		for !ok && err == nil && i < len(m.cur.Events) && len(m.cur.Events[i].Data) > 1 && !m.expired() {
			var halved bool
			if halved, err = try(with(only, half)); !halved {
				break
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
