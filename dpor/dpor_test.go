package dpor_test

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/dpor"
	"github.com/faultline-dev/faultline/interpose"
)

// synth is a small deterministic message-passing system: every node's state
// is a hash of the messages it received, in order, and a message may make
// its receiver send more (its key carries how many hops are left). Only
// deliveries happen; every node is up; nothing is ever dropped.
type synth struct {
	state   []uint64 // by node, index 0 unused
	pending []pend
	seq     uint64
	// fanout returns the messages node sends on receiving m in state st.
	fanout func(node int, st uint64, m interpose.Msg) []interpose.Msg
	view   interpose.View
}

type pend struct {
	seq uint64
	msg interpose.Msg
}

func newSynth(nodes int, initial []interpose.Msg, fanout func(int, uint64, interpose.Msg) []interpose.Msg) *synth {
	s := &synth{state: make([]uint64, nodes+1), fanout: fanout}
	for _, m := range initial {
		s.send(m)
	}
	return s
}

func (s *synth) send(m interpose.Msg) {
	s.seq++
	s.pending = append(s.pending, pend{seq: s.seq, msg: m})
}

func (s *synth) clone() *synth {
	c := *s
	c.state = slices.Clone(s.state)
	c.pending = slices.Clone(s.pending)
	return &c
}

func (s *synth) Nodes() int                    { return len(s.state) - 1 }
func (s *synth) State(int) interpose.NodeState { return interpose.Up }
func (s *synth) Close() error                  { return nil }
func (s *synth) View() *interpose.View {
	s.view.Nodes = s.view.Nodes[:0]
	for n := 1; n < len(s.state); n++ {
		s.view.Nodes = append(s.view.Nodes, interpose.NodeView{Node: n, Started: true, Up: true})
	}
	return &s.view
}

