package fuzz

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/faultline-dev/faultline/interpose"
)

// Weights are the relative chances of each kind of event at a step, among the
// kinds that can happen then. A zero weight turns a kind off.
type Weights struct {
	Deliver int `json:"deliver"`
	// Timer is the weight of firing a pending timer (a message marked
	// Timer). Zero: timers are delivered as any other message, under
	// Deliver.
	Timer      int `json:"timer,omitempty"`
	Drop       int `json:"drop"`
	Duplicate  int `json:"duplicate"`
	Advance    int `json:"advance"`
	Crash      int `json:"crash"`
	Recover    int `json:"recover"`
	Client     int `json:"client"`
	Partition  int `json:"partition"`
	Heal       int `json:"heal"`
	Membership int `json:"membership"`
	Transfer   int `json:"transfer"`
	// Disk is the weight of a storage fault (interpose.Disk: a stall, a
	// slow disk, a failed log write, a torn crash, or their end) on a node that has
	// started; zero (the default) draws none, so that walks without it
	// are what they were.
	Disk int `json:"disk,omitempty"`
	// Choice is the weight of settling a controlled choice (interpose.Choice:
	// the next call of a mock fails, say) on a node whose process makes
	// some (an interpose.Chooser); a system that makes none draws none, so
	// its walks are what they were.
	Choice int `json:"choice,omitempty"`
}

// DefaultWeights enable every kind of fault. Deliveries dominate so that the
// cluster makes progress between faults.
func DefaultWeights() Weights {
	return Weights{
		Deliver: 100, Drop: 3, Duplicate: 2, Advance: 20,
		Crash: 3, Recover: 6, Client: 6,
		Partition: 1, Heal: 3, Membership: 1, Transfer: 1,
		Choice: 6,
	}
}

// walker chooses the events of one run: a seeded random walk over the events
// enabled at each step.
type walker struct {
	rng     *rand.Rand
	sys     interpose.System
	w       Weights
	maxDown int
	cut     bool
	chooser interpose.Chooser // sys, when its processes make choices
	grouped bool              // sys marks repeated fingerprints (interpose.Grouper)
	// summarizer is sys when it keeps a summary of its pending messages;
	// sum is its summary at this event.
	summarizer interpose.Summarizer
	sum        *interpose.Summary
	writes     int
	clients    []string
	// makeClient is the target's own maker of client operations
	// (ClientMaker), when Options.Clients is not set.
	makeClient func(*rand.Rand) (string, bool)
	reads      int // percent of the built-in KV's operations that are reads
	prologue   []interpose.Event

	started int
	step    int                 // events chosen after the starts and the prologue
	pct     *pct                // nil: the random walk
	msgs    *interpose.MsgBlock // the events' fingerprints
	nodes   []int               // scratch
	firsts  []int32             // scratch: where distinct fingerprints start in pending
	// timerFirsts is firsts for the timers a timer event fires, when they
	// have a weight of their own.
	timerFirsts []int32
}

func newWalker(sys interpose.System, seed uint64, w Weights, maxDown int) *walker {
	ch, _ := sys.(interpose.Chooser)
	_, grouped := sys.(interpose.Grouper)
	sum, _ := sys.(interpose.Summarizer)
	return &walker{
		grouped:    grouped,
		summarizer: sum,
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		sys:        sys,
		w:          w,
		maxDown:    maxDown,
		chooser:    ch,
		msgs:       &interpose.MsgBlock{},
	}
}

