package invariants

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
)

// Names of Raft's safety properties, as violations carry them.
const (
	ElectionSafety     = "ElectionSafety"
	LeaderAppendOnly   = "LeaderAppendOnly"
	LogMatching        = "LogMatching"
	StateMachineSafety = "StateMachineSafety"
	LeaderCompleteness = "LeaderCompleteness"
	NoPanic            = "NoPanic"
	// LostWrite: a write its client was told had succeeded is not the entry
	// applied at its index (a client-visible loss; the properties above
	// name the cause when they see it first).
	LostWrite = "LostWrite"
	// LeaderIsVoter: a leader whose latest configuration is committed (its
	// log is committed to its end) is a voter of it. A leader may lead a
	// configuration it is not a voter of only while that configuration is
	// uncommitted: it removed or demoted itself and steps down when the
	// change commits (the Raft thesis, 4.2.2).
	LeaderIsVoter = "LeaderIsVoter"
)

// Names lists the properties Raft checks, in the order a check reports them
// when several break at one quiescent point: root causes first.
var Names = []string{NoPanic, ElectionSafety, LeaderAppendOnly, LogMatching, StateMachineSafety, LeaderCompleteness,
	LeaderIsVoter, LostWrite}

// Raft checks Raft's safety properties (Ongaro's thesis, figure 3.2) over the
// views of one run. It keeps the history it needs: leaders per term, a mirror
// of every node's log built from its log-store writes, the entries applied and
// committed. Use a fresh Raft for each run.
//
// Faults the adapter reports directly (a panic in a node, a user's invariant
// over its state machines) are passed through first.
type Raft struct {
	leaders   map[uint64]leaderFact // term → first leader seen
	logs      map[int]*nodeLog
	entries   map[[2]uint64]entryFact  // (index, term) → what it holds
	applied   []appliedFact            // by index
	committed []commitFact             // by index
	acked     map[uint64]interpose.Ack // index → the write acknowledged there
	ops       []interpose.ClientOp     // the client history, in order of invocation
	opAt      map[int]int              // event → its position in ops
	commitMax []uint64                 // by node: highest commit index processed
	checked   map[[2]uint64]bool       // (node, term) leaders checked for completeness
	fresh     []uint64                 // indexes first seen committed in this check
	reported  map[string]bool
	losses    []string                // what stores lost at crashes so far (View.Losses)
	found     [][]interpose.Violation // per Names entry, this check
	nfound    int                     // how many found holds
	live      []raftNode              // this check's live Raft nodes
	// ex counts, per property, the comparisons it made this run: how often
	// it had something to check (Exercised).
	ex [exN]int
	// raft is set once a node published Raft facts: a system that is not
	// a Raft has no Raft properties to count (Exercised).
	raft bool
}

// raftNode is a live node whose adapter publishes Raft facts.
type raftNode struct {
	id int
	*interpose.RaftState
}

type leaderFact struct {
	node int
	wire bool
}

type entryFact struct {
	hash     uint64
	prevTerm uint64
	hasPrev  bool
	node     int
}

type appliedFact struct {
	term, hash uint64
	node       int
}

type commitFact struct {
	term       uint64 // the entry's term
	commitTerm uint64 // a term at or after the one it was committed in
	node       int
}

// nodeLog mirrors a node's log: terms[i] is the term of entry first+i.
type nodeLog struct {
	first uint64
	terms []uint64
}

func (l *nodeLog) last() uint64 { return l.first + uint64(len(l.terms)) - 1 }

func (l *nodeLog) term(i uint64) (uint64, bool) {
	if len(l.terms) == 0 || i < l.first || i > l.last() {
		return 0, false
	}
	return l.terms[i-l.first], true
}

