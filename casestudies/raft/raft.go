package raft

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
)

// Bug names a variant of the member: one of DEMi's akka-raft bugs, or
// Correct.
type Bug string

// The variants.
const (
	Correct Bug = ""
	// Raft45: a candidate counts every VoteCandidate it receives, so a
	// follower that answers a retried RequestVote twice counts twice.
	Raft45 Bug = "raft-45"
	// Raft46: a candidate does not check the term of a vote, so delayed
	// votes from an earlier election count in a later one.
	Raft46 Bug = "raft-46"
	// Raft56: a candidate that steps down on an AppendEntries of its own
	// term forgets whom it voted for, and may vote again in that term.
	Raft56 Bug = "raft-56"
	// Raft58a: a new leader sets up nextIndex and matchIndex only when its
	// ElectedAsLeader self-message arrives; a client message handled before
	// that replicates with nextIndex 0 and panics.
	Raft58a Bug = "raft-58a"
	// Raft58b: the same root cause, on a leader that replicates only its
	// newest entry until ElectedAsLeader resets nextIndex past the first
	// command, with akka-raft's follower, which appends an AppendEntries
	// that starts past the end of its log (akka-raft#32): a follower stores
	// the second command where the leader holds the first.
	Raft58b Bug = "raft-58b"
	// Raft42: the leader commits the most common matchIndex instead of the
	// highest index a majority holds.
	Raft42 Bug = "raft-42"
	// Raft66: a follower deletes every entry after an AppendEntries'
	// previous index, so a delayed AppendEntries carrying a prefix of what
	// it already acknowledged removes entries the leader counts as
	// replicated.
	Raft66 Bug = "raft-66"

	// Liveness bugs: nothing unsafe happens, the cluster stops making
	// progress, which only a liveness monitor sees.

	// RaftNoRetry: a candidate whose election times out does not start
	// another, so a split vote leaves no leader for good.
	RaftNoRetry Bug = "raft-noretry"
	// RaftNoBackoff: a leader whose AppendEntries is rejected sends the same
	// again instead of moving nextIndex back, so a follower whose log
	// diverged or fell behind never catches up.
	RaftNoBackoff Bug = "raft-nobackoff"
	// RaftBusyLeader: a leader refuses client writes while its log holds
	// entries it has not committed, and, like this Raft, appends no entry of
	// its own at election: entries of an earlier term commit only with one
	// of the leader's term, so a leader elected with some refuses writes for
	// good.
	RaftBusyLeader Bug = "raft-busy-leader"
)

// LivenessBugs lists the variants with a liveness bug.
var LivenessBugs = []Bug{RaftNoRetry, RaftNoBackoff, RaftBusyLeader}

// Bugs lists the variants with a bug, in DEMi's order.
var Bugs = []Bug{Raft45, Raft46, Raft56, Raft58a, Raft58b, Raft42, Raft66}

// Describe says in a few words what a variant's bug does.
func Describe(b Bug) string {
	switch b {
	case Raft45:
		return "a candidate counts repeated votes from one follower"
	case Raft46:
		return "a candidate counts votes from an earlier term"
	case Raft56:
		return "a candidate that steps down in its own term forgets its vote"
	case Raft58a:
		return "a new leader handles client messages before ElectedAsLeader sets up replication"
	case Raft58b:
		return "ElectedAsLeader resets nextIndex past the first command; followers append past their log's end"
	case Raft42:
		return "the commit index is the most common matchIndex, not the majority's"
	case Raft66:
		return "a follower deletes entries when a delayed shorter AppendEntries arrives"
	case RaftNoRetry:
		return "a candidate whose election times out never starts another"
	case RaftNoBackoff:
		return "a leader resends a rejected AppendEntries without moving nextIndex back"
	case RaftBusyLeader:
		return "a leader refuses writes while it holds uncommitted entries, and appends none of its own term"
	}
	return "no bug"
}

