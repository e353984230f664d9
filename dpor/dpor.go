package dpor

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/faultline-dev/faultline/interpose"
)

// Options bound and tune an exploration. The zero value explores up to 100
// executions, matching deliveries by full fingerprint, with no extension.
type Options struct {
	// Runs bounds the number of executions, the first included (0: 100).
	Runs int
	// Deadline, if not zero, stops the exploration at that time.
	Deadline time.Time
	// Extend is how many more events may follow a plan's, chosen by Choose.
	Extend int
	// Choose, if set, returns the chooser of the extension of the run-th
	// execution (1-based); nil: Canonical.
	Choose func(run int) Chooser
	// Wildcard matches a planned delivery by type-only fingerprint when its
	// full one is not pending; the other candidates become backtrack points.
	Wildcard bool
	// Timed passes planned advances their recorded duration (Event.Took),
	// as interpose.ReplayOptions.Timed does: right for a plan that is a
	// recorded schedule as it was, wrong for one with events removed.
	// Ignored with Wildcard.
	Timed bool
	// Stop, if set, is asked after every event; true ends the exploration,
	// which returns that execution's schedule.
	Stop func(*interpose.Controller) bool
	// Visit, if set, is called at the end of every execution, after a last
	// invariant check.
	Visit func(*interpose.Controller)
}

// Result is what an exploration did.
type Result struct {
	// Found is the schedule of the execution Stop accepted (with its
	// violation), or nil.
	Found *interpose.Schedule
	// Distance is the number of reorderings between the plan and Found.
	Distance int
	// Runs counts executions; Points counts backtrack points queued.
	Runs, Points int
	// Exhausted is true when no backtrack point was left: the exploration
	// covered every ordering of dependent events it could reach.
	Exhausted bool
}

// A Chooser picks the next event of an extension from the system's state,
// or reports that there is none.
type Chooser func(sys interpose.System) (interpose.Event, bool)

// Open returns a controller over a fresh system in its initial state.
// Explore closes the system when the execution ends.
type Open func() (*interpose.Controller, error)

// Explore executes plan, then the plans its races lead to, nearest first,
// until Stop accepts one, none is left or the budget is spent.
func Explore(open Open, plan []interpose.Event, opts Options) (*Result, error) {
	x := &explorer{open: open, opts: opts, done: map[uint64]struct{}{}}
	x.runs = opts.Runs
	if x.runs <= 0 {
		x.runs = 100
	}
	heap.Push(&x.queue, &branch{tail: plan, omit: -1})
	for x.queue.Len() > 0 {
		if x.res.Runs >= x.runs || !opts.Deadline.IsZero() && time.Now().After(opts.Deadline) {
			return &x.res, nil
		}
		b := heap.Pop(&x.queue).(*branch)
		found, err := x.run(b)
		if err != nil {
			return nil, err
		}
		if found != nil {
			x.res.Found, x.res.Distance = found, b.dist
			return &x.res, nil
		}
	}
	x.res.Exhausted = true
	return &x.res, nil
}

// Causes executes plan once, exactly (no wildcard, no extension), and
// returns the events applied and, for each, the index of the event that
// sent the message it delivers, drops or duplicates (-1: none, or sent
// before the first event). A timer firing has none: a timer stays armed
// whichever event re-armed it last, so removing that event does not remove
// the firing. timed is Options.Timed.
func Causes(open Open, plan []interpose.Event, timed bool) ([]interpose.Event, []int, error) {
	x := &explorer{open: open, done: map[uint64]struct{}{}, runs: 1, opts: Options{Timed: timed}}
	ctl, err := open()
	if err != nil {
		return nil, nil, fmt.Errorf("dpor: %w", err)
	}
	e := x.newExecution(&branch{tail: plan, omit: -1}, ctl)
	err = e.execute()
	if cerr := e.sys.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dpor: %w", cerr)
	}
	if err != nil {
		return nil, nil, err
	}
	senders := make([]int, len(e.steps))
	for i, st := range e.steps {
		senders[i] = st.sender
		if st.timer {
			senders[i] = -1
		}
	}
	return e.events, senders, nil
}

// step is one event of an execution, with what the race analysis needs.
type step struct {
	ev interpose.Event
	// node is the node the event belongs to; 0 for a partition or heal,
	// which belongs to every node.
	node int
	// sender is the index of the event that sent a delivered message, -1
	// when it was sent before the execution's first event.
	sender int
	// prev is the index of the node's previous event, -1 for its first.
	prev int
	// timer is set when the message was a timer of its node.
	timer bool
	// vc is the event's vector clock, indexed by node (index 0 unused).
	vc []uint32
	// prefix is the hash of the events before this one: the state it
	// happened in.
	prefix uint64
}