// next returns the next event, or false when nothing can happen.
func (w *walker) next() (interpose.Event, bool) {
	n := w.sys.Nodes()
	// A run starts every node first, in order.
	if w.started < n {
		w.started++
		return interpose.Event{Kind: interpose.Start, Node: w.started}, true
	}
	if len(w.prologue) > 0 {
		ev := w.prologue[0]
		w.prologue = w.prologue[1:]
		return ev, true
	}
	w.step++
	pending := w.sys.Pending()
	up, down := 0, 0
	for i := 1; i <= n; i++ {
		switch w.sys.State(i) {
		case interpose.Up:
			up++
		case interpose.Down:
			down++
		}
	}
	// Where the distinct fingerprints a delivery and a timer's firing
	// choose among first are: kept by a Summarizer, else noted in one pass
	// (as message does for the other kinds).
	requests, own, deliverable, timers := 0, 0, 0, 0
	if w.summarizer != nil {
		// The system keeps the counts and marks that pass would make.
		w.sum = w.summarizer.Summary()
		requests, own = w.sum.Requests, w.sum.Timers
		deliverable, timers = w.sum.Deliver.Count(), w.sum.Fire.Count()
		if w.w.Timer == 0 {
			deliverable, timers = deliverable+timers, 0 // timers fire as messages are delivered
		}
	} else {
		w.firsts, w.timerFirsts = w.firsts[:0], w.timerFirsts[:0]
		var lastD, lastT *interpose.Msg
		for i := range pending {
			m := &pending[i]
			if m.Timer {
				own++
			}
			if m.Request {
				requests++
			}
			switch {
			case !m.Deliverable:
			case m.Timer && w.w.Timer > 0:
				w.timerFirsts = w.noteFirst(w.timerFirsts, &lastT, pending, i)
			default:
				w.firsts = w.noteFirst(w.firsts, &lastD, pending, i)
			}
		}
		deliverable, timers = len(w.firsts), len(w.timerFirsts)
	}
	type choice struct {
		kind   interpose.Kind
		weight int
	}
	choices := [...]choice{
		{interpose.Deliver, when(deliverable > 0, w.w.Deliver)},
		{timerKind, when(timers > 0, w.w.Timer)},
		{interpose.Drop, when(len(pending) > own, w.w.Drop)},
		{interpose.Duplicate, when(requests > 0, w.w.Duplicate)},
		{interpose.Advance, when(up > 0, w.w.Advance)},
		{interpose.Crash, when(up > 0 && down < w.maxDown, w.w.Crash)},
		{interpose.Recover, when(down > 0, w.w.Recover)},
		{interpose.Client, when(up > 0, w.w.Client)},
		{interpose.Partition, when(n > 1 && !w.cut, w.w.Partition)},
		{interpose.Heal, when(w.cut, w.w.Heal)},
		{interpose.Membership, when(up > 0 && n > 1, w.w.Membership)},
		{interpose.Transfer, when(up > 0 && n > 1, w.w.Transfer)},
		{interpose.Disk, when(up > 0, w.w.Disk)},
		{interpose.Choice, when(w.w.Choice > 0 && w.choosers() > 0, w.w.Choice)},
	}
	total := 0
	for _, c := range choices {
		total += c.weight
	}
	if total == 0 {
		return interpose.Event{}, false
	}
	pick := w.rng.IntN(total)
	var kind interpose.Kind
	for _, c := range choices {
		if pick < c.weight {
			kind = c.kind
			break
		}
		pick -= c.weight
	}
	switch kind {
	case interpose.Deliver:
		return w.deliver(pending, false, deliverable, func(m *interpose.Message) bool {
			return m.Deliverable && (!m.Timer || w.w.Timer == 0)
		}), true
	case timerKind:
		return w.deliver(pending, true, timers, func(m *interpose.Message) bool { return m.Deliverable && m.Timer }), true
	case interpose.Drop:
		// The network loses messages, not a node's own timers: a timer
		// that never fires is no fault a running node has (a crash takes
		// them all), and a liveness verdict after one would be unfair.
		return w.message(kind, pending, func(m *interpose.Message) bool { return !m.Timer }), true
	case interpose.Duplicate:
		return w.message(kind, pending, func(m *interpose.Message) bool { return m.Request }), true
	case interpose.Advance, interpose.Crash, interpose.Client, interpose.Membership, interpose.Transfer:
		ev := interpose.Event{Kind: kind, Node: w.node(interpose.Up)}
		switch kind {
		case interpose.Client:
			w.writes++
			if len(w.clients) > 0 {
				ev.Data = w.clients[w.rng.IntN(len(w.clients))]
				break
			}
			if w.makeClient != nil {
				if data, ok := w.makeClient(w.rng); ok {
					ev.Data = data
					break
				}
			}
			key := "k" + strconv.Itoa(w.rng.IntN(4))
			if w.reads > 0 && w.rng.IntN(100) < w.reads { // drawn only with reads: walks without are unchanged
				ev.Data = interpose.KVRead + key
			} else {
				ev.Data = key + "=" + strconv.Itoa(w.writes)
			}
		case interpose.Membership:
			ev.Op = interpose.MembershipOps[w.rng.IntN(len(interpose.MembershipOps))]
			ev.Peer = 1 + w.rng.IntN(n)
		case interpose.Transfer:
			if p := w.rng.IntN(n + 1); p != ev.Node {
				ev.Peer = p
			}
		}
		return ev, true
	case interpose.Recover:
		return interpose.Event{Kind: kind, Node: w.node(interpose.Down)}, true
	case interpose.Disk:
		ev := interpose.Event{Kind: kind, Node: w.node(interpose.Up), Op: interpose.DiskOps[w.rng.IntN(len(interpose.DiskOps))]}
		switch ev.Op {
		case interpose.DiskStall, interpose.DiskSlow:
			ev.Took = diskTimes[w.rng.IntN(len(diskTimes))]
		case interpose.DiskTear:
			// Raft's operations write one to three times (a vote: the
			// term, the vote's term, the candidate): a tear before the
			// first, second or third write from now.
			ev.Nth = 1 + w.rng.IntN(3)
		}
		return ev, true
	case interpose.Choice:
		return w.choice(), true
	case interpose.Partition:
		w.cut = true
		return interpose.Event{Kind: kind, Groups: w.split(n)}, true
	case interpose.Heal:
		w.cut = false
		return interpose.Event{Kind: kind}, true
	}
	return interpose.Event{}, false
}