// Expect is the invariant a variant breaks.
func Expect(b Bug) string {
	switch b {
	case Raft45, Raft46, Raft56:
		return "ElectionSafety"
	case Raft58a:
		return "NoPanic"
	case Raft58b:
		return "LogMatching"
	case Raft42, Raft66:
		return "LeaderCompleteness"
	case RaftNoRetry:
		return "Liveness:Leader"
	case RaftNoBackoff:
		return "Liveness:Commit"
	case RaftBusyLeader:
		return "Liveness:Accepts"
	}
	return ""
}

// Bootstrap returns the events that configure a cluster of n members after
// their starts: each gets the configuration (1..n) as a client operation.
func Bootstrap(n int) []interpose.Event {
	var b strings.Builder
	b.WriteString("members=")
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	out := make([]interpose.Event, n)
	for i := range out {
		out[i] = interpose.Event{Kind: interpose.Client, Node: i + 1, Data: b.String()}
	}
	return out
}

// Timer names.
const (
	ElectionTimeout = "ElectionTimeout"
	Heartbeat       = "Heartbeat"
)

// Roles, as the invariants read them.
const (
	roleInit      = "init"
	roleFollower  = interpose.RoleFollower
	roleCandidate = interpose.RoleCandidate
	roleLeader    = interpose.RoleLeader
)

// Program returns the actor program of a cluster whose members have bug.
// Client operations are "members=1,2,3" (the bootstrap configuration) or a
// command.
func Program(bug Bug) actor.Program {
	return actor.Program{
		New:    func(id, n int) actor.Process { return &member{bug: bug, id: id} },
		Client: client,
		Nodes:  4,
		Config: map[string]string{"raft": "akka-raft style (casestudies/raft)", "bug": string(bug)},
	}
}

func client(data string) (actor.Message, error) {
	list, ok := strings.CutPrefix(data, "members=")
	if !ok {
		return ClientMessage{Cmd: data}, nil
	}
	var members []int
	for f := range strings.SplitSeq(list, ",") {
		x, err := strconv.Atoi(f)
		if err != nil || x < 1 {
			return nil, fmt.Errorf("bad member %q in %q", f, data)
		}
		members = append(members, x)
	}
	return ChangeConfiguration{Members: members}, nil
}

// member is one Raft member, in the shape of akka-raft's RaftActor: a role,
// persistent term, vote and log, and self-messages to begin an election and
// to take office.
type member struct {
	bug Bug
	id  int

	// Persistent, mirrored in the actor's store.
	term    uint64
	vote    int
	log     []Entry
	members []int

	// Volatile.
	role            string
	votes           []int // distinct voters in this term
	voteCount       int   // every vote received in this term (raft-45)
	commit, applied uint64
	next, match     map[int]uint64

	facts interpose.RaftState // what Facts publishes
}

func (m *member) Init(ctx *actor.Context) {
	if v, ok := ctx.Load("term"); ok {
		m.term = v.(uint64)
	}
	if v, ok := ctx.Load("vote"); ok {
		m.vote = v.(int)
	}
	if v, ok := ctx.Load("log"); ok {
		m.log = slices.Clone(v.([]Entry))
	}
	if v, ok := ctx.Load("members"); ok {
		m.members = v.([]int)
	}
	m.role = roleInit
	if len(m.members) > 0 {
		m.role = roleFollower
		ctx.SetTimer(ElectionTimeout)
	}
}

func (m *member) persist(ctx *actor.Context) {
	ctx.Store("term", m.term)
	ctx.Store("vote", m.vote)
}

func (m *member) persistLog(ctx *actor.Context) { ctx.Store("log", slices.Clone(m.log)) }

func (m *member) lastIndex() uint64 { return uint64(len(m.log)) }

func (m *member) lastTerm() uint64 {
	if len(m.log) == 0 {
		return 0
	}
	return m.log[len(m.log)-1].Term
}

func (m *member) termAt(i uint64) uint64 {
	if i == 0 || i > m.lastIndex() {
		return 0
	}
	return m.log[i-1].Term
}

func (m *member) majority() int { return len(m.members)/2 + 1 }

