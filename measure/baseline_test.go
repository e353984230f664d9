package measure

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/baseline"
)

// TestWriteBaseline: the table names the invariant both looked for, gives
// each row's median and its ratio over faultline's first row ("∞" for a
// baseline that never found it), and the restarts that panicked or were
// refused, counted for the baseline's rows only.
func TestWriteBaseline(t *testing.T) {
	inf := math.Inf(1)
	rep := BaselineReport{Command: "faultline measure baseline --target hraft-lossy-log --invariant StateMachineSafety",
		Target: "hraft-lossy-log", Invariant: baseline.StateMachineSafety, Ours: 1,
		Rows: []BaselineRow{
			{Who: "faultline", Found: 3, Seeds: 3, Wall: []float64{1, 2, 4}, CPU: []float64{1, 2, 4}},
			{Who: "one cluster", Found: 0, Seeds: 3, Wall: []float64{inf, inf, inf}, CPU: []float64{inf, inf, inf}, Panics: 1, Refused: 2},
			{Who: "40 clusters", Found: 2, Seeds: 3, Wall: []float64{10, 30, inf}, CPU: []float64{4, 8, inf}},
		}}
	var b strings.Builder
	if err := WriteBaseline(&b, rep, time.Minute); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# hraft-lossy-log: faultline beside the real-clock baseline",
		"`faultline measure baseline --target hraft-lossy-log --invariant StateMachineSafety`",
		"median time to StateMachineSafety (s)",
		"| faultline   | 3/3   | 2.000 (1.000–4.000)",
		"| one cluster | 0/3   | never ",
		"| ∞ ", "| 1 ", "| 2 ",
		"| 40 clusters | 2/3   | 30.000 (10.000–30.000)", "| 15.0 ", "| 4.0 ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