// choosers lists (in w.nodes) the live nodes whose processes make controlled
// choices with an outcome besides the default, and returns how many.
func (w *walker) choosers() int {
	w.nodes = w.nodes[:0]
	if w.chooser == nil {
		return 0
	}
	for i := 1; i <= w.sys.Nodes(); i++ {
		if slices.ContainsFunc(w.chooser.ChoicePoints(i), func(p interpose.ChoicePoint) bool { return len(p.Outcomes) > 1 }) {
			w.nodes = append(w.nodes, i)
		}
	}
	return len(w.nodes)
}

// choice settles a choice of a node that makes some: one of its choice
// points, and one of its outcomes other than the default (without the
// event, the choice takes the default).
func (w *walker) choice() interpose.Event {
	w.choosers()
	node := w.nodes[w.rng.IntN(len(w.nodes))]
	var points []interpose.ChoicePoint
	for _, p := range w.chooser.ChoicePoints(node) {
		if len(p.Outcomes) > 1 {
			points = append(points, p)
		}
	}
	p := points[w.rng.IntN(len(points))]
	return interpose.Event{Kind: interpose.Choice, Node: node, Data: p.Name, Op: p.Outcomes[1+w.rng.IntN(len(p.Outcomes)-1)]}
}

// diskTimes are the lengths of the stalls and slow calls the walk draws: a
// few milliseconds (a busy disk) to seconds (longer than an election
// timeout: a disk that hangs).
var diskTimes = []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second, 5 * time.Second}

// timerKind is the walker's choice of firing a timer, which it applies as a
// delivery.
const timerKind interpose.Kind = "timer"

func when(ok bool, weight int) int {
	if ok {
		return weight
	}
	return 0
}

// deliver picks the message to deliver: by PCT's priorities, or as message
// does.
//
// Under PCT a timer still fires as often as in the random walk: an armed
// timer is always pending, and a timer chain with the top priority would
// fire forever and starve every message. So the walk's own pick decides
// whether a timer fires; when it picks a message, PCT's priorities choose
// which.
//
// n is how many distinct fingerprints the walk's own pick draws among:
// those of the messages that pass keep, or of the timers when timers is
// set (drawFirst).
func (w *walker) deliver(pending []interpose.Message, timers bool, n int, keep func(*interpose.Message) bool) interpose.Event {
	i := w.drawFirst(timers, n)
	ev := interpose.Event{Kind: interpose.Deliver, Msg: w.msg(pending[i].Msg), Hint: i + 1}
	if w.pct == nil || w.isTimer(pending, *ev.Msg) {
		return ev
	}
	m, ok := w.pct.pick(pending, func(m *interpose.Message) bool { return !m.Timer && keep(m) })
	if !ok {
		return ev
	}
	w.pct.delivered(m, w.step)
	return interpose.Event{Kind: interpose.Deliver, Msg: w.msg(m.Msg)}
}