// NewRaft returns a checker for one run.
func NewRaft() *Raft {
	return &Raft{
		leaders:  map[uint64]leaderFact{},
		logs:     map[int]*nodeLog{},
		entries:  map[[2]uint64]entryFact{},
		checked:  map[[2]uint64]bool{},
		acked:    map[uint64]interpose.Ack{},
		opAt:     map[int]int{},
		reported: map[string]bool{},
		found:    make([][]interpose.Violation, len(Names)),
	}
}

var rank = func() map[string]int {
	m := map[string]int{}
	for i, n := range Names {
		m[n] = i
	}
	return m
}()

func (r *Raft) report(name, detail string) {
	r.reportFP(name, name, detail)
}

func (r *Raft) reportFP(name, fp, detail string) {
	if r.reported[fp] {
		return
	}
	r.reported[fp] = true
	i, ok := rank[name]
	if !ok {
		i = 0 // a user's invariant ranks with the faults
	}
	if ok && name != NoPanic && len(r.losses) > 0 {
		// Raft's own properties assume durable stores: a store that lost
		// what it acknowledged is named as the cause.
		detail += "; before it, a store lost what it had acknowledged: " + lossList(r.losses)
	}
	r.found[i] = append(r.found[i], interpose.Violation{Invariant: name, Fingerprint: fp, Detail: detail})
	r.nfound++
}

// lossList names the first three losses (the earliest are the likeliest
// causes), and how many came after.
func lossList(losses []string) string {
	const most = 3
	if len(losses) <= most {
		return strings.Join(losses, "; ")
	}
	return fmt.Sprintf("%s (and %d more)", strings.Join(losses[:most], "; "), len(losses)-most)
}

// Check implements interpose.Checker.
func (r *Raft) Check(v *interpose.View) []interpose.Violation {
	if r.nfound > 0 {
		for i := range r.found {
			r.found[i] = r.found[i][:0]
		}
		r.nfound = 0
	}
	r.fresh = r.fresh[:0]
	for _, f := range v.Faults {
		r.reportFP(f.Invariant, f.Fingerprint, f.Detail)
	}
	r.losses = append(r.losses, v.Losses...)
	for _, op := range v.LogOps {
		r.logOp(op)
	}
	for _, a := range v.Applied {
		r.apply(a)
	}
	for _, a := range v.Acked {
		r.ack(a)
	}
	for _, o := range v.Ops {
		if i, ok := r.opAt[o.Event]; ok {
			r.ops[i] = o // its completion
			continue
		}
		r.opAt[o.Event] = len(r.ops)
		r.ops = append(r.ops, o)
	}
	for _, c := range v.Claims {
		r.leader(c.Node, c.Term, true)
	}
	// Node states: only live nodes that publish Raft facts. A down node's
	// volatile state is gone, and a node of another kind has none of these.
	r.live = r.live[:0]
	for _, n := range v.Nodes {
		if s, ok := interpose.RaftOf(n); ok && n.Up {
			r.live = append(r.live, raftNode{id: n.Node, RaftState: s})
		}
	}
	r.raft = r.raft || len(r.live) > 0
	for _, n := range r.live {
		if n.Role == interpose.RoleLeader {
			r.leader(n.id, n.Term, false)
		}
	}
	for _, n := range r.live {
		r.commit(n)
	}
	for _, n := range r.live {
		if n.Role == interpose.RoleLeader {
			r.complete(n)
			r.voter(n)
		}
	}
	if r.nfound == 0 {
		return nil // the usual check: nothing broken
	}
	var out []interpose.Violation
	for _, f := range r.found {
		out = append(out, f...)
	}
	return out
}

func (r *Raft) leader(node int, term uint64, wire bool) {
	prev, ok := r.leaders[term]
	if !ok {
		r.leaders[term] = leaderFact{node: node, wire: wire}
		return
	}
	r.ex[exElection]++
	if prev.node == node {
		return
	}
	where := func(w bool) string {
		if w {
			return "on the wire"
		}
		return "in its state"
	}
	r.report(ElectionSafety, fmt.Sprintf("n%d and n%d are both leaders of term %d (n%d %s, n%d %s)",
		prev.node, node, term, prev.node, where(prev.wire), node, where(wire)))
}

