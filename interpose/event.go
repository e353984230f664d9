package interpose

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind names what an event does. Its string is what a schedule file stores.
type Kind string

// The event kinds. Deliver, Drop, Duplicate and Advance are internal events: the
// network and the clocks. The others are external: what an operator or a client
// does to the cluster.
const (
	Deliver    Kind = "deliver"    // deliver the pending message Msg
	Drop       Kind = "drop"       // drop the pending message Msg; a waiting caller gets an error
	Duplicate  Kind = "duplicate"  // put a second copy of the pending request Msg in the network
	Advance    Kind = "advance"    // advance Node's clock until it sends something (or a cap)
	Start      Kind = "start"      // start Node for the first time
	Crash      Kind = "crash"      // crash Node; its durable stores survive
	Recover    Kind = "recover"    // restart a crashed Node on its durable stores
	Client     Kind = "client"     // a client operation Data sent through Node
	Partition  Kind = "partition"  // cut the network into Groups
	Heal       Kind = "heal"       // remove the cut
	Membership Kind = "membership" // membership change Op of Peer, issued through Node
	Transfer   Kind = "transfer"   // leadership transfer to Peer (0: any), issued through Node
	// Stabilize marks where a run's stabilization phase begins: the events
	// after it heal the faults and let the system make progress, and the
	// liveness monitors are judged at the end of the run. The system never
	// sees it: the controller records it and tells the checker.
	Stabilize Kind = "stabilize"
	// Disk is a storage fault of Node's disk, Op one of DiskOps: its next
	// store call stalls for Took of its virtual time (DiskStall), every
	// call takes Took from now on (DiskSlow), its next log store write
	// fails (DiskFail), the node crashes just before its Nth store write
	// from now, in the middle of whatever raft operation makes it
	// (DiskTear), or all of these end (DiskHeal).
	Disk Kind = "disk"
	// Choice settles a controlled choice: the next time Node's process
	// makes the choice named Data (a ChoicePoint of a Chooser system: a
	// mock's call that may fail, time out, or fail after doing the work),
	// it takes the outcome Op. A choice with no Choice event before it
	// takes its first outcome, the default: a minimizer that removes the
	// event leaves the default.
	Choice Kind = "choice"
)

// Kinds lists every kind in a fixed order.
var Kinds = []Kind{Deliver, Drop, Duplicate, Advance, Start, Crash, Recover, Client, Partition, Heal, Membership, Transfer, Stabilize, Disk,
	Choice}

// The storage faults of a Disk event (Event.Op).
const (
	DiskStall = "stall"
	DiskSlow  = "slow"
	DiskFail  = "fail"
	DiskTear  = "tear"
	DiskHeal  = "heal"
)

// DiskOps lists the storage faults.
var DiskOps = []string{DiskStall, DiskSlow, DiskFail, DiskTear, DiskHeal}

// MaxNth bounds a tear's Nth: a tear further off than this many writes is
// a crash at no particular point, which a Crash event already is.
const MaxNth = 16

// Membership operations carried in Event.Op.
const (
	AddVoter     = "add-voter"
	AddNonvoter  = "add-nonvoter"
	DemoteVoter  = "demote-voter"
	RemoveServer = "remove-server"
)

// MembershipOps lists the membership operations in a fixed order.
var MembershipOps = []string{AddVoter, AddNonvoter, DemoteVoter, RemoveServer}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// External reports whether k is an external event (not a delivery, drop,
// duplicate or clock advance). The minimizer runs delta debugging over these.
func (k Kind) External() bool {
	switch k {
	case Deliver, Drop, Duplicate, Advance:
		return false
	}
	return true
}

// Msg is a message fingerprint: its type, source, destination and the fields
// that matter (terms, indexes), rendered canonically in Key. Arrival order and
// sequence numbers are not part of it. A Msg with an empty Key is a type-only
// fingerprint, the wildcard used when exploring alternatives.
type Msg struct {
	Type string `json:"type"`
	From int    `json:"from"`
	To   int    `json:"to"`
	Key  string `json:"key,omitempty"`
}

// Named returns the fingerprint an adapter names an event by once it has
// found the message the event acts on (fp): the event's own when that is
// the same (the usual case, and no allocation), else a copy of fp.
// Fingerprints are values: nothing changes one through a pointer.
func Named(given, fp *Msg) *Msg {
	if given != nil && *given == *fp {
		return given
	}
	c := *fp
	return &c
}