// isTimer reports whether the pending messages with fingerprint fp are
// timers.
func (w *walker) isTimer(pending []interpose.Message, fp interpose.Msg) bool {
	for _, m := range pending {
		if m.Msg == fp {
			return m.Timer
		}
	}
	return false
}

// message picks one of the distinct fingerprints among the pending messages
// that pass keep. Identical fingerprints count once: the system delivers the
// oldest message with the chosen fingerprint.
func (w *walker) message(kind interpose.Kind, pending []interpose.Message, keep func(*interpose.Message) bool) interpose.Event {
	// Note where each distinct fingerprint first is (pending is sorted by
	// fingerprint: duplicates are adjacent), then draw one of them.
	w.firsts = w.firsts[:0]
	var last *interpose.Msg
	for i := range pending {
		if keep(&pending[i]) {
			w.firsts = noteFirst(w.firsts, &last, pending, i)
		}
	}
	return w.pick(kind, pending, w.firsts)
}

// noteFirst appends i to firsts when pending[i]'s fingerprint differs from
// *last, the last one noted, and makes it the last one noted.
func noteFirst(firsts []int32, last **interpose.Msg, pending []interpose.Message, i int) []int32 {
	m := &pending[i].Msg
	if *last != nil && sameMsg(*last, m) {
		return firsts
	}
	*last = m
	return append(firsts, int32(i))
}

// noteFirst is noteFirst for the pass over every pending message, where a
// Grouper's marks tell the repeats (all of a fingerprint alike in
// Deliverable and Timer) without comparing neighbours.
func (w *walker) noteFirst(firsts []int32, last **interpose.Msg, pending []interpose.Message, i int) []int32 {
	if !w.grouped {
		return noteFirst(firsts, last, pending, i)
	}
	if pending[i].Repeat {
		return firsts
	}
	return append(firsts, int32(i))
}

// drawFirst draws one of the n distinct fingerprints a delivery (timers
// false) or a timer's firing chooses among, and returns where the first
// message of it is in pending: from the system's summary, when it keeps
// one, else from the marks of next's pass (as pick does).
func (w *walker) drawFirst(timers bool, n int) int {
	k := w.rng.IntN(n)
	if s := w.sum; s != nil {
		switch {
		case timers:
			return s.Fire.Select(k)
		case w.w.Timer > 0:
			return s.Deliver.Select(k)
		}
		return interpose.SelectEither(&s.Deliver, &s.Fire, k)
	}
	if timers {
		return int(w.timerFirsts[k])
	}
	return int(w.firsts[k])
}

// pick draws one of the fingerprints that start at firsts in pending.
func (w *walker) pick(kind interpose.Kind, pending []interpose.Message, firsts []int32) interpose.Event {
	i := firsts[w.rng.IntN(len(firsts))]
	return interpose.Event{Kind: kind, Msg: w.msg(pending[i].Msg), Hint: int(i) + 1}
}

// sameMsg is *a == *b, the numbers compared first (neighbours in canonical
// order mostly share their type and differ in their nodes).
func sameMsg(a, b *interpose.Msg) bool {
	return a.From == b.From && a.To == b.To && a.Type == b.Type && a.Key == b.Key
}

// msg returns a pointer to a copy of m, for an event.
func (w *walker) msg(m interpose.Msg) *interpose.Msg { return w.msgs.Copy(m) }

// node picks a node in state s.
func (w *walker) node(s interpose.NodeState) int {
	w.nodes = w.nodes[:0]
	for i := 1; i <= w.sys.Nodes(); i++ {
		if w.sys.State(i) == s {
			w.nodes = append(w.nodes, i)
		}
	}
	return w.nodes[w.rng.IntN(len(w.nodes))]
}

// split cuts the nodes into a minority, chosen at random, and the rest.
func (w *walker) split(n int) [][]int {
	size := 1 + w.rng.IntN(max((n-1)/2, 1))
	perm := w.rng.Perm(n)
	minority := make([]bool, n+1)
	for _, p := range perm[:size] {
		minority[p+1] = true
	}
	var a, b []int
	for i := 1; i <= n; i++ {
		if minority[i] {
			a = append(a, i)
		} else {
			b = append(b, i)
		}
	}
	return [][]int{a, b}
}
