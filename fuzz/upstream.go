package fuzz

import (
	"fmt"
	"maps"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// upstreamAttempts bounds the executions of the replay that must show the
// violation as recorded; upstreamRepeat is the number of replays without
// the heartbeat fast path that must all miss it.
const (
	upstreamAttempts = 5
	upstreamRepeat   = 3
)

// Upstream reports whether the violation of s is a known bug of
// hashicorp/raft (invariants.Upstream matches its fingerprint and target),
// and confirms what a fingerprint alone cannot. A bug of raft's heartbeat
// fast path (KnownBug.FastPath: #695, on either side of an election) counts
// only when s shows its violation on target as recorded, and no longer
// shows it in any of three replays with the fast path off
// (Config["heartbeat_fast_path"] "false", which package hraft's Open
// honours): the fast path is #695's mechanism, while a bug of the service's
// own stores (a StableStore that forgets the vote breaks ElectionSafety
// too) shows without it. A target whose Open ignores that setting shows the
// violation again and is never confirmed: the safe side. A bug told by the
// nodes' states (KnownBug.State: #635's deadlock, a Liveness:Leader) is
// matched on s.Final, or, when s has none, on the states of one replay
// that shows the violation. Other entries (#85) are matched by fingerprint
// only.
//
// Of opts, only the checker and the check points are used (the zero value:
// Raft's invariants after every event, as a campaign's defaults). It costs
// nothing when the fingerprint is not in the table, and up to eight replays
// of s (usually four) when it is a fast-path bug.
func Upstream(t *testing.T, target interpose.Target, s *interpose.Schedule, opts ReplayOptions) (invariants.KnownBug, bool, error) {
	ropts := ReplayOptions{CheckEvery: opts.CheckEvery, CheckFrom: opts.CheckFrom, Checker: opts.Checker}
	if s.Violation == nil {
		return invariants.KnownBug{}, false, nil
	}
	bug, ok := invariants.UpstreamIn(s)
	if !ok && len(s.Final) == 0 && invariants.UpstreamNeedsState(s.Target, s.Violation.Fingerprint) {
		// A bug told by the nodes' states, on a schedule without them (a
		// walk's prefix): the states come from a replay that shows it.
		ropts.Repeat, ropts.Attempts = 1, upstreamAttempts
		rep, err := Replay(t, target, s, ropts)
		if err != nil {
			return invariants.KnownBug{}, false, fmt.Errorf("upstream: %w", err)
		}
		if rep.Reproduced == 0 || rep.Last == nil || rep.Last.Schedule == nil {
			return invariants.KnownBug{}, false, nil
		}
		replayed := *rep.Last.Schedule // its events' results and final states, with s's target and violation
		replayed.Target, replayed.Violation = s.Target, s.Violation
		bug, ok = invariants.UpstreamIn(&replayed)
	}
	if !ok || !bug.FastPath {
		return bug, ok, nil
	}
	ropts.Repeat, ropts.Attempts = 1, upstreamAttempts
	rep, err := Replay(t, target, s, ropts)
	if err != nil {
		return invariants.KnownBug{}, false, fmt.Errorf("upstream: %w", err)
	}
	if rep.Reproduced == 0 {
		return invariants.KnownBug{}, false, nil // it does not show even as recorded: nothing to compare
	}
	serial := *s
	serial.Target.Config = maps.Clone(s.Target.Config)
	serial.Target.Config["heartbeat_fast_path"] = "false"
	ropts.Repeat, ropts.Attempts = upstreamRepeat, 1
	rep, err = Replay(t, target, &serial, ropts)
	if err != nil {
		return invariants.KnownBug{}, false, fmt.Errorf("upstream: %w", err)
	}
	if rep.Reproduced > 0 {
		return invariants.KnownBug{}, false, nil
	}
	return bug, true, nil
}

// Passed counts the hits of one known upstream bug that a campaign passed
// over (Options.PassOverUpstream).
type Passed struct {
	// Upstream is the bug's ID ("hashicorp/raft#695"); Label its label.
	Upstream string `json:"upstream"`
	Label    string `json:"label"`
	// Fingerprint is the violation it showed as.
	Fingerprint string `json:"fingerprint"`
	// Count is the number of runs that hit it; Run the first of them.
	Count int `json:"count"`
	Run   int `json:"run"`
}

// passOver settles the violations a walk passed over as known upstream (in
// the order they were seen): each is confirmed on the schedule up to it
// (Upstream) and counted in res.PassedOver. One that is not confirmed was a
// violation after all: when it comes before s's own violation, the returned
// schedule is s cut after it, with it as the violation (no final states:
// the walk went on past it; Confirm's replay records them).
func (res *Result) passOver(t *testing.T, target interpose.Target, s *interpose.Schedule, passed []interpose.Violation,
	opts Options, run int) (*interpose.Schedule, error) {
	ropts := ReplayOptions{CheckEvery: opts.CheckEvery, CheckFrom: opts.CheckFrom, Checker: opts.Checker}
	out := s
	for _, v := range passed {
		prefix := &interpose.Schedule{Version: s.Version, Target: s.Target, Events: s.Events[:v.Step:v.Step], Violation: &v}
		bug, ok, err := Upstream(t, target, prefix, ropts)
		if err != nil {
			return s, fmt.Errorf("fuzz: run %d: %w", run, err)
		}
		if !ok {
			if out.Violation == nil || v.Step < out.Violation.Step {
				out = prefix
			}
			continue
		}
		res.countPassed(bug, v.Fingerprint, run)
	}
	return out, nil
}

func (res *Result) countPassed(bug invariants.KnownBug, fp string, run int) {
	for i := range res.PassedOver {
		if p := &res.PassedOver[i]; p.Upstream == bug.ID && p.Fingerprint == fp {
			p.Count++
			return
		}
	}
	res.PassedOver = append(res.PassedOver, Passed{Upstream: bug.ID, Label: bug.Label(), Fingerprint: fp, Count: 1, Run: run})
}