func (r *Raft) logOp(op interpose.LogOp) {
	l := r.logs[op.Node]
	if l == nil {
		l = &nodeLog{}
		r.logs[op.Node] = l
	}
	switch op.Kind {
	case interpose.LogCompact:
		if op.Hi < l.first {
			return
		}
		if len(l.terms) == 0 || op.Hi >= l.last() {
			l.terms = l.terms[:0]
			l.first = op.Hi + 1
			return
		}
		l.terms = l.terms[op.Hi+1-l.first:]
		l.first = op.Hi + 1
	case interpose.LogTruncate:
		if op.Leader {
			r.ex[exAppendOnly]++
			r.report(LeaderAppendOnly, fmt.Sprintf("n%d, leader of term %d, deleted its entries %d..%d", op.Node, op.NodeTerm, op.Index, op.Hi))
		}
		if len(l.terms) > 0 && op.Index <= l.last() && op.Index >= l.first {
			l.terms = l.terms[:op.Index-l.first]
		}
	case interpose.LogStore:
		r.store(l, op)
	}
}

func (r *Raft) store(l *nodeLog, op interpose.LogOp) {
	i := op.Index
	if op.Leader {
		r.ex[exAppendOnly]++
	}
	if old, ok := l.term(i); ok && op.Leader {
		r.report(LeaderAppendOnly, fmt.Sprintf("n%d, leader of term %d, overwrote entry %d (term %d) with one of term %d", op.Node, op.NodeTerm, i, old, op.Term))
	}
	prevTerm, hasPrev := l.term(i - 1)
	switch {
	case len(l.terms) == 0 || i < l.first || i > l.last()+1:
		// The first entry, or a gap after a snapshot: the log starts here.
		l.first = i
		l.terms = append(l.terms[:0], op.Term)
	default:
		l.terms = append(l.terms[:i-l.first], op.Term)
	}
	k := [2]uint64{i, op.Term}
	e, seen := r.entries[k]
	if !seen {
		r.entries[k] = entryFact{hash: op.Hash, prevTerm: prevTerm, hasPrev: hasPrev, node: op.Node}
		return
	}
	r.ex[exMatching]++
	if e.hash != op.Hash {
		r.report(LogMatching, fmt.Sprintf("n%d and n%d hold different entries at index %d, term %d", e.node, op.Node, i, op.Term))
		return
	}
	if hasPrev && e.hasPrev && e.prevTerm != prevTerm {
		r.report(LogMatching, fmt.Sprintf("n%d and n%d agree on entry %d (term %d) but not on entry %d (terms %d and %d)",
			e.node, op.Node, i, op.Term, i-1, e.prevTerm, prevTerm))
	}
	if hasPrev && !e.hasPrev {
		e.prevTerm, e.hasPrev = prevTerm, true
		r.entries[k] = e
	}
}

// ack records a write acknowledged to its client, and checks it against
// what was applied at its index so far.
func (r *Raft) ack(a interpose.Ack) {
	if prev, ok := r.acked[a.Index]; ok && prev.Hash != a.Hash {
		r.report(LostWrite, fmt.Sprintf("two writes were acknowledged at index %d (events %d and %d, through n%d and n%d): one of them is lost",
			a.Index, prev.Event, a.Event, prev.Node, a.Node))
		return
	}
	r.acked[a.Index] = a
	if a.Index < uint64(len(r.applied)) {
		if f := r.applied[a.Index]; f.node != 0 && f.hash != a.Hash {
			r.lost(a, f.node)
		}
	}
}