func (m *member) peers() []int {
	out := make([]int, 0, len(m.members))
	for _, p := range m.members {
		if p != m.id {
			out = append(out, p)
		}
	}
	return out
}

func (m *member) Receive(ctx *actor.Context, from int, msg actor.Message) {
	switch msg := msg.(type) {
	case ChangeConfiguration:
		if len(m.members) > 0 {
			ctx.Respond("already configured")
			return
		}
		m.members = slices.Sorted(slices.Values(msg.Members))
		ctx.Store("members", m.members)
		m.role = roleFollower
		ctx.SetTimer(ElectionTimeout)
		ctx.Respond("configured")
	case ClientMessage:
		m.onClient(ctx, msg)
	case actor.Timer:
		m.onTimer(ctx, msg.Name)
	case BeginElection:
		m.beginElection(ctx)
	case RequestVote:
		m.onRequestVote(ctx, from, msg)
	case VoteCandidate:
		m.onVote(ctx, from, msg)
	case DeclineCandidate:
		if msg.Term > m.term {
			m.stepDown(ctx, msg.Term)
		}
	case ElectedAsLeader:
		m.onElected(ctx, msg)
	case AppendEntries:
		m.onAppendEntries(ctx, from, msg)
	case AppendSuccessful:
		m.onAppendSuccessful(ctx, from, msg)
	case AppendRejected:
		m.onAppendRejected(ctx, from, msg)
	}
}

func (m *member) onTimer(ctx *actor.Context, name string) {
	switch {
	case name == ElectionTimeout && (m.role == roleFollower || m.role == roleCandidate && m.bug != RaftNoRetry):
		m.role = roleCandidate
		ctx.CancelTimer(Heartbeat)
		ctx.Send(m.id, BeginElection{Term: m.term + 1})
	case name == Heartbeat && m.role == roleLeader:
		for _, p := range m.peers() {
			m.sendAppend(ctx, p)
		}
		ctx.SetTimer(Heartbeat)
	case name == Heartbeat && m.role == roleCandidate:
		// Retry the RequestVotes that have no answer yet.
		for _, p := range m.peers() {
			if !slices.Contains(m.votes, p) {
				ctx.Send(p, RequestVote{Term: m.term, LastTerm: m.lastTerm(), LastIndex: m.lastIndex()})
			}
		}
		ctx.SetTimer(Heartbeat)
	}
}

func (m *member) beginElection(ctx *actor.Context) {
	if m.role != roleCandidate {
		return // stepped down before the message arrived
	}
	m.term++
	m.vote = m.id
	m.votes = append(m.votes[:0], m.id)
	m.voteCount = 1
	m.persist(ctx)
	for _, p := range m.peers() {
		ctx.Send(p, RequestVote{Term: m.term, LastTerm: m.lastTerm(), LastIndex: m.lastIndex()})
	}
	ctx.SetTimer(ElectionTimeout)
	ctx.SetTimer(Heartbeat)
}

func (m *member) stepDown(ctx *actor.Context, term uint64) {
	m.term, m.vote = term, 0
	m.persist(ctx)
	m.role = roleFollower
	ctx.CancelTimer(Heartbeat)
	ctx.SetTimer(ElectionTimeout)
}

func (m *member) onRequestVote(ctx *actor.Context, from int, rv RequestVote) {
	if m.role == roleInit {
		return
	}
	if rv.Term > m.term {
		m.stepDown(ctx, rv.Term)
	}
	upToDate := rv.LastTerm > m.lastTerm() || rv.LastTerm == m.lastTerm() && rv.LastIndex >= m.lastIndex()
	if rv.Term < m.term || !upToDate || m.vote != 0 && m.vote != from {
		ctx.Send(from, DeclineCandidate{Term: m.term})
		return
	}
	m.vote = from
	m.persist(ctx)
	ctx.SetTimer(ElectionTimeout)
	ctx.Send(from, VoteCandidate{Term: m.term})
}

