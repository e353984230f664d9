package interpose

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DefaultStabilize is a stabilization phase's bound when none is given:
// election timeouts of virtual time on a system with clocks, turns of each
// node on one whose timers are messages.
const DefaultStabilize = 20

// maxRounds bounds the rounds of a phase whatever its bound in time: a
// leader whose clock moves a few milliseconds a round would take
// thousands. maxEvents bounds its events, far above what a phase needs: it
// is the bound of last resort of a livelock (two nodes sending each other
// the same messages for ever), which otherwise ends with the bound in time,
// since quiet delivers a bounded number of messages a round.
const (
	maxRounds = 4000
	maxEvents = 50000
)

// StabilizeOptions configure a stabilization phase (Controller.Stabilize).
// The zero value runs a phase of DefaultStabilize on a system whose timers
// are messages, with writes "k0=N".
type StabilizeOptions struct {
	// Bound is the phase's length (0: DefaultStabilize): election timeouts
	// of virtual time with Clocks, else turns of each node.
	Bound int
	// Clocks says the system's nodes have clocks that Advance moves
	// (hashicorp/raft); without, their timers are pending messages that a
	// delivery fires (the actor runtime).
	Clocks bool
	// ElectionTimeout is the unit of Bound with Clocks (0: one second).
	ElectionTimeout time.Duration
	// Writes are the payloads of the phase's client writes, used in turn
	// (nil: "k0=1", "k0=2", ...); NoWrites turns them off.
	Writes   []string
	NoWrites bool
	// Keep is a fault the phase keeps for good instead of healing it (the
	// zero value: none): Node cut off both ways (Isolate), cut off in what
	// it sends (Mute: a one-way partition), or down (KeepDown). Liveness is
	// then owed by the others (View.Excused).
	Keep Permanent
	// Msgs hands out the fingerprints of the phase's events (nil: a block
	// of its own): a walk passes its own, which it reuses for its next run
	// when nothing kept this one's schedule.
	Msgs *MsgBlock `json:"-"`
}

// Permanent is a fault kept for good through a stabilization phase: Kind
// is one of Permanents ("" for none), Node the node it applies to.
type Permanent struct {
	Kind string
	Node int
}

// PhaseOf splits a schedule at its stabilization phase: the events before
// the Stabilize event, and the options that make the phase again (its
// bound, from the event; clocks when the phase advanced a clock, or the
// target names an election timeout; its writes' payloads). ok is false for
// a schedule without a phase.
func PhaseOf(s *Schedule) (pre []Event, o StabilizeOptions, ok bool) {
	i := slices.IndexFunc(s.Events, func(e Event) bool { return e.Kind == Stabilize })
	if i < 0 {
		return s.Events, o, false
	}
	o.Bound = s.Events[i].Bound
	o.Keep = Permanent{Kind: s.Events[i].Op, Node: s.Events[i].Node}
	et, err := time.ParseDuration(s.Target.Config["election_timeout"])
	if err == nil {
		o.Clocks, o.ElectionTimeout = true, et
	}
	writes := false
	for _, e := range s.Events[i+1:] {
		switch e.Kind {
		case Advance:
			o.Clocks = true
		case Client:
			writes = true
			o.Writes = append(o.Writes, e.Data)
		}
	}
	o.NoWrites = !writes && len(s.Events) > i+1
	return s.Events[:i], o, true
}

// stabilizer runs one stabilization phase.
type stabilizer struct {
	c       *Controller
	o       StabilizeOptions
	buf     *[]Message // a copy of Pending, from pendingBufs
	msgs    *MsgBlock  // the phase's events' fingerprints
	writes  int
	elapsed time.Duration // the phase's virtual time so far (see tick)
	clock   map[int]time.Duration
}