type explorer struct {
	open  Open
	opts  Options
	queue queue
	// done holds (state, event) pairs explored or queued, as hashes.
	done map[uint64]struct{}
	res  Result
	seq  int
	runs int // the budget of executions
}

// mark records that event key is explored or queued at the state prefix,
// and reports whether it was new.
func (x *explorer) mark(prefix uint64, key string) bool {
	h := extend(prefix, key)
	if _, ok := x.done[h]; ok {
		return false
	}
	x.done[h] = struct{}{}
	return true
}

func (x *explorer) push(b *branch) {
	x.seq++
	x.res.Points++
	b.seq = x.seq
	heap.Push(&x.queue, b)
}

// extend hashes one more event onto a state's hash.
func extend(prefix uint64, key string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(prefix >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(key))
	return h.Sum64()
}

// execution is one run in progress.
type execution struct {
	x      *explorer
	b      *branch
	ctl    *interpose.Controller
	sys    interpose.System
	steps  []step
	owner  map[uint64]int // pending message's Seq → index of the event that sent it
	maxSeq uint64
	last   []int // each node's latest event, -1 for none
	found  bool
	// events are the events applied (as steps' ev), shared read-only with
	// the branches this execution queues; points is how many more it may
	// queue.
	events []interpose.Event
	points int
}

// newExecution starts executing b on a fresh system.
func (x *explorer) newExecution(b *branch, ctl *interpose.Controller) *execution {
	sys := ctl.System()
	e := &execution{x: x, b: b, ctl: ctl, sys: sys, owner: map[uint64]int{}, last: make([]int, sys.Nodes()+1),
		points: x.runs - x.res.Runs}
	for i := range e.last {
		e.last[i] = -1
	}
	for _, m := range sys.Pending() {
		e.maxSeq = max(e.maxSeq, m.Seq)
	}
	return e
}

// run executes one branch and queues the backtrack points its races give.
func (x *explorer) run(b *branch) (*interpose.Schedule, error) {
	ctl, err := x.open()
	if err != nil {
		return nil, fmt.Errorf("dpor: %w", err)
	}
	x.res.Runs++
	e := x.newExecution(b, ctl)
	sys := e.sys
	err = e.execute()
	if err == nil && !e.found {
		ctl.Finish()
		e.found = x.opts.Stop != nil && x.opts.Stop(ctl)
	}
	if err == nil && x.opts.Visit != nil {
		x.opts.Visit(ctl)
	}
	var found *interpose.Schedule
	if err == nil && e.found {
		found = ctl.Schedule()
	}
	if cerr := sys.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dpor: %w", cerr)
	}
	if err != nil || found != nil {
		return found, err
	}
	e.races(e.points)
	return nil, nil
}

// execute applies the branch's plan, then the extension.
func (e *execution) execute() error {
	var err error
	e.b.each(func(i int, ev interpose.Event) bool {
		ev.Result = ""
		err = e.apply(ev, i)
		return err == nil && !e.found
	})
	if err != nil || e.found {
		return err
	}
	choose := Canonical
	if e.x.opts.Choose != nil {
		choose = e.x.opts.Choose(e.x.res.Runs)
	}
	for range e.x.opts.Extend {
		ev, ok := choose(e.sys)
		if !ok {
			return nil
		}
		n := len(e.steps)
		if err := e.apply(ev, -1); err != nil || e.found {
			return err
		}
		if len(e.steps) == n {
			return nil // the chooser picked what cannot happen
		}
	}
	return nil
}

// Canonical picks an extension's next event: the first deliverable pending
// message, or else an advance of the lowest-numbered node that is up.
func Canonical(sys interpose.System) (interpose.Event, bool) {
	for _, m := range sys.Pending() {
		if m.Deliverable {
			msg := m.Msg
			return interpose.Event{Kind: interpose.Deliver, Msg: &msg}, true
		}
	}
	for n := 1; n <= sys.Nodes(); n++ {
		if sys.State(n) == interpose.Up {
			return interpose.Event{Kind: interpose.Advance, Node: n}, true
		}
	}
	return interpose.Event{}, false
}

// apply applies one event and records its step; at is its index in the plan
// (-1 in the extension). An event that cannot happen is skipped.
func (e *execution) apply(ev interpose.Event, at int) error {
	pend := e.sys.Pending() // valid until the next event
	if !e.x.opts.Timed || e.x.opts.Wildcard {
		ev.Took = 0
	}
	if e.x.opts.Wildcard {
		ev = interpose.WildAdvance(pend, ev)
	}
	seq, timer := seqOf(pend, ev)
	_, err := e.ctl.Step(ev)
	if errors.Is(err, interpose.ErrNotEnabled) && e.x.opts.Wildcard && ev.Msg != nil && ev.Msg.Key != "" {
		pend = e.sys.Pending() // the event did not happen: nothing changed
		if cands := interpose.Candidates(pend, ev); len(cands) > 0 {
			w := ev
			w.Msg = &cands[0]
			seq, timer = seqOf(pend, w)
			if _, err = e.ctl.Step(w); err == nil {
				e.ambiguous(ev, at, cands[1:])
			}
		}
	}
	if errors.Is(err, interpose.ErrNotEnabled) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dpor: event %d (%s): %w", len(e.steps)+1, ev.Kind, err)
	}
	e.record(e.ctl.Event(e.ctl.Len()-1), seq)
	e.steps[len(e.steps)-1].timer = timer
	if e.x.opts.Stop != nil && e.x.opts.Stop(e.ctl) {
		e.found = true
	}
	return nil
}

