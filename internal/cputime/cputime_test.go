package cputime

import "testing"

// TestSelfGrows spins until the process's CPU time has moved: Self must
// count this process's work, and WithChildren at least as much.
func TestSelfGrows(t *testing.T) {
	t0 := Self()
	x := 0
	for i := 0; Self() == t0; i++ {
		x += i * i
		if i > 1<<32 {
			t.Fatalf("CPU time never moved from %v", t0)
		}
	}
	if s, w := Self(), WithChildren(); w < s {
		t.Errorf("WithChildren %v < Self %v read before it", w, s)
	}
	_ = x
}