// lost reports the acknowledged write a as lost: node applied another
// entry at its index.
func (r *Raft) lost(a interpose.Ack, node int) {
	r.report(LostWrite, fmt.Sprintf("the write of event %d, acknowledged to its client through n%d at index %d, is lost: n%d applied another entry there",
		a.Event, a.Node, a.Index, node))
}

func (r *Raft) apply(a interpose.Applied) {
	if k, ok := r.acked[a.Index]; ok {
		r.ex[exLostWrite]++
		if k.Hash != a.Hash {
			r.lost(k, a.Node)
		}
	}
	for uint64(len(r.applied)) <= a.Index {
		r.applied = append(r.applied, appliedFact{})
	}
	f := &r.applied[a.Index]
	if f.node == 0 {
		*f = appliedFact{term: a.Term, hash: a.Hash, node: a.Node}
		return
	}
	r.ex[exStateMachine]++
	if f.term != a.Term || f.hash != a.Hash {
		r.report(StateMachineSafety, fmt.Sprintf("n%d applied entry %d of term %d; n%d applied a different entry %d of term %d",
			f.node, a.Index, f.term, a.Node, a.Index, a.Term))
	}
}

// commit records the entries node n has committed since the last check.
func (r *Raft) commit(n raftNode) {
	for len(r.commitMax) <= n.id {
		r.commitMax = append(r.commitMax, 0)
	}
	from := r.commitMax[n.id] + 1
	if n.CommitIndex < from {
		if n.CommitIndex < r.commitMax[n.id] {
			r.commitMax[n.id] = n.CommitIndex // restarted
		}
		return
	}
	r.commitMax[n.id] = n.CommitIndex
	l := r.logs[n.id]
	if l == nil {
		return
	}
	// Up to its snapshot, the node's log is the snapshot, not what its log
	// store still holds there: after an InstallSnapshot, raft keeps
	// TrailingLogs entries below its old last entry, stale ones included,
	// and never applies them.
	from = max(from, n.SnapshotIndex+1)
	for i := from; i <= n.CommitIndex; i++ {
		t, ok := l.term(i)
		if !ok {
			continue // compacted into a snapshot
		}
		for uint64(len(r.committed)) <= i {
			r.committed = append(r.committed, commitFact{})
		}
		c := &r.committed[i]
		switch {
		case c.node == 0:
			// The entry was committed in a term at or before the node's
			// current one (and never before its own term).
			*c = commitFact{term: t, commitTerm: max(n.Term, t), node: n.id}
			r.fresh = append(r.fresh, i)
		case c.term != t:
			r.report(LeaderCompleteness, fmt.Sprintf("entry %d was committed with term %d (seen at n%d) and with term %d (seen at n%d)",
				i, c.term, c.node, t, n.id))
		case max(n.Term, t) < c.commitTerm:
			c.commitTerm = max(n.Term, t)
		}
	}
}

// complete checks that the leader's log holds every entry committed in an
// earlier term: all of them the first time the leader is seen, then those
// whose commit was first seen in this check.
func (r *Raft) complete(n raftNode) {
	k := [2]uint64{uint64(n.id), n.Term}
	if n.Unpersisted != 0 {
		// Part of its log is in memory only (AsyncStorageWrites): the
		// log published is its storage's, which may lack what it holds.
		// It is checked in full once its writes land.
		delete(r.checked, k)
		return
	}
	if len(r.committed) > 1 { // index 0 is never an entry
		r.ex[exCompleteness]++
	}
	if !r.checked[k] {
		r.checked[k] = true
		for i := range r.committed {
			if r.missing(n, uint64(i)) {
				return
			}
		}
		return
	}
	for _, i := range r.fresh {
		if r.missing(n, i) {
			return
		}
	}
}

