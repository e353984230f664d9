package fuzz

import (
	"fmt"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// ReplayOptions configure Replay. The zero value replays once, checking
// invariants after every event, with Raft's invariants.
type ReplayOptions struct {
	// Repeat is the number of replays (0: 1).
	Repeat int
	// CheckEvery and CheckFrom are passed to interpose.Replay.
	CheckEvery, CheckFrom int
	// Checker returns the checker of one replay (nil: invariants.NewRaft).
	Checker func() interpose.Checker
}

// ReplayReport summarizes repeated replays of one schedule.
type ReplayReport struct {
	Runs       int    `json:"runs"`
	Reproduced int    `json:"reproduced"`
	Expected   string `json:"fingerprint"`
	// Seen counts the fingerprints the replays ended with ("" for none).
	Seen map[string]int `json:"seen"`
	// Last is the last replay's result.
	Last *interpose.ReplayResult `json:"-"`
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
	newChecker := opts.Checker
	if newChecker == nil {
		newChecker = func() interpose.Checker { return invariants.NewRaft() }
	}
	if h, ok := target.(interpose.Holder); ok {
		defer h.Hold()()
	}
	rep := &ReplayReport{Seen: map[string]int{}}
	if s.Violation != nil {
		rep.Expected = s.Violation.Fingerprint
	}
	for range repeat {
		sys, err := target.Open(t, s.Target)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		r, err := interpose.Replay(sys, newChecker(), s, interpose.ReplayOptions{CheckEvery: opts.CheckEvery, CheckFrom: opts.CheckFrom, Expect: rep.Expected})
		cerr := sys.Close()
		if err != nil {
			return nil, err
		}
		if cerr != nil {
			return nil, fmt.Errorf("replay: %w", cerr)
		}
		rep.Runs++
		fp := ""
		if r.Violation != nil {
			fp = r.Violation.Fingerprint
		}
		rep.Seen[fp]++
		if fp == rep.Expected {
			rep.Reproduced++
		}
		rep.Last = r
	}
	return rep, nil
}