func (s *synth) Pending() []interpose.Message {
	out := make([]interpose.Message, 0, len(s.pending))
	for _, p := range s.pending {
		out = append(out, interpose.Message{Seq: p.seq, Msg: p.msg, Request: true, Deliverable: true})
	}
	slices.SortFunc(out, func(a, b interpose.Message) int {
		if a.Msg != b.Msg {
			if a.Msg.Less(b.Msg) {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return out
}

func (s *synth) Apply(_ int, ev interpose.Event) (interpose.Event, error) {
	if ev.Kind != interpose.Deliver || ev.Msg == nil {
		return ev, fmt.Errorf("synth: %s: %w", ev.Kind, interpose.ErrNotEnabled)
	}
	at := -1
	for i, p := range s.pending {
		if ev.Msg.Matches(p.msg) && (at < 0 || p.seq < s.pending[at].seq) {
			at = i
		}
	}
	if at < 0 {
		return ev, fmt.Errorf("synth: %s: %w", ev.Msg, interpose.ErrNotEnabled)
	}
	m := s.pending[at].msg
	s.pending = slices.Delete(s.pending, at, at+1)
	s.deliver(m)
	ev.Msg = &m
	return ev, nil
}

func (s *synth) deliver(m interpose.Msg) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s", s.state[m.To], m)
	s.state[m.To] = h.Sum64()
	if s.fanout != nil {
		for _, c := range s.fanout(m.To, s.state[m.To], m) {
			s.send(c)
		}
	}
}

// final renders the nodes' states.
func (s *synth) final() string { return fmt.Sprint(s.state[1:]) }

// bruteForce enumerates every order of delivery (messages with one
// fingerprint are interchangeable) and returns the distinct final states and
// the number of complete executions.
func bruteForce(s *synth, finals map[string]bool, limit int) int {
	if len(s.pending) == 0 {
		finals[s.final()] = true
		return 1
	}
	leaves := 0
	var seen []interpose.Msg
	for _, p := range s.Pending() {
		if slices.Contains(seen, p.Msg) {
			continue
		}
		seen = append(seen, p.Msg)
		c := s.clone()
		msg := p.Msg
		if _, err := c.Apply(0, interpose.Event{Kind: interpose.Deliver, Msg: &msg}); err != nil {
			panic(err)
		}
		leaves += bruteForce(c, finals, limit-leaves)
		if leaves > limit {
			return leaves
		}
	}
	return leaves
}

// explore runs DPOR to exhaustion on fresh copies of s and returns the
// distinct final states it reached and its result.
func explore(t *testing.T, s *synth, opts dpor.Options) (map[string]bool, *dpor.Result) {
	t.Helper()
	finals := map[string]bool{}
	opts.Extend = 1000
	opts.Visit = func(c *interpose.Controller) { finals[c.System().(*synth).final()] = true }
	open := func() (*interpose.Controller, error) {
		return interpose.NewController(s.clone(), nil, interpose.TargetSpec{Name: "synth"}), nil
	}
	res, err := dpor.Explore(open, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return finals, res
}

func msg(typ string, from, to int, key string) interpose.Msg {
	return interpose.Msg{Type: typ, From: from, To: to, Key: key}
}

// relay makes a message whose key names a next hop ("to=N") send one
// message there.
func relay(node int, _ uint64, m interpose.Msg) []interpose.Msg {
	_, next, ok := strings.Cut(m.Key, "to=")
	if !ok {
		return nil
	}
	var to int
	fmt.Sscan(next, &to)
	return []interpose.Msg{msg("c", node, to, "relayed")}
}

// TestSmallSystems checks hand-made systems against brute force: the same
// distinct final states, and the number of executions DPOR needs.
func TestSmallSystems(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nodes   int
		initial []interpose.Msg
		fanout  func(int, uint64, interpose.Msg) []interpose.Msg
		leaves  int // brute force's executions
		finals  int // distinct final states
		runs    int // DPOR's executions
	}{
		{"independent", 3, []interpose.Msg{msg("a", 1, 1, ""), msg("a", 1, 2, ""), msg("a", 1, 3, "")}, nil, 6, 1, 1},
		{"two writers", 3, []interpose.Msg{msg("a", 1, 3, ""), msg("a", 2, 3, "")}, nil, 2, 2, 2},
		{"three writers", 4, []interpose.Msg{msg("a", 1, 4, ""), msg("a", 2, 4, ""), msg("a", 3, 4, "")}, nil, 6, 6, 6},
		{"writers beside independents", 4, []interpose.Msg{msg("a", 1, 4, ""), msg("a", 2, 4, ""), msg("b", 1, 2, ""), msg("b", 2, 3, "")}, nil, 24, 2, 2},
		// The relayed message races with the direct one although it is
		// sent only after the direct one arrives in the first execution:
		// the backtrack point is the relay's first hop.
		{"race through a relay", 3, []interpose.Msg{msg("a", 1, 3, ""), msg("b", 1, 2, "to=3")}, relay, 3, 2, 3},
		{"relay already sent", 3, []interpose.Msg{msg("a", 1, 2, "to=3"), msg("b", 1, 3, "")}, relay, 3, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSynth(tc.nodes, tc.initial, tc.fanout)
			want := map[string]bool{}
			leaves := bruteForce(s.clone(), want, 1<<20)
			got, res := explore(t, s, dpor.Options{Runs: 1 << 20})
			if leaves != tc.leaves || len(want) != tc.finals {
				t.Fatalf("brute force: %d executions, %d final states; want %d, %d", leaves, len(want), tc.leaves, tc.finals)
			}
			if !maps.Equal(got, want) {
				t.Errorf("dpor reached %d final states, brute force %d", len(got), len(want))
			}
			if res.Runs != tc.runs || !res.Exhausted {
				t.Errorf("dpor: %d executions (exhausted %v), want %d", res.Runs, res.Exhausted, tc.runs)
			}
		})
	}
}

// randomSystem builds a system from a seed: a few initial messages, and
// receivers that forward up to two messages while hops are left, to nodes
// and in numbers that depend on the receiver's state, so that the order of
// arrival changes what is sent.
func randomSystem(seed uint64) *synth {
	h := func(parts ...any) uint64 {
		f := fnv.New64a()
		fmt.Fprint(f, parts...)
		return f.Sum64()
	}
	nodes := 2 + int(h(seed, "n")%3)
	var initial []interpose.Msg
	for i := range 2 + int(h(seed, "i")%3) {
		from := 1 + int(h(seed, "f", i)%uint64(nodes))
		to := 1 + int(h(seed, "t", i)%uint64(nodes))
		initial = append(initial, msg("m", from, to, fmt.Sprintf("hops=%d id=%d", h(seed, "k", i)%3, i)))
	}
	fanout := func(node int, st uint64, m interpose.Msg) []interpose.Msg {
		var hops int
		fmt.Sscanf(m.Key, "hops=%d", &hops)
		if hops == 0 {
			return nil
		}
		var out []interpose.Msg
		for c := range int(st % 3) {
			to := 1 + int(h(st, c)%uint64(nodes))
			out = append(out, msg("m", node, to, fmt.Sprintf("hops=%d id=%x", hops-1, h(st, c)%16)))
		}
		return out
	}
	return newSynth(nodes, initial, fanout)
}

// TestAgainstBruteForce explores random small systems to exhaustion: DPOR
// must reach every distinct final state brute force reaches, never with more
// executions, and with fewer in all.
func TestAgainstBruteForce(t *testing.T) {
	const limit = 3000
	var systems, dporRuns, bruteRuns, fewer int
	for seed := uint64(1); systems < 60; seed++ {
		if seed > 1000 {
			t.Fatalf("only %d systems under %d executions", systems, limit)
		}
		s := randomSystem(seed)
		want := map[string]bool{}
		leaves := bruteForce(s.clone(), want, limit)
		if leaves > limit || leaves < 2 {
			continue
		}
		systems++
		got, res := explore(t, s, dpor.Options{Runs: 1 << 20})
		for f := range want {
			if !got[f] {
				t.Errorf("seed %d: dpor missed a final state (%d of %d reached, %d executions; brute force %d)", seed, len(got), len(want), res.Runs, leaves)
				break
			}
		}
		for f := range got {
			if !want[f] {
				t.Errorf("seed %d: dpor reached a final state brute force does not", seed)
				break
			}
		}
		if !res.Exhausted {
			t.Errorf("seed %d: not exhausted", seed)
		}
		if res.Runs > leaves {
			t.Errorf("seed %d: dpor used %d executions, brute force %d", seed, res.Runs, leaves)
		}
		if res.Runs < leaves {
			fewer++
		}
		dporRuns += res.Runs
		bruteRuns += leaves
	}
	t.Logf("%d systems: dpor %d executions, brute force %d (%.1f×); fewer on %d", systems, dporRuns, bruteRuns, float64(bruteRuns)/float64(dporRuns), fewer)
	if fewer < systems/2 {
		t.Errorf("dpor needed fewer executions than brute force on only %d of %d systems", fewer, systems)
	}
}

// TestStopNearestFirst looks for one particular final state: the execution
// that reaches it is one reordering away from the plan, and the exploration
// stops there.
func TestStopNearestFirst(t *testing.T) {
	s := newSynth(4, []interpose.Msg{msg("a", 1, 4, ""), msg("a", 2, 4, ""), msg("a", 3, 4, "")}, nil)
	// The target: node 4 hears from 3 before 1 and 2 (one move of the last
	// delivery of the canonical order to the front).
	target := s.clone()
	for _, from := range []int{3, 1, 2} {
		m := msg("a", from, 4, "")
		target.Apply(0, interpose.Event{Kind: interpose.Deliver, Msg: &m})
	}
	var plans []string
	open := func() (*interpose.Controller, error) {
		return interpose.NewController(s.clone(), nil, interpose.TargetSpec{Name: "synth"}), nil
	}
	res, err := dpor.Explore(open, nil, dpor.Options{
		Extend: 10,
		Stop: func(c *interpose.Controller) bool {
			return c.System().(*synth).final() == target.final()
		},
		Visit: func(c *interpose.Controller) {
			var b strings.Builder
			for i := range c.Len() {
				fmt.Fprintf(&b, "%d", c.Event(i).Msg.From)
			}
			plans = append(plans, b.String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Found == nil {
		t.Fatalf("not found after %d executions: %v", res.Runs, plans)
	}
	// The canonical execution is 1,2,3. Its races reverse (2,3), the deeper
	// first, then (1,2): 1,3,2 and 2,1,3, one reordering away. Theirs give
	// 3,1,2 (at the front) and 2,3,1 (deeper, so first), two away.
	if got := strings.Join(plans, " "); got != "123 132 213 231 312" || res.Distance != 2 || res.Runs != 5 {
		t.Errorf("executions %q, distance %d, runs %d", got, res.Distance, res.Runs)
	}
	if len(res.Found.Events) != 3 || res.Found.Events[0].Msg.From != 3 {
		t.Errorf("found %v", res.Found.Events)
	}
}

// TestWildcardAmbiguity plans a delivery whose full fingerprint never
// appears: two pending messages match it by type, the nearest (x=2 for a
// recorded x=9) is taken and the other is kept as a backtrack point, which
// the exploration reaches.
func TestWildcardAmbiguity(t *testing.T) {
	s := newSynth(2, []interpose.Msg{msg("a", 1, 2, "x=1"), msg("a", 1, 2, "x=2")}, nil)
	plan := []interpose.Event{{Kind: interpose.Deliver, Msg: &interpose.Msg{Type: "a", From: 1, To: 2, Key: "x=9"}}}
	open := func() (*interpose.Controller, error) {
		return interpose.NewController(s.clone(), nil, interpose.TargetSpec{Name: "synth"}), nil
	}
	var firsts []string
	res, err := dpor.Explore(open, plan, dpor.Options{
		Wildcard: true,
		Visit:    func(c *interpose.Controller) { firsts = append(firsts, c.Event(0).Msg.Key) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(firsts, " "); got != "x=2 x=1" || !res.Exhausted || res.Points != 1 {
		t.Errorf("first deliveries %q, exhausted %v, points %d", got, res.Exhausted, res.Points)
	}
	// Without the wildcard the planned delivery is skipped: one execution.
	firsts = nil
	res, err = dpor.Explore(open, plan, dpor.Options{Visit: func(c *interpose.Controller) { firsts = append(firsts, fmt.Sprint(c.Len())) }})
	if err != nil || res.Runs != 1 || firsts[0] != "0" {
		t.Errorf("without wildcard: %v runs, events %v, err %v", res.Runs, firsts, err)
	}
}

// TestBudget stops after Runs executions, not exhausted, and explores the
// same executions in the same order every time.
func TestBudget(t *testing.T) {
	s := randomSystem(7)
	var orders [2][]string
	for i := range orders {
		finals := map[string]bool{}
		open := func() (*interpose.Controller, error) {
			return interpose.NewController(s.clone(), nil, interpose.TargetSpec{Name: "synth"}), nil
		}
		res, err := dpor.Explore(open, nil, dpor.Options{Runs: 5, Extend: 1000, Visit: func(c *interpose.Controller) {
			f := c.System().(*synth).final()
			finals[f] = true
			orders[i] = append(orders[i], f)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Runs != 5 || res.Exhausted {
			t.Fatalf("runs %d exhausted %v", res.Runs, res.Exhausted)
		}
	}
	if !slices.Equal(orders[0], orders[1]) {
		t.Error("two explorations of one system differ")
	}
}

// TestOpenError passes the error of Open through.
func TestOpenError(t *testing.T) {
	boom := errors.New("boom")
	_, err := dpor.Explore(func() (*interpose.Controller, error) { return nil, boom }, nil, dpor.Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}