// missing reports (and says so) when leader n lacks committed entry i that
// it must hold.
func (r *Raft) missing(n raftNode, i uint64) bool {
	c := r.committed[i]
	if c.node == 0 || c.commitTerm >= n.Term {
		return false
	}
	l := r.logs[n.id]
	if i <= n.SnapshotIndex || l != nil && i < l.first {
		return false // compacted: the leader's snapshot covers it
	}
	t, ok := uint64(0), false
	if l != nil {
		t, ok = l.term(i)
	}
	if ok && t == c.term {
		return false
	}
	r.report(LeaderCompleteness, fmt.Sprintf("n%d, leader of term %d, lacks entry %d (term %d), committed by term %d",
		n.id, n.Term, i, c.term, c.commitTerm))
	return true
}

// voter checks that leader n is a voter of its latest configuration once
// that configuration is committed. The view does not say at which index the
// configuration was written, so the check waits until the leader's log is
// committed to its end (CommitIndex >= LastIndex): the configuration, in
// the log or in a snapshot, is then committed whatever its index, and a
// leader that removed or demoted itself has stepped down (raft does it as
// it learns the commit). Sound, and late by at most the leader's
// uncommitted entries.
func (r *Raft) voter(n raftNode) {
	if n.Config == nil || n.CommitIndex < n.LastIndex || n.LastIndex == 0 {
		return
	}
	r.ex[exVoter]++
	if slices.Contains(n.Config.Voters, n.id) {
		return
	}
	what := "not in it"
	if slices.Contains(n.Config.Nonvoters, n.id) {
		what = "a non-voter"
	}
	r.report(LeaderIsVoter, fmt.Sprintf("n%d leads term %d with the committed configuration %s (committed to index %d), where it is %s",
		n.id, n.Term, n.Config, n.CommitIndex, what))
}

// Final implements interpose.Finalizer: the run's client history, checked
// for linearizability (CheckKV) once the run is over, when every operation
// that will ever complete has. A history without operations costs nothing.
func (r *Raft) Final() []interpose.Violation {
	if len(r.ops) == 0 || r.reported[Linearizability] {
		return nil
	}
	hist := HistoryOf(r.ops)
	reads, writes := map[string]bool{}, map[string]bool{}
	for _, o := range hist {
		if o.Write {
			writes[o.Key] = true
		} else {
			reads[o.Key] = true
		}
	}
	for k := range reads {
		if writes[k] {
			r.ex[exLinearizability]++ // a key both read and written: something to order
			break
		}
	}
	// A service's own operations are its model's to check (the target
	// does, hraft.Options.Model); those of the built-in store are CheckKV's.
	hist = slices.DeleteFunc(hist, func(o KVOp) bool { return o.Op != "" })
	if len(hist) == 0 {
		return nil
	}
	v := CheckKV(hist, LinOptions{}).Violation()
	if v == nil {
		return nil
	}
	r.reported[Linearizability] = true
	return []interpose.Violation{*v}
}

// Exercised says, for each property, how many comparisons it made this
// run: two leaders' claims to one term, a leader's write, an entry stored
// by a second node, an index applied by a second node, a leader checked
// against committed entries, a leader whose configuration is committed, an
// acknowledged write applied, a key both read and written (by the built-in
// store or a service's own model). A property at 0 had nothing to check:
// it passed without telling anything. NoPanic is not listed (it is always
// armed). A run in which no node published Raft facts (a system that is
// not a Raft) has none: nil.
func (r *Raft) Exercised() map[string]int {
	if !r.raft {
		return nil
	}
	out := make(map[string]int, exN)
	for i, n := range exNames {
		out[n] = r.ex[i]
	}
	return out
}

// The properties Exercised counts, by their place in Raft.ex (an array:
// the counts are bumped on every comparison of every check).
const (
	exElection = iota
	exAppendOnly
	exMatching
	exStateMachine
	exCompleteness
	exVoter
	exLostWrite
	exLinearizability
	exN
)

var exNames = [exN]string{ElectionSafety, LeaderAppendOnly, LogMatching, StateMachineSafety, LeaderCompleteness,
	LeaderIsVoter, LostWrite, Linearizability}