// Stabilize runs a stabilization phase: a Stabilize event (recording the
// bound and the fault kept, if any), then the faults healed (the partition,
// every node down recovered, every node never started started, every
// storage fault ended) except the
// one kept for good (o.Keep: a node cut off both ways or one way, which the
// phase does with a Partition event, or a node down), and no new ones; then rounds, each delivering every message
// until the network is quiet (oldest first, every channel served, up to a
// bound), writing through the node that leads (or the next live one), and
// letting time pass (tick). It ends once Bound election timeouts of virtual
// time have passed (the leader's clock while there is one, else any
// node's), or each node had Bound turns when the system's timers are
// messages, or as soon as no liveness monitor is hot. Everything it does is
// an event of the schedule, after the Stabilize event, so that a replay
// does it again. It does not settle the run: Settle judges the monitors.
func (c *Controller) Stabilize(o StabilizeOptions) error {
	if o.Bound <= 0 {
		o.Bound = DefaultStabilize
	}
	if o.ElectionTimeout <= 0 {
		o.ElectionTimeout = time.Second
	}
	n := c.sys.Nodes()
	k := o.Keep
	if k.Kind != "" && (!slices.Contains(Permanents, k.Kind) || k.Node < 1 || k.Node > n) {
		return fmt.Errorf("stabilize: cannot keep %q n%d (want one of %v, on a node of 1..%d)", k.Kind, k.Node, Permanents, n)
	}
	s := &stabilizer{c: c, o: o, clock: map[int]time.Duration{}, msgs: o.Msgs}
	if s.msgs == nil {
		s.msgs = &MsgBlock{}
	}
	s.buf, _ = pendingBufs.Get().(*[]Message)
	if s.buf == nil {
		s.buf = new([]Message)
	}
	defer func() {
		clear((*s.buf)[:cap(*s.buf)])
		pendingBufs.Put(s.buf)
	}()
	if err := s.step(Event{Kind: Stabilize, Bound: o.Bound, Op: k.Kind, Node: k.Node}); err != nil {
		return err
	}
	switch k.Kind {
	case Isolate, Mute:
		var rest []int
		for id := 1; id <= n; id++ {
			if id != k.Node {
				rest = append(rest, id)
			}
		}
		ev := Event{Kind: Partition, Groups: [][]int{rest, {k.Node}}}
		if k.Kind == Mute {
			ev.Op = OneWay
		}
		if err := s.step(ev); err != nil {
			return err
		}
	default:
		if err := s.step(Event{Kind: Heal}); err != nil {
			return err
		}
	}
	for id := 1; id <= n; id++ {
		// Storage faults end too (a system without disks, or a disk
		// without a fault, does not take the event: it is not recorded).
		if err := s.step(Event{Kind: Disk, Node: id, Op: DiskHeal}); err != nil {
			return err
		}
		if k.Kind == KeepDown && id == k.Node {
			// Down for good: started if it never was (the others count
			// it as a member), then crashed.
			if c.sys.State(id) == NotStarted {
				if err := s.step(Event{Kind: Start, Node: id}); err != nil {
					return err
				}
			}
			if c.sys.State(id) == Up {
				if err := s.step(Event{Kind: Crash, Node: id}); err != nil {
					return err
				}
			}
			continue
		}
		// Every node takes part: one never started is started (a schedule
		// a minimizer cut may have lost its start), one down recovers.
		switch c.sys.State(id) {
		case NotStarted:
			if err := s.step(Event{Kind: Start, Node: id}); err != nil {
				return err
			}
		case Down:
			if err := s.step(Event{Kind: Recover, Node: id}); err != nil {
				return err
			}
		}
	}
	rounds, limit := o.Bound*n, time.Duration(0)
	if o.Clocks {
		rounds, limit = maxRounds, time.Duration(o.Bound)*o.ElectionTimeout
	}
	c.Check()
	start := c.Len()
	for round := 0; round < rounds && c.Hot() && (limit == 0 || s.elapsed < limit) && c.Len()-start < maxEvents; round++ {
		if err := s.quiet(); err != nil {
			return err
		}
		if !o.NoWrites {
			if err := s.step(s.write(round)); err != nil {
				return err
			}
			if err := s.quiet(); err != nil {
				return err
			}
		}
		c.Check()
		if err := s.tick(round); err != nil {
			return err
		}
		c.Check()
	}
	return nil
}

// step applies an event; one that cannot happen now is passed over.
func (s *stabilizer) step(ev Event) error {
	if _, err := s.c.Step(ev); err != nil && !errors.Is(err, ErrNotEnabled) {
		return err
	}
	return nil
}