// MsgBlock hands out fingerprints for events (Event.Msg) that stay put,
// allocated in blocks of 64: one allocation for many events. The zero value
// is ready.
type MsgBlock struct {
	free []Msg
	// blocks are the blocks handed out since the last Reuse (in order);
	// next is how many of them are in use.
	blocks [][]Msg
	next   int
}

// Copy returns a pointer to a copy of m.
func (b *MsgBlock) Copy(m Msg) *Msg {
	if len(b.free) == cap(b.free) {
		if b.next == len(b.blocks) {
			b.blocks = append(b.blocks, make([]Msg, 0, 64))
		}
		b.free = b.blocks[b.next][:0]
		b.next++
	}
	b.free = append(b.free, m)
	return &b.free[len(b.free)-1]
}

// Reuse makes the blocks handed out so far free for the Copies to come,
// which overwrite them: only for a caller that knows nothing holds a
// pointer Copy returned (a walk's schedule that nothing kept).
func (b *MsgBlock) Reuse() {
	b.free, b.next = nil, 0
}

// TypeOnly returns the type-only fingerprint of m.
func (m Msg) TypeOnly() Msg { return Msg{Type: m.Type, From: m.From, To: m.To} }

// Matches reports whether a pending message with fingerprint p matches m: the
// same full fingerprint, or the same type, source and destination when m is
// type-only.
func (m Msg) Matches(p Msg) bool {
	if m.Key == "" {
		return m.Type == p.Type && m.From == p.From && m.To == p.To
	}
	return m == p
}

// Less orders fingerprints canonically: by type, source, destination, key.
func (m Msg) Less(o Msg) bool {
	if m.Type != o.Type {
		return m.Type < o.Type
	}
	if m.From != o.From {
		return m.From < o.From
	}
	if m.To != o.To {
		return m.To < o.To
	}
	return m.Key < o.Key
}

func (m Msg) String() string {
	s := fmt.Sprintf("%s n%d→n%d", m.Type, m.From, m.To)
	if m.Key != "" {
		s += " " + m.Key
	}
	return s
}

// Message is one message in the network's pending buffer.
type Message struct {
	// Seq is the arrival number; among messages with one fingerprint, the
	// lowest Seq is delivered first.
	Seq uint64
	Msg Msg
	// Request is true for a request, false for a response.
	Request bool
	// Deliverable is false while the destination is down or the network cut
	// separates source and destination. Such a message can still be dropped.
	Deliverable bool
	// Timer marks an armed timer that an adapter lists as a message of its
	// node to itself (interpose/actor): delivering it fires the timer.
	Timer bool
	// Repeat marks a message whose fingerprint is that of the message
	// before it in Pending's order, in a system that marks them (a
	// Grouper): a walk draws among fingerprints, each counted once.
	Repeat bool
}

// Event is one step of a schedule.
type Event struct {
	Kind Kind `json:"kind"`
	// Node is the process the event applies to, or through which it is issued
	// (1-based). Unused for deliveries, drops, duplicates, partitions, heals.
	Node int `json:"node,omitempty"`
	// Msg is the fingerprint of the message delivered, dropped or duplicated.
	Msg *Msg `json:"msg,omitempty"`
	// Data is a client operation's payload.
	Data string `json:"data,omitempty"`
	// Op is a membership change (AddVoter, ...).
	Op string `json:"op,omitempty"`
	// Peer is the server a membership change or leadership transfer is about.
	Peer int `json:"peer,omitempty"`
	// Groups are the sides of a partition. A partition whose Op is OneWay
	// has two groups and cuts only what the second sends to the first: it
	// hears them, they do not hear it.
	Groups [][]int `json:"groups,omitempty"`
	// Until is, for an advance, the message whose sending ended it (nil when
	// the node sent nothing before the cap). A replay advances the node until
	// it sends that message again, so that a timer keeps its identity even
	// when another timer of the node fires first.
	Until *Msg `json:"until,omitempty"`
	// UntilN is how many messages with fingerprint Until the node had
	// pending when the advance ended; a replay stops once that many are
	// pending (at once, if the node sent it earlier this time). -1 records
	// an advance that reached its cap: a replay moves the clock by the cap
	// (Took, timed or not, for a target whose cap varies: etcdraft's
	// advance whose message did not come ticks as long as it did).
	UntilN int `json:"until_n,omitempty"`
	// Took is, for an advance, how far the node's clock moved (its fake
	// clock: the same in every execution that went the same way). A timed
	// replay (ReplayOptions.Timed) moves the clock exactly as far, whatever
	// the node sends on the way: when the system's own scheduling sent one
	// message more or fewer this time, the node's timers still fire as they
	// did. Zero when unknown (older files, edited schedules): the replay
	// advances until Until as above.
	Took time.Duration `json:"took_ns,omitempty"`
	// Bound is a Stabilize event's bound (StabilizeOptions.Bound), so
	// that the phase can be made again. A Stabilize event's Op and Node
	// name the fault it keeps for good (StabilizeOptions.Keep), if any.
	Bound int `json:"bound,omitempty"`
	// Nth is, for a Disk tear, which of the node's store writes from now
	// the crash comes just before (1: the next).
	Nth int `json:"nth,omitempty"`
	// Result is what the event did, as recorded; replay does not use it.
	Result string `json:"result,omitempty"`
	// Hint is for a delivery, drop or duplicate chosen from the slice
	// the system's Pending returned just before: the message's position
	// in it, plus one (0: no hint). A system may look there first
	// (Inflight.FindAt) and must not trust it further. The controller
	// records no hint: a schedule's events have none.
	Hint int `json:"-"`
}