func (m *member) onVote(ctx *actor.Context, from int, v VoteCandidate) {
	if m.role != roleCandidate {
		return
	}
	if v.Term != m.term && m.bug != Raft46 {
		return
	}
	m.voteCount++
	if !slices.Contains(m.votes, from) {
		m.votes = append(m.votes, from)
	}
	won := len(m.votes) >= m.majority()
	if m.bug == Raft45 {
		won = m.voteCount >= m.majority()
	}
	if won {
		m.becomeLeader(ctx)
	}
}

func (m *member) becomeLeader(ctx *actor.Context) {
	m.role = roleLeader
	ctx.CancelTimer(ElectionTimeout)
	ctx.CancelTimer(Heartbeat)
	if m.bug != Raft58a && m.bug != Raft58b {
		m.initLeader()
	} else {
		m.next, m.match = nil, nil // set up by ElectedAsLeader
	}
	ctx.Send(m.id, ElectedAsLeader{Term: m.term})
}

func (m *member) initLeader() {
	m.next, m.match = map[int]uint64{}, map[int]uint64{}
	for _, p := range m.peers() {
		m.next[p] = m.lastIndex() + 1
	}
}

func (m *member) onElected(ctx *actor.Context, e ElectedAsLeader) {
	if m.role != roleLeader || e.Term != m.term {
		return
	}
	if m.bug == Raft58a || m.bug == Raft58b {
		m.initLeader()
	}
	for _, p := range m.peers() {
		m.sendAppend(ctx, p)
	}
	ctx.SetTimer(Heartbeat)
}

func (m *member) onClient(ctx *actor.Context, c ClientMessage) {
	if m.role != roleLeader {
		ctx.Respond("not leader")
		return
	}
	if m.bug == RaftBusyLeader && m.commit < m.lastIndex() {
		ctx.Respond("busy: entries not committed yet")
		return
	}
	m.log = append(m.log, Entry{Term: m.term, Cmd: c.Cmd})
	m.persistLog(ctx)
	i := m.lastIndex()
	ctx.Log(interpose.LogOp{Kind: interpose.LogStore, Index: i, Term: m.term, Hash: hash(c.Cmd), Leader: true, NodeTerm: m.term})
	for _, p := range m.peers() {
		m.sendAppend(ctx, p)
	}
	m.advanceCommit(ctx)
	ctx.Respond("index " + u(i))
}

// sendAppend sends peer p the entries from its nextIndex on.
func (m *member) sendAppend(ctx *actor.Context, p int) {
	next, ok := m.next[p]
	if !ok && m.bug == Raft58b {
		next = m.lastIndex() // before ElectedAsLeader: the newest entry only
	}
	prev := next - 1 // raft-58a: nextIndex 0 before ElectedAsLeader wraps around
	entries := slices.Clone(m.log[prev:])
	var prevTerm uint64
	if prev > 0 {
		prevTerm = m.log[prev-1].Term
	}
	ctx.Claim(m.term)
	ctx.Send(p, AppendEntries{Term: m.term, PrevIndex: prev, PrevTerm: prevTerm, Entries: entries, Commit: m.commit})
}

