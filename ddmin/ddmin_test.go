package ddmin

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// containsAll fails when the candidate holds every element of cause.
func containsAll(cause ...int) func([]int) Outcome {
	return func(c []int) Outcome {
		for _, x := range cause {
			if !slices.Contains(c, x) {
				return Pass
			}
		}
		return Fail
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func TestKnownInputs(t *testing.T) {
	cases := []struct {
		name  string
		items []int
		test  func([]int) Outcome
		want  []int
		tests int
	}{
		// Traced by hand: rounds n=2 (2 tests), n=4 (4 subsets, then the
		// second complement fails: 6), n=3 on {1,2,5,6,7,8} (one new
		// complement fails: 1), n=2 on {1,2,7,8} (all cached), n=4 (4
		// subsets, 2 complements: 6), n=3 on {1,7,8} (2 new complements).
		{"1,7,8 of 8", seq(8), containsAll(1, 7, 8), []int{1, 7, 8}, 17},
		// {1..4} passes, {5..8} fails, {5,6} fails, {5} fails.
		{"single cause", seq(8), containsAll(5), []int{5}, 4},
		{"whole input", seq(3), containsAll(1, 2, 3), []int{1, 2, 3}, 6},
		{"one element", []int{42}, containsAll(42), []int{42}, 0},
		{"empty", nil, containsAll(), []int{}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Minimize(c.items, c.test, Options{})
			if !slices.Equal(r.Items, c.want) && !(len(r.Items) == 0 && len(c.want) == 0) {
				t.Errorf("items = %v, want %v", r.Items, c.want)
			}
			if r.Tests != c.tests {
				t.Errorf("tests = %d, want %d", r.Tests, c.tests)
			}
			if !r.Complete {
				t.Error("not complete")
			}
		})
	}
}

func TestEachCandidateTestedOnce(t *testing.T) {
	seen := map[string]bool{}
	test := func(c []int) Outcome {
		k := string(rune(len(c))) + string(slicesToBytes(c))
		if seen[k] {
			t.Fatalf("candidate %v tested twice", c)
		}
		seen[k] = true
		return containsAll(3, 9, 14)(c)
	}
	r := Minimize(seq(16), test, Options{})
	if !slices.Equal(r.Items, []int{3, 9, 14}) || r.Hits == 0 {
		t.Fatalf("items %v, hits %d", r.Items, r.Hits)
	}
}

func slicesToBytes(c []int) []byte {
	b := make([]byte, len(c))
	for i, x := range c {
		b[i] = byte(x)
	}
	return b
}

func TestUnresolvedCountsAsNotFailing(t *testing.T) {
	// Candidates without 4 cannot be judged; the failure needs 2 and 6.
	test := func(c []int) Outcome {
		if !slices.Contains(c, 4) {
			return Unresolved
		}
		return containsAll(2, 6)(c)
	}
	r := Minimize(seq(8), test, Options{})
	if !slices.Equal(r.Items, []int{2, 4, 6}) {
		t.Fatalf("items = %v, want [2 4 6]", r.Items)
	}
}

func TestBounds(t *testing.T) {
	r := Minimize(seq(64), containsAll(7, 40), Options{MaxTests: 5})
	if r.Complete || r.Tests != 5 {
		t.Fatalf("complete %v after %d tests; want an early stop after 5", r.Complete, r.Tests)
	}
	if containsAll(7, 40)(r.Items) != Fail {
		t.Fatalf("early result %v does not fail", r.Items)
	}
	calls := 0
	r = Minimize(seq(64), containsAll(7, 40), Options{Stop: func() bool { calls++; return calls > 3 }})
	if r.Complete || r.Tests != 3 {
		t.Fatalf("Stop: complete %v after %d tests", r.Complete, r.Tests)
	}
}

// TestAgainstBruteForce checks ddmin on every random predicate over small
// inputs: the result fails, is 1-minimal, is no smaller than the smallest
// failing subset brute force finds, and ddmin tests no more candidates than
// brute force would.
func TestAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := 1 + rng.IntN(9)
		var test func([]int) Outcome
		if trial%2 == 0 {
			// Monotone: fails when it holds one of a few cause sets.
			var causes [][]int
			for range 1 + rng.IntN(3) {
				var cs []int
				for range 1 + rng.IntN(3) {
					cs = append(cs, 1+rng.IntN(n))
				}
				causes = append(causes, cs)
			}
			test = func(c []int) Outcome {
				for _, cs := range causes {
					if containsAll(cs...)(c) == Fail {
						return Fail
					}
				}
				return Pass
			}
		} else {
			// Arbitrary: a random verdict per subset; ddmin's precondition
			// holds (the whole input fails, the empty one passes).
			verdict := map[uint]Outcome{}
			full := uint(1)<<n - 1
			test = func(c []int) Outcome {
				m := mask(c)
				switch m {
				case full:
					return Fail
				case 0:
					return Pass
				}
				if _, ok := verdict[m]; !ok {
					verdict[m] = Outcome(rng.IntN(3))
				}
				return verdict[m]
			}
		}
		items := seq(n)
		r := Minimize(items, test, Options{})
		if test(r.Items) != Fail {
			t.Fatalf("trial %d: result %v does not fail", trial, r.Items)
		}
		for i := range r.Items {
			smaller := slices.Delete(slices.Clone(r.Items), i, i+1)
			if test(smaller) == Fail {
				t.Fatalf("trial %d: result %v is not 1-minimal: %v fails", trial, r.Items, smaller)
			}
		}
		best := n
		for m := uint(0); m < 1<<n; m++ {
			var c []int
			for i := range n {
				if m&(1<<i) != 0 {
					c = append(c, i+1)
				}
			}
			if test(c) == Fail {
				best = min(best, len(c))
			}
		}
		if len(r.Items) < best {
			t.Fatalf("trial %d: ddmin found %d elements, brute force's smallest is %d", trial, len(r.Items), best)
		}
		if r.Tests > 1<<n {
			t.Fatalf("trial %d: %d tests for %d subsets", trial, r.Tests, 1<<n)
		}
	}
}

func mask(c []int) uint {
	var m uint
	for _, x := range c {
		m |= 1 << (x - 1)
	}
	return m
}
