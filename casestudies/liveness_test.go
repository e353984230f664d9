package casestudies

import (
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// TestLivenessFixturesNeedTheirBug: each minimized liveness violation of an
// actor Raft variant shows its monitor on its variant, and the same events
// before the phase, then a phase made again, show nothing on the correct
// Raft: the bug is the variant's, not the phase's or the monitor's.
func TestLivenessFixturesNeedTheirBug(t *testing.T) {
	for _, name := range []string{"raft-noretry", "raft-busy-leader", "raft-nobackoff"} {
		t.Run(name, func(t *testing.T) {
			s, err := interpose.ReadFile("../results/report/" + name + ".min.json")
			if err != nil {
				t.Fatal(err)
			}
			pre, o, ok := interpose.PhaseOf(s)
			if !ok {
				t.Fatal("no stabilization phase")
			}
			for _, target := range []string{name, "raft"} {
				study, err := Lookup(target)
				if err != nil {
					t.Fatal(err)
				}
				cut := *s
				cut.Events, cut.Violation = pre, nil
				cut.Target.Name, cut.Target.Bug = target, study.Bug
				sys, err := study.Target.Open(t, cut.Target)
				if err != nil {
					t.Fatal(err)
				}
				r, err := interpose.Replay(sys, invariants.Checker(nil, true), &cut, interpose.ReplayOptions{Stabilize: &o})
				sys.Close()
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				if r.Violation != nil {
					got = r.Violation.Fingerprint
				}
				if want := map[bool]string{true: s.Violation.Fingerprint, false: ""}[target == name]; got != want {
					t.Errorf("on %s: %q, want %q", target, got, want)
				}
			}
		})
	}
}