// ambiguous queues, for a delivery matched by type only, each other pending
// message of that type as a backtrack point at the same state.
func (e *execution) ambiguous(ev interpose.Event, at int, alts []interpose.Msg) {
	prefix := e.prefix()
	for _, alt := range alts {
		if e.points <= 0 {
			return
		}
		choice := ev
		choice.Msg = &alt
		if !e.x.mark(prefix, choice.Key()) {
			continue
		}
		b := &branch{head: e.events[:len(e.events):len(e.events)], choice: &choice, omit: -1, dist: e.b.dist + 1, depth: len(e.steps)}
		if at >= 0 {
			b.tail = e.rest(at + 1)
		}
		e.x.push(b)
		e.points--
	}
}

// rest returns the events of the branch's plan from index at on.
func (e *execution) rest(at int) []interpose.Event {
	var out []interpose.Event
	e.b.each(func(i int, ev interpose.Event) bool {
		if i >= at {
			out = append(out, ev)
		}
		return true
	})
	return out
}

// prefix is the hash of the state after the steps so far.
func (e *execution) prefix() uint64 {
	if len(e.steps) == 0 {
		return 0
	}
	s := e.steps[len(e.steps)-1]
	return extend(s.prefix, s.ev.Key())
}

// seqOf returns the arrival number of the message a deliver, drop or
// duplicate event acts on (the oldest that matches it), or 0, and whether
// that message is a timer.
func seqOf(pend []interpose.Message, ev interpose.Event) (uint64, bool) {
	switch ev.Kind {
	case interpose.Deliver, interpose.Drop, interpose.Duplicate:
	default:
		return 0, false
	}
	if ev.Msg == nil {
		return 0, false
	}
	var seq uint64
	timer := false
	for _, m := range pend {
		if ev.Msg.Matches(m.Msg) && (ev.Kind != interpose.Deliver || m.Deliverable) && (seq == 0 || m.Seq < seq) {
			seq, timer = m.Seq, m.Timer
			if ev.Msg.Key != "" {
				break // one fingerprint: the first is the oldest
			}
		}
	}
	return seq, timer
}

// record adds the step of an applied event: its node, the event that sent
// its message, its vector clock; and attributes the messages that appeared.
func (e *execution) record(ev interpose.Event, seq uint64) {
	idx := len(e.steps)
	s := step{ev: ev, node: ev.At(), sender: -1, prefix: e.prefix()}
	if o, ok := e.owner[seq]; ok && seq != 0 {
		s.sender = o
	}
	n := len(e.last) - 1
	s.vc = make([]uint32, n+1)
	if s.node == 0 {
		s.prev = -1
		for p := 1; p <= n; p++ {
			if l := e.last[p]; l >= 0 {
				maxInto(s.vc, e.steps[l].vc)
			}
		}
		if s.sender >= 0 {
			maxInto(s.vc, e.steps[s.sender].vc)
		}
		for p := 1; p <= n; p++ {
			s.vc[p]++
			e.last[p] = idx
		}
	} else {
		s.prev = e.last[s.node]
		if s.prev >= 0 {
			maxInto(s.vc, e.steps[s.prev].vc)
		}
		if s.sender >= 0 {
			maxInto(s.vc, e.steps[s.sender].vc)
		}
		s.vc[s.node]++
		e.last[s.node] = idx
	}
	e.steps = append(e.steps, s)
	ev.Result = ""
	e.events = append(e.events, ev)
	e.x.mark(s.prefix, ev.Key())
	top := e.maxSeq
	for _, m := range e.sys.Pending() {
		if m.Seq > e.maxSeq {
			e.owner[m.Seq] = idx
			top = max(top, m.Seq)
		}
	}
	e.maxSeq = top
}

func maxInto(dst, src []uint32) {
	for i, v := range src {
		dst[i] = max(dst[i], v)
	}
}

// hb reports whether step a happens before (or is) step b.
func (e *execution) hb(a, b int) bool {
	sa := &e.steps[a]
	p := sa.node
	if p == 0 {
		p = 1
	}
	return sa.vc[p] <= e.steps[b].vc[p]
}

// movable reports whether an event may be chosen at a backtrack point.
func movable(ev interpose.Event) bool { return !ev.Kind.External() }