// Key identifies what the event does (everything except Until and Result), for
// memoization and occurrence counting. Each field is written with its length,
// so that no two different events share a key whatever their text holds.
func (e Event) Key() string {
	b := make([]byte, 0, 64)
	field := func(tag byte, v string) {
		b = append(b, tag)
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	field('k', string(e.Kind))
	b = strconv.AppendInt(append(b, 'n'), int64(e.Node), 10)
	if e.Msg != nil {
		field('t', e.Msg.Type)
		b = strconv.AppendInt(append(b, 'f'), int64(e.Msg.From), 10)
		b = strconv.AppendInt(append(b, 'd'), int64(e.Msg.To), 10)
		field('y', e.Msg.Key)
	}
	if e.Data != "" {
		field('D', e.Data)
	}
	if e.Op != "" {
		field('o', e.Op)
	}
	if e.Peer != 0 {
		b = strconv.AppendInt(append(b, 'p'), int64(e.Peer), 10)
	}
	if e.Kind == Disk && e.Took != 0 {
		b = strconv.AppendInt(append(b, 'T'), int64(e.Took), 10) // a stall's length is what it does
	}
	if e.Nth != 0 {
		b = strconv.AppendInt(append(b, 'N'), int64(e.Nth), 10)
	}
	for _, g := range e.Groups {
		b = append(b, 'g')
		for _, x := range g {
			b = strconv.AppendInt(append(b, ','), int64(x), 10)
		}
	}
	return string(b)
}

// String renders the event on one line, for people.
func (e Event) String() string {
	switch e.Kind {
	case Deliver, Drop, Duplicate:
		if e.Msg == nil {
			return string(e.Kind) + " ?"
		}
		return fmt.Sprintf("%-10s %s", e.Kind, e.Msg)
	case Client:
		return fmt.Sprintf("%-10s via n%d %q", e.Kind, e.Node, e.Data)
	case Membership:
		return fmt.Sprintf("%-10s via n%d %s n%d", e.Kind, e.Node, e.Op, e.Peer)
	case Transfer:
		to := "any"
		if e.Peer != 0 {
			to = fmt.Sprintf("n%d", e.Peer)
		}
		return fmt.Sprintf("%-10s via n%d to %s", e.Kind, e.Node, to)
	case Partition:
		if e.Op == OneWay {
			return fmt.Sprintf("%-10s %s one-way", e.Kind, groupsString(e.Groups))
		}
		return fmt.Sprintf("%-10s %s", e.Kind, groupsString(e.Groups))
	case Heal:
		return string(e.Kind)
	case Disk:
		switch e.Op {
		case DiskStall, DiskSlow:
			return fmt.Sprintf("%-10s n%d %s %v", e.Kind, e.Node, e.Op, e.Took)
		case DiskTear:
			return fmt.Sprintf("%-10s n%d %s before write %d", e.Kind, e.Node, e.Op, e.Nth)
		}
		return fmt.Sprintf("%-10s n%d %s", e.Kind, e.Node, e.Op)
	case Stabilize:
		if e.Op != "" {
			return fmt.Sprintf("%-10s keeping %s n%d", e.Kind, e.Op, e.Node)
		}
		return string(e.Kind)
	case Choice:
		return fmt.Sprintf("%-10s n%d %s → %s", e.Kind, e.Node, e.Data, e.Op)
	}
	return fmt.Sprintf("%-10s n%d", e.Kind, e.Node)
}

// OneWay is the Op of a partition that cuts one direction only.
const OneWay = "one-way"

// The faults a stabilization phase can keep for good (StabilizeOptions.Keep):
// a node cut off from the others both ways (Isolate), or only in what it
// sends (Mute: it hears them, they do not hear it), or down (KeepDown).
const (
	Isolate  = "isolate"
	Mute     = "mute"
	KeepDown = "down"
)

// Permanents lists the faults a phase can keep.
var Permanents = []string{Isolate, Mute, KeepDown}

// At is the node an event happens at: a delivery, drop or duplicate at its
// message's destination, a partition or heal at none (0), any other event
// at its Node.
func (e Event) At() int {
	switch e.Kind {
	case Deliver, Drop, Duplicate:
		if e.Msg != nil {
			return e.Msg.To
		}
		return 0
	case Partition, Heal, Stabilize:
		return 0
	}
	return e.Node
}

func groupsString(gs [][]int) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		ns := make([]string, len(g))
		for j, n := range g {
			ns[j] = "n" + strconv.Itoa(n)
		}
		parts[i] = "{" + strings.Join(ns, ",") + "}"
	}
	return strings.Join(parts, " | ")
}

