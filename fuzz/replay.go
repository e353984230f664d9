package fuzz

import (
	"fmt"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// ReplayOptions configure Replay. The zero value replays once, in one
// execution, checking invariants after every event, with Raft's invariants.
type ReplayOptions struct {
	// Repeat is the number of replays (0: 1).
	Repeat int
	// Attempts bounds the executions of one replay (0: 1). An execution
	// that misses the recorded violation and diverged from the recording
	// (an event skipped, or applied with another result: the system's own
	// scheduling went another way, for hashicorp/raft a select with two
	// ready cases) is followed by another on a fresh system, until one
	// shows the violation or Attempts were made. An execution that followed
	// the recording and still missed the violation is final, unless the
	// violation was judged when the run's nodes were stopped after its last
	// event (a Liveness:Stuck of a Stopper, see DecidedAtStop): stopping
	// them is no event of the schedule, and what raft's goroutines do as
	// they shut down (a select with a closed and a ready channel) is
	// outside any seed, so such an execution runs again too.
	Attempts int
	// CheckEvery and CheckFrom are passed to interpose.Replay.
	CheckEvery, CheckFrom int
	// Checker returns the checker of one replay (nil: invariants.NewRaft).
	Checker func() interpose.Checker
	// Wildcard matches a recorded message the replay cannot find by type,
	// source and destination (interpose.ReplayOptions.Wildcard): how a
	// schedule is carried over to another release of the library, whose
	// messages may carry other values.
	Wildcard bool
}

// ReplayReport summarizes repeated replays of one schedule.
type ReplayReport struct {
	Runs       int    `json:"runs"`
	Reproduced int    `json:"reproduced"`
	Expected   string `json:"fingerprint"`
	// Executions counts the executions of all runs (Runs when each took one
	// attempt); FirstReproduced counts the runs whose first execution
	// showed the violation: the rate of a single exact replay.
	Executions      int `json:"executions"`
	FirstReproduced int `json:"first_reproduced"`
	// Seen counts the fingerprints the replays ended with ("" for none).
	Seen map[string]int `json:"seen"`
	// Applied, Skipped and Wildcards are the last execution's counts of
	// events applied, skipped, and delivered by type only (Wildcard): how
	// much of the schedule carried over.
	Applied   int `json:"applied"`
	Skipped   int `json:"skipped"`
	Wildcards int `json:"wildcards"`
	// Last is the last execution's result; First is the first execution's
	// result of the last run.
	Last  *interpose.ReplayResult `json:"-"`
	First *interpose.ReplayResult `json:"-"`
}

// ReplayFile reads a schedule file and replays it (see Replay): how a test in
// your repository replays a schedule a campaign saved for your own target.
func ReplayFile(t *testing.T, target interpose.Target, path string, opts ReplayOptions) (*ReplayReport, error) {
	s, err := interpose.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Replay(t, target, s, opts)
}

// Replay replays s against target opts.Repeat times, each on a fresh system,
// and counts the runs that show s's violation fingerprint.
func Replay(t *testing.T, target interpose.Target, s *interpose.Schedule, opts ReplayOptions) (*ReplayReport, error) {
	if s.Target.Name != target.Name() {
		return nil, fmt.Errorf("replay: schedule is for target %q, not %q", s.Target.Name, target.Name())
	}
	repeat := max(opts.Repeat, 1)
	liveness := s.Stabilizes()
	newChecker := func() interpose.Checker { return invariants.CheckerFor(target, opts.Checker, liveness) }
	if h, ok := target.(interpose.Holder); ok {
		defer h.Hold()()
	}
	rep := &ReplayReport{Seen: map[string]int{}}
	if s.Violation != nil {
		rep.Expected = s.Violation.Fingerprint
	}
	attempts := max(opts.Attempts, 1)
	atStop := DecidedAtStop(s)
	// A monitor's verdict on a phase holds of a phase of fair delivery:
	// the recorded one, when the execution followed it, else one made
	// again after the events before it (JudgedOnPhase).
	var prefix *interpose.Schedule
	var phase interpose.StabilizeOptions
	if JudgedOnPhase(s.Violation) {
		if pre, o, ok := interpose.PhaseOf(s); ok {
			cut := *s
			cut.Events, phase, prefix = pre, o, &cut
		}
	}
	for range repeat {
		rep.Runs++
		for attempt := range attempts {
			r, err := replayOnce(t, target, s, newChecker(), opts, rep.Expected, nil)
			if err == nil && prefix != nil && Diverged(s, r) != 0 {
				r, err = replayOnce(t, target, prefix, newChecker(), opts, rep.Expected, &phase)
			}
			if err != nil {
				return nil, err
			}
			rep.Executions++
			rep.Last = r
			rep.Applied, rep.Skipped, rep.Wildcards = r.Applied, r.Skipped, r.Wildcards
			fp := fingerprint(r.Violation)
			ok := fp == rep.Expected
			if attempt == 0 {
				rep.First = r
				if ok {
					rep.FirstReproduced++
				}
			}
			if ok || Diverged(s, r) == 0 && !atStop || attempt == attempts-1 {
				rep.Seen[fp]++
				if ok {
					rep.Reproduced++
				}
				break
			}
		}
	}
	return rep, nil
}

// DecidedAtStop reports whether s's violation was judged when its nodes
// were stopped after its last event (interpose.Controller.Finish): a
// Liveness:Stuck seen after every event was applied. Whether it shows
// again is up to the nodes' shutdown, which the schedule does not order;
// an exact replay may miss it.
func DecidedAtStop(s *interpose.Schedule) bool {
	return s.Violation != nil && s.Violation.Invariant == interpose.Stuck && s.Violation.Step >= len(s.Events)
}

// JudgedOnPhase reports whether v is a liveness monitor's verdict at the
// end of a stabilization phase (Liveness:Leader, Liveness:Commit, ...), not
// Liveness:Stuck, which blocked goroutines tell whatever was delivered. Such a
// verdict holds only of a phase of fair delivery, every pending message
// delivered round after round. An execution that went another way than the
// recording (an event skipped or answered otherwise) no longer fits its
// recorded phase, whose deliveries name messages that are not pending: it
// skips them, and the monitors turn hot for want of messages. So Replay
// judges such an execution again, the events before the phase replayed
// and the phase made afresh (as the minimizer judges its candidates), and
// what Confirm keeps is an execution whose phase was fair.
func JudgedOnPhase(v *interpose.Violation) bool {
	return v != nil && strings.HasPrefix(v.Invariant, invariants.LivenessPrefix) && v.Invariant != interpose.Stuck
}

// replayOnce replays s once on a fresh system, then a stabilization phase
// made afresh when stab is set.
func replayOnce(t *testing.T, target interpose.Target, s *interpose.Schedule, check interpose.Checker, opts ReplayOptions, expect string,
	stab *interpose.StabilizeOptions) (*interpose.ReplayResult, error) {
	sys, err := target.Open(t, s.Target)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	r, err := interpose.Replay(sys, check, s, interpose.ReplayOptions{CheckEvery: opts.CheckEvery, CheckFrom: opts.CheckFrom, Expect: expect,
		Timed: true, Wildcard: opts.Wildcard, Stabilize: stab})
	cerr := sys.Close()
	if err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, fmt.Errorf("replay: %w", cerr)
	}
	return r, nil
}

func fingerprint(v *interpose.Violation) string {
	if v == nil {
		return ""
	}
	return v.Fingerprint
}

// Diverged returns the position (1-based) of the first event at which replay
// r of schedule s went another way than the recording: an event skipped, or
// applied with another result or another end (an advance). It returns 0 when
// every event replayed so far matched.
func Diverged(s *interpose.Schedule, r *interpose.ReplayResult) int {
	got := r.Schedule.Events
	for i, x := range got {
		if i >= len(s.Events) || !sameEvent(s.Events[i], x) {
			return i + 1
		}
	}
	if r.Skipped > 0 {
		// Skipped events are missing from the replayed schedule: the first
		// mismatch above found them unless they were at the end.
		return len(got) + 1
	}
	return 0
}