func (m *member) onAppendEntries(ctx *actor.Context, from int, ae AppendEntries) {
	if m.role == roleInit {
		return
	}
	if ae.Term < m.term {
		ctx.Send(from, AppendRejected{Term: m.term, LastIndex: m.lastIndex()})
		return
	}
	switch {
	case ae.Term > m.term:
		m.stepDown(ctx, ae.Term)
	case m.role == roleLeader:
		return // another leader of this term: election safety is already broken
	case m.role == roleCandidate:
		m.role = roleFollower
		ctx.CancelTimer(Heartbeat)
		if m.bug == Raft56 {
			m.vote = 0
			m.persist(ctx)
		}
	}
	ctx.SetTimer(ElectionTimeout)
	prev := ae.PrevIndex
	switch {
	case m.bug == Raft58b && prev > m.lastIndex():
		prev = m.lastIndex() // akka-raft#32: past the end of the log, append
	case prev > m.lastIndex() || m.termAt(prev) != ae.PrevTerm:
		ctx.Send(from, AppendRejected{Term: m.term, LastIndex: m.lastIndex()})
		return
	}
	changed := false
	for k, e := range ae.Entries {
		i := prev + 1 + uint64(k)
		if i <= m.lastIndex() && m.log[i-1].Term == e.Term && m.bug != Raft66 {
			continue // already there
		}
		if i <= m.lastIndex() {
			// A conflict; raft-66: any entry after the previous index goes,
			// so a delayed shorter AppendEntries cuts what a longer one
			// brought.
			ctx.Log(interpose.LogOp{Kind: interpose.LogTruncate, Index: i, Hi: m.lastIndex(), NodeTerm: m.term})
			m.log = m.log[:i-1]
		}
		m.log = append(m.log, e)
		ctx.Log(interpose.LogOp{Kind: interpose.LogStore, Index: i, Term: e.Term, Hash: hash(e.Cmd), NodeTerm: m.term})
		changed = true
	}
	if changed {
		m.persistLog(ctx)
	}
	last := prev + uint64(len(ae.Entries))
	if c := min(ae.Commit, last); c > m.commit {
		m.commit = c
		m.applyCommitted(ctx)
	}
	ctx.Send(from, AppendSuccessful{Term: m.term, LastIndex: last})
}

func (m *member) onAppendSuccessful(ctx *actor.Context, from int, a AppendSuccessful) {
	if a.Term > m.term {
		m.stepDown(ctx, a.Term)
		return
	}
	if m.role != roleLeader || a.Term != m.term || m.match == nil {
		return
	}
	m.match[from] = max(m.match[from], a.LastIndex)
	m.next[from] = m.match[from] + 1
	m.advanceCommit(ctx)
}

func (m *member) onAppendRejected(ctx *actor.Context, from int, r AppendRejected) {
	if r.Term > m.term {
		m.stepDown(ctx, r.Term)
		return
	}
	if m.role != roleLeader || r.Term != m.term || m.next == nil {
		return
	}
	if m.bug != RaftNoBackoff {
		m.next[from] = max(1, min(m.next[from]-1, r.LastIndex+1))
	}
	m.sendAppend(ctx, from)
}

// advanceCommit moves the leader's commit index: the highest index of its
// term that a majority holds (raft-42: the most common matchIndex).
func (m *member) advanceCommit(ctx *actor.Context) {
	if m.match == nil {
		return
	}
	held := []uint64{m.lastIndex()}
	for _, p := range m.peers() {
		held = append(held, m.match[p])
	}
	var n uint64
	if m.bug == Raft42 {
		counts := map[uint64]int{}
		best := 0
		for _, x := range held {
			counts[x]++
			if c := counts[x]; c > best || c == best && x > n {
				best, n = c, x
			}
		}
	} else {
		slices.Sort(held)
		slices.Reverse(held)
		n = held[m.majority()-1]
	}
	if n > m.commit && m.termAt(n) == m.term {
		m.commit = n
		m.applyCommitted(ctx)
	}
}

func (m *member) applyCommitted(ctx *actor.Context) {
	for m.applied < m.commit && m.applied < m.lastIndex() {
		m.applied++
		e := m.log[m.applied-1]
		ctx.Applied(interpose.Applied{Index: m.applied, Term: e.Term, Hash: hash(e.Cmd)})
	}
}

// Facts implements actor.Publisher: the member's Raft facts, for the
// invariants (interpose.RaftOf) and the renderings. It fills a value the
// member keeps, so that a view, taken after every event, costs no
// allocation. The configuration is left out: it is set once, by the
// bootstrap, and never changes.
func (m *member) Facts() interpose.Facts {
	m.facts = interpose.RaftState{Role: m.role, Term: m.term, Vote: m.vote, LastIndex: m.lastIndex(),
		CommitIndex: m.commit, AppliedIndex: m.applied}
	if m.vote != 0 {
		m.facts.VoteTerm = m.term
	}
	return &m.facts
}

func hash(cmd string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(cmd))
	return h.Sum64()
}