// validate checks that an event is well formed for a cluster of n nodes.
// maxUntilN bounds an advance's UntilN: more messages than any node has
// pending.
const maxUntilN = 1 << 20

func (e Event) validate(n int) error {
	if !e.Kind.Valid() {
		return fmt.Errorf("unknown event kind %q", e.Kind)
	}
	inRange := func(what string, x int) error {
		if x < 1 || x > n {
			return fmt.Errorf("%s %s n%d outside 1..%d", e.Kind, what, x, n)
		}
		return nil
	}
	switch e.Kind {
	case Deliver, Drop, Duplicate:
		if e.Msg == nil || e.Msg.Type == "" {
			return fmt.Errorf("%s without a message", e.Kind)
		}
		if err := inRange("source", e.Msg.From); err != nil {
			return err
		}
		return inRange("destination", e.Msg.To)
	case Heal:
		return nil
	case Stabilize:
		if e.Bound < 0 {
			return fmt.Errorf("stabilize with a negative bound %d", e.Bound)
		}
		if e.Op == "" {
			return nil
		}
		if !slices.Contains(Permanents, e.Op) {
			return fmt.Errorf("stabilize keeping an unknown fault %q (want one of %v)", e.Op, Permanents)
		}
		return inRange("kept faulty", e.Node)
	case Disk:
		if !slices.Contains(DiskOps, e.Op) {
			return fmt.Errorf("disk fault %q unknown (want one of %v)", e.Op, DiskOps)
		}
		if e.Took < 0 {
			return fmt.Errorf("disk %s of a negative duration (took_ns %d)", e.Op, e.Took)
		}
		if (e.Op == DiskTear) != (e.Nth != 0) || e.Nth < 0 || e.Nth > MaxNth {
			return fmt.Errorf("disk %s with nth %d (a tear wants 1..%d, other faults none)", e.Op, e.Nth, MaxNth)
		}
	case Advance:
		if e.Took < 0 {
			return fmt.Errorf("advance of a negative duration (took_ns %d)", e.Took)
		}
		if e.UntilN < -1 || e.UntilN > maxUntilN {
			return fmt.Errorf("advance until %d messages (want 0..%d, or -1 for an advance to its cap)", e.UntilN, maxUntilN)
		}
		if e.UntilN == -1 && e.Until != nil {
			return fmt.Errorf("advance to its cap (until_n -1) that names a message it ended with")
		}
	case Partition:
		if len(e.Groups) < 2 {
			return fmt.Errorf("partition needs at least two groups")
		}
		if e.Op != "" && e.Op != OneWay {
			return fmt.Errorf("partition with an unknown op %q (want none, or %q)", e.Op, OneWay)
		}
		if e.Op == OneWay && len(e.Groups) != 2 {
			return fmt.Errorf("one-way partition of %d groups (want two)", len(e.Groups))
		}
		for _, g := range e.Groups {
			for _, x := range g {
				if err := inRange("member", x); err != nil {
					return err
				}
			}
		}
		return nil
	case Membership:
		ok := false
		for _, op := range MembershipOps {
			ok = ok || op == e.Op
		}
		if !ok {
			return fmt.Errorf("unknown membership op %q", e.Op)
		}
		if err := inRange("peer", e.Peer); err != nil {
			return err
		}
	case Transfer:
		if e.Peer != 0 {
			if err := inRange("peer", e.Peer); err != nil {
				return err
			}
		}
	}
	return inRange("node", e.Node)
}