// races queues a backtrack point for each reversible race of the execution,
// deepest first, as many as the runs left could ever take.
func (e *execution) races(limit int) {
	type race struct{ j, i int }
	var rs []race
	for i := range e.steps {
		si := &e.steps[i]
		j := si.prev
		if j < 0 || si.node == 0 || !movable(si.ev) {
			continue
		}
		sj := &e.steps[j]
		if sj.node == 0 || sj.ev.Kind == interpose.Start || sj.ev.Kind == interpose.Recover {
			continue // e_i cannot happen before its node is up, nor move across a cut
		}
		if si.sender >= 0 && e.hb(j, si.sender) {
			continue // e_i's message did not exist before e_j
		}
		rs = append(rs, race{j, i})
	}
	slices.SortStableFunc(rs, func(a, b race) int { return cmp.Compare(b.j, a.j) })
	first := make([]int, len(e.last))
	for _, r := range rs {
		if limit <= 0 {
			return
		}
		j, i := r.j, r.i
		u := e.initial(j, i, first)
		if u < 0 || !e.x.mark(e.steps[j].prefix, e.steps[u].ev.Key()) {
			continue
		}
		e.x.push(&branch{head: e.events[:j:j], choice: &e.steps[u].ev, tail: e.events[j:], omit: u - j, dist: e.b.dist + 1, depth: j})
		limit--
	}
}

// initial returns an event to try at the state before e_j so that e_i can
// come before e_j: e_i itself when nothing between them that is independent
// of e_j leads to it, else the first initial that starts a chain to it. It
// returns -1 when one of these initials is already done or queued there, or
// when none may be moved.
//
// The events considered, v, are those after e_j that do not happen after it,
// then e_i. An event of v is an initial when no earlier event of v happens
// before it; it is enough to look at the first event of v of each node
// (first, reused storage indexed by node), whose clock entry is the
// smallest.
func (e *execution) initial(j, i int, first []int) int {
	for q := range first {
		first[q] = -1
	}
	choice, bestRank := -1, 3
	consider := func(u int) bool {
		su := &e.steps[u]
		for q, w := range first {
			if w >= 0 && e.steps[w].vc[q] <= su.vc[q] {
				return true // not an initial
			}
		}
		if _, ok := e.x.done[extend(e.steps[j].prefix, su.ev.Key())]; ok {
			return false // the source set already holds an initial
		}
		if !movable(su.ev) {
			return true
		}
		// e_i itself when it is an initial (the smallest change), else the
		// first initial that leads to e_i, else the first initial.
		if rank := e.rank(u, i); choice < 0 || rank < bestRank {
			choice, bestRank = u, rank
		}
		return true
	}
	for k := j + 1; k < i; k++ {
		if e.hb(j, k) {
			continue
		}
		if !consider(k) {
			return -1
		}
		if q := e.steps[k].node; first[q] < 0 {
			first[q] = k
		}
	}
	if !consider(i) {
		return -1
	}
	return choice
}

// rank orders the initials offered for a race with e_i: e_i itself (0),
// one that happens before e_i (1), any other (2).
func (e *execution) rank(u, i int) int {
	switch {
	case u == i:
		return 0
	case e.hb(u, i):
		return 1
	}
	return 2
}

// branch is a plan waiting in the queue: head, then choice (if set), then
// tail without its omit-th event (omit < 0: none). The slices are shared
// with the execution that queued the branch and never written.
type branch struct {
	head   []interpose.Event
	choice *interpose.Event
	tail   []interpose.Event
	omit   int
	dist   int // reorderings from the original plan
	depth  int // index of the backtrack point
	seq    int // order of queueing, for ties
}

// each calls f with every event of the plan and its index in the plan, until
// f returns false.
func (b *branch) each(f func(i int, ev interpose.Event) bool) {
	i := 0
	for _, ev := range b.head {
		if !f(i, ev) {
			return
		}
		i++
	}
	if b.choice != nil {
		if !f(i, *b.choice) {
			return
		}
		i++
	}
	for k, ev := range b.tail {
		if k == b.omit {
			continue
		}
		if !f(i, ev) {
			return
		}
		i++
	}
}

// queue orders branches nearest first, then deepest backtrack point, then
// first queued.
type queue []*branch

func (q queue) Len() int { return len(q) }
func (q queue) Less(a, b int) bool {
	if q[a].dist != q[b].dist {
		return q[a].dist < q[b].dist
	}
	if q[a].depth != q[b].depth {
		return q[a].depth > q[b].depth
	}
	return q[a].seq < q[b].seq
}
func (q queue) Swap(a, b int) { q[a], q[b] = q[b], q[a] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*branch)) }
func (q *queue) Pop() any {
	old := *q
	b := old[len(old)-1]
	*q = old[:len(old)-1]
	return b
}