// quiet delivers the deliverable messages that are not timers, oldest
// first, until there are none, or a bound of a few exchanges between every
// pair of nodes: a system that keeps talking without time passing (a
// livelock, or a follower catching up) goes on in the next round, after
// time has passed, so that the phase's bound in time is reached in a bounded
// number of events (a leader's snapshot taken on its clock, say, can end a
// loop).
func (s *stabilizer) quiet() error {
	if err := s.lose(); err != nil {
		return err
	}
	n := s.c.sys.Nodes()
	for budget := 4 * n * n; budget > 0; {
		buf := slices.DeleteFunc(append((*s.buf)[:0], s.c.sys.Pending()...), func(m Message) bool { return !m.Deliverable || m.Timer })
		*s.buf = buf
		if len(buf) == 0 {
			return nil
		}
		fairOrder(buf)
		for i := range buf {
			if budget--; budget < 0 {
				return nil
			}
			if err := s.step(Event{Kind: Deliver, Msg: s.msgs.Copy(buf[i].Msg)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// fairOrder sorts messages for a pass of the phase: by channel (source,
// destination, type), oldest first within one. Every message pending at the
// start of a pass is delivered in it, so every channel is served; the order
// across channels is canonical, not arrival order, which a system whose
// nodes send from several goroutines at once (hashicorp/raft replicates to
// each follower on its own) does not keep from one execution to the next.
// Within a channel one goroutine sends, so arrival order is its order.
func fairOrder(ms []Message) {
	slices.SortFunc(ms, func(a, b Message) int {
		return cmp.Or(cmp.Compare(a.Msg.From, b.Msg.From), cmp.Compare(a.Msg.To, b.Msg.To),
			cmp.Compare(a.Msg.Type, b.Msg.Type), cmp.Compare(a.Seq, b.Seq))
	})
}

// lose drops, when the phase keeps a fault, the messages that fault holds
// back (to a node down for good, across the cut), as a transport's timeout
// fails a call that gets no answer: a caller waiting for one (raft's
// leadership transfer waits for its TimeoutNow, and refuses writes until
// it returns) sees an error instead of waiting for ever. Without a kept
// fault every message is deliverable in the phase and nothing is lost.
func (s *stabilizer) lose() error {
	if s.o.Keep.Kind == "" {
		return nil
	}
	buf := append((*s.buf)[:0], s.c.sys.Pending()...)
	*s.buf = buf
	fairOrder(buf)
	for _, m := range buf {
		if !m.Deliverable && !m.Timer {
			if err := s.step(Event{Kind: Drop, Msg: s.msgs.Copy(m.Msg)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// leader is the node whose facts, at the last check, say it leads the
// highest term, and that term (0: none).
func (s *stabilizer) leader() (int, uint64) {
	id, term := 0, uint64(0)
	for _, v := range s.c.Nodes() {
		if r, ok := RaftOf(v); ok && v.Up && v.Node != s.o.Keep.Node && r.Role == RoleLeader && (id == 0 || r.Term > term) {
			id, term = v.Node, r.Term
		}
	}
	return id, term
}

// live lists the nodes up.
func (s *stabilizer) live() []int {
	var live []int
	for id := 1; id <= s.c.sys.Nodes(); id++ {
		if s.c.sys.State(id) == Up {
			live = append(live, id)
		}
	}
	return live
}

// write is the phase's client write of a round: through the leader, else
// through the live nodes in turn.
func (s *stabilizer) write(round int) Event {
	s.writes++
	leader, _ := s.leader()
	ev := Event{Kind: Client, Node: leader}
	if len(s.o.Writes) > 0 {
		ev.Data = s.o.Writes[(s.writes-1)%len(s.o.Writes)]
	} else {
		ev.Data = "k0=" + strconv.Itoa(s.writes)
	}
	if live := s.live(); ev.Node == 0 && len(live) > 0 {
		ev.Node = live[round%len(live)]
	}
	return ev
}

// tick lets time pass. With a leader: for the leader (its next heartbeat)
// and for every live node that does not follow it in its term (a candidate
// waits for its election timer: a real one fires); its followers need no
// time, as a real cluster's heartbeats keep their timers from firing.
// Without a leader: for one live node at a time, in turn, so that one
// candidate runs before the others time out (timeouts are random in a real
// cluster; here every node's next timer would fire at once and split the
// votes for ever), and every node gets its turn (a candidate whose log is
// behind cannot win). The phase's time is its leader's clock (a transfer of
// leadership, say, times out on it), or any node's while there is none: a
// node outside the configuration advancing to its cap round after round
// must not end the phase.
func (s *stabilizer) tick(round int) error {
	var nodes []int
	leader, term := s.leader()
	if leader != 0 {
		nodes = append(nodes, leader)
		for _, v := range s.c.Nodes() {
			r, ok := RaftOf(v)
			if v.Up && v.Node != leader && (!ok || r.Role != RoleFollower || r.Term != term) {
				nodes = append(nodes, v.Node)
			}
		}
	} else if live := s.live(); len(live) > 0 {
		nodes = append(nodes, live[round%len(live)])
	}
	for _, id := range nodes {
		if err := s.pass(id); err != nil {
			return err
		}
	}
	if leader != 0 {
		s.elapsed = max(s.elapsed, s.clock[leader])
	} else {
		for _, c := range s.clock {
			s.elapsed = max(s.elapsed, c)
		}
	}
	return nil
}

// pass lets time pass for node id: an advance of its clock, or its oldest
// timer fired.
func (s *stabilizer) pass(id int) error {
	if s.o.Clocks {
		if err := s.step(Event{Kind: Advance, Node: id}); err != nil {
			return err
		}
		if ev := s.c.Event(s.c.Len() - 1); ev.Kind == Advance && ev.Node == id {
			s.clock[id] += ev.Took
		}
		return nil
	}
	var oldest *Message
	for _, m := range s.c.sys.Pending() {
		if m.Timer && m.Deliverable && m.Msg.To == id && (oldest == nil || m.Seq < oldest.Seq) {
			oldest = &m
		}
	}
	if oldest == nil {
		return nil
	}
	return s.step(Event{Kind: Deliver, Msg: &oldest.Msg})
}

// pendingBufs are the copies of Pending that phases sort and go through,
// kept from one phase to the next.
var pendingBufs sync.Pool
