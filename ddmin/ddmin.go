package ddmin

// Outcome is what a test says of a candidate.
type Outcome int8

// Test outcomes, as in Zeller and Hildebrandt: the failure shows (Fail), it
// does not (Pass), or the candidate could not be judged (Unresolved: it
// counts as not failing).
const (
	Pass Outcome = iota
	Fail
	Unresolved
)

func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	}
	return "unresolved"
}

// Options bound a minimization. The zero value runs to the end.
type Options struct {
	// MaxTests stops after this many tests (0: no bound).
	MaxTests int
	// Stop, if set, is asked before each test; when it says true the
	// minimization ends with what it has (for a time budget).
	Stop func() bool
}

// Result is a minimization's outcome.
type Result[T any] struct {
	// Items is the smallest failing sequence found, in input order.
	Items []T
	// Indices are the positions of Items in the input.
	Indices []int
	// Tests counts the test function's calls; Hits the candidates answered
	// from the memo instead.
	Tests, Hits int
	// Complete is false when a bound ended the search early; Items still
	// fails, but may not be 1-minimal.
	Complete bool
}

// Minimize returns a 1-minimal failing subsequence of items: removing any one
// of its elements makes the test stop failing. test must fail on items
// itself (it is not asked). Candidates are subsequences in input order; each
// distinct candidate is tested at most once.
func Minimize[T any](items []T, test func([]T) Outcome, opts Options) Result[T] {
	m := &minimizer[T]{items: items, test: test, opts: opts, memo: map[string]Outcome{}}
	cur := make([]int, len(items))
	for i := range cur {
		cur[i] = i
	}
	m.memo[m.key(cur)] = Fail
	cur, complete := m.run(cur)
	res := Result[T]{Indices: cur, Tests: m.tests, Hits: m.hits, Complete: complete}
	res.Items = make([]T, len(cur))
	for i, x := range cur {
		res.Items[i] = items[x]
	}
	return res
}

type minimizer[T any] struct {
	items   []T
	test    func([]T) Outcome
	opts    Options
	memo    map[string]Outcome
	tests   int
	hits    int
	stopped bool
	buf     []T
}

// run is ddmin(c, n) of TSE 2002, written as a loop.
func (m *minimizer[T]) run(c []int) ([]int, bool) {
	n := 2
	for len(c) >= 2 {
		parts := split(c, n)
		reduced := false
		// Reduce to a subset.
		for _, p := range parts {
			if m.fails(p) {
				c, n, reduced = p, 2, true
				break
			}
		}
		// Reduce to a complement.
		if !reduced && n > 2 {
			for i := range parts {
				comp := complement(parts, i)
				if m.fails(comp) {
					c, n, reduced = comp, max(n-1, 2), true
					break
				}
			}
		}
		if m.stopped {
			return c, false
		}
		if reduced {
			continue
		}
		// Increase granularity, or stop: c is 1-minimal.
		if n >= len(c) {
			break
		}
		n = min(len(c), 2*n)
	}
	return c, true
}

// fails tests a candidate, through the memo.
func (m *minimizer[T]) fails(c []int) bool {
	if m.stopped {
		return false
	}
	k := m.key(c)
	if o, ok := m.memo[k]; ok {
		m.hits++
		return o == Fail
	}
	if (m.opts.MaxTests > 0 && m.tests >= m.opts.MaxTests) || (m.opts.Stop != nil && m.opts.Stop()) {
		m.stopped = true
		return false
	}
	m.buf = m.buf[:0]
	for _, x := range c {
		m.buf = append(m.buf, m.items[x])
	}
	m.tests++
	o := m.test(m.buf)
	m.memo[k] = o
	return o == Fail
}

// key identifies a candidate by the set of its indices, as a bitset.
func (m *minimizer[T]) key(c []int) string {
	b := make([]byte, (len(m.items)+7)/8)
	for _, x := range c {
		b[x/8] |= 1 << (x % 8)
	}
	return string(b)
}

// split cuts c into n parts of (nearly) equal size, in order.
func split(c []int, n int) [][]int {
	parts := make([][]int, n)
	for i := range n {
		parts[i] = c[i*len(c)/n : (i+1)*len(c)/n]
	}
	return parts
}

// complement is every part but parts[skip], in order.
func complement(parts [][]int, skip int) []int {
	var out []int
	for i, p := range parts {
		if i != skip {
			out = append(out, p...)
		}
	}
	return out
}
