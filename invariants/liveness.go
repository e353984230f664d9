package invariants

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
)

// LivenessPrefix starts the name of every liveness violation: a monitor
// called Leader that is still hot at the end of a run is the violation
// "Liveness:Leader".
const LivenessPrefix = "Liveness:"

// A Monitor watches a liveness property: something the system owes and must
// eventually deliver (a leader, a write applied everywhere). It sees every
// view of a run's stabilization phase and says whether it is hot (something
// is owed) or cold (all is well). A monitor still hot when the phase ends is
// a violation, LivenessPrefix + Name. A Monitor serves one run.
type Monitor interface {
	// Name names the property ("Leader").
	Name() string
	// Observe sees a view of the stabilization phase and reports whether
	// the monitor is hot now and, when it is, what is owed.
	Observe(v *interpose.View) (hot bool, owed string)
}

// Liveness is a Checker that checks a safety checker's invariants at every
// check and, during the stabilization phase, watches its monitors: an
// interpose.Settler. Before the phase, the monitors are not observed.
type Liveness struct {
	safety   interpose.Checker
	monitors []Monitor
	hot      []bool
	owed     []string
	since    []int  // the step at which each last turned hot
	ever     []bool // whether each was hot at any view of the phase
}

// NewLiveness wraps a safety checker (nil: none) with monitors.
func NewLiveness(safety interpose.Checker, monitors ...Monitor) *Liveness {
	n := len(monitors)
	return &Liveness{safety: safety, monitors: monitors, hot: make([]bool, n), owed: make([]string, n), since: make([]int, n), ever: make([]bool, n)}
}

// Check implements interpose.Checker.
func (l *Liveness) Check(v *interpose.View) []interpose.Violation {
	var found []interpose.Violation
	if l.safety != nil {
		found = l.safety.Check(v)
	}
	if !v.Stabilizing {
		return found
	}
	for i, m := range l.monitors {
		hot, owed := m.Observe(v)
		if hot && !l.hot[i] {
			l.since[i] = v.Step
		}
		l.ever[i] = l.ever[i] || hot
		l.hot[i], l.owed[i] = hot, owed
	}
	return found
}

// Coverage reports, for each monitor by name, whether it turned hot at any
// view of the run's phase: a monitor that never does in a whole campaign
// checked nothing (nothing it watches was ever owed).
func (l *Liveness) Coverage() map[string]bool {
	out := make(map[string]bool, len(l.monitors))
	for i, m := range l.monitors {
		out[m.Name()] = l.ever[i]
	}
	return out
}

// Final implements interpose.Finalizer: the safety checker's final check,
// if it has one.
func (l *Liveness) Final() []interpose.Violation {
	if f, ok := l.safety.(interpose.Finalizer); ok {
		return f.Final()
	}
	return nil
}

// Exercised is the safety checker's (Raft.Exercised), if it counts.
func (l *Liveness) Exercised() map[string]int {
	if e, ok := l.safety.(interface{ Exercised() map[string]int }); ok {
		return e.Exercised()
	}
	return nil
}

// Hot implements interpose.Settler.
func (l *Liveness) Hot() bool { return slices.Contains(l.hot, true) }

// Settle implements interpose.Settler: a violation for each monitor still
// hot, with what it owes and the event after which it last turned hot.
func (l *Liveness) Settle() []interpose.Violation {
	var out []interpose.Violation
	for i, m := range l.monitors {
		if !l.hot[i] {
			continue
		}
		name := LivenessPrefix + m.Name()
		out = append(out, interpose.Violation{Invariant: name, Fingerprint: name, Since: l.since[i],
			Detail: fmt.Sprintf("%s at the end of the stabilization phase (owed since event %d)", l.owed[i], l.since[i])})
	}
	return out
}

// RaftMonitors returns Raft's liveness monitors for one run: Leader (some
// voter leads and the other live voters follow it), Accepts (the leader
// takes writes) and Commit (a write of the stabilization phase commits and
// every live voter applies it). They are in order of cause: without a
// leader no write is accepted, and without one accepted none commits; a
// run's violation is the first monitor still hot.
func RaftMonitors() []Monitor {
	return []Monitor{&LeaderMonitor{}, &AcceptsMonitor{}, &CommitMonitor{}}
}

// LeaderMonitor is hot unless a live node leads the highest term among the
// live voters and every other live voter follows it in that term. It is
// cold while the live members hold no majority of the voters (quorate):
// no leader is owed then. The
// voters are those of the leader's configuration when the adapter publishes
// one (hashicorp/raft), else every live node with Raft facts.
type LeaderMonitor struct {
	nodes []raftNode
	why   memo[leaderWhy]
}

// leaderWhy is what LeaderMonitor's owed text says.
type leaderWhy struct {
	leader, node int
	term, at     uint64
	role         string
}

// Name implements Monitor.
func (*LeaderMonitor) Name() string { return "Leader" }

// Observe implements Monitor.
func (m *LeaderMonitor) Observe(v *interpose.View) (bool, string) {
	m.nodes = liveRaft(m.nodes[:0], v)
	if !quorate(m.nodes, v) {
		return false, "" // not a Raft, or no majority to owe a leader
	}
	leader, voters, why := leaderOf(m.nodes)
	if leader == nil {
		return true, why
	}
	for _, n := range voters {
		if n.id == leader.id {
			continue
		}
		if n.Term != leader.Term || n.Role != interpose.RoleFollower {
			return true, m.why.text(leaderWhy{leader.id, n.id, leader.Term, n.Term, n.Role}, func(w leaderWhy) string {
				return fmt.Sprintf("n%d leads term %d but n%d is %s in term %d", w.leader, w.term, w.node, w.role, w.at)
			})
		}
	}
	return false, ""
}

// CommitMonitor is hot until a client write issued during the stabilization
// phase completes with "index N" and every live voter has applied index N.
type CommitMonitor struct {
	start  int // the step of the phase's first view
	target uint64
	nodes  []raftNode
	why    memo[[3]uint64]
}

// Name implements Monitor.
func (*CommitMonitor) Name() string { return "Commit" }

// Observe implements Monitor.
func (m *CommitMonitor) Observe(v *interpose.View) (bool, string) {
	if m.start == 0 {
		m.start = v.Step - 1 // the Stabilize event, applied last
	}
	m.nodes = liveRaft(m.nodes[:0], v)
	if !quorate(m.nodes, v) {
		return false, "" // not a Raft, or no majority to owe a commit
	}
	for _, c := range v.Completions {
		if m.target != 0 || c.Index < m.start {
			continue
		}
		if rest, ok := strings.CutPrefix(c.Result, "index "); ok {
			digits, _, _ := strings.Cut(rest, ":")
			if n, err := strconv.ParseUint(digits, 10, 64); err == nil && n > 0 {
				m.target = n
			}
		}
	}
	if m.target == 0 {
		return true, "no write of the stabilization phase committed"
	}
	leader, voters, _ := leaderOf(m.nodes)
	if leader == nil {
		voters = m.nodes
	}
	for _, n := range voters {
		if n.AppliedIndex < m.target {
			return true, m.why.text([3]uint64{uint64(n.id), n.AppliedIndex, m.target}, func(w [3]uint64) string {
				return fmt.Sprintf("n%d applied up to index %d, not the phase's write at index %d", w[0], w[1], w[2])
			})
		}
	}
	return false, ""
}

// AcceptsMonitor is hot while the live leader has refused a client write of
// the stabilization phase and accepted none since it became leader (of its
// term). A write is accepted when its result is "index N", or "pending" for
// now; it is refused when it fails for another reason than a leadership
// transfer in progress (a leader may refuse writes while it hands over), or
// its leadership being lost while committing it. Without a leader the
// monitor is cold: LeaderMonitor says so.
type AcceptsMonitor struct {
	start    int
	leader   int
	term     uint64
	accepted bool
	refused  int
	last     string
	nodes    []raftNode
	why      memo[acceptsWhy]
}

// acceptsWhy is what AcceptsMonitor's owed text says.
type acceptsWhy struct {
	leader, refused int
	term            uint64
	last            string
}

// Name implements Monitor.
func (*AcceptsMonitor) Name() string { return "Accepts" }

// Observe implements Monitor.
func (m *AcceptsMonitor) Observe(v *interpose.View) (bool, string) {
	if m.start == 0 {
		m.start = v.Step - 1
	}
	m.nodes = liveRaft(m.nodes[:0], v)
	leader, _, _ := leaderOf(m.nodes)
	if leader == nil {
		m.leader = 0
		return false, ""
	}
	if leader.id != m.leader || leader.Term != m.term {
		m.leader, m.term, m.accepted, m.refused, m.last = leader.id, leader.Term, false, 0, ""
	}
	for _, c := range v.Completions {
		if c.Node != m.leader || c.Index < m.start {
			continue
		}
		switch r := c.Result; {
		case strings.HasPrefix(r, "index ") || r == "pending":
			m.accepted = true
		case r == "" || strings.Contains(r, "transfer in progress") || strings.Contains(r, "leadership lost"):
		default:
			m.refused++
			m.last = r
		}
	}
	if m.refused > 0 && !m.accepted {
		return true, m.why.text(acceptsWhy{m.leader, m.refused, m.term, m.last}, func(w acceptsWhy) string {
			return fmt.Sprintf("n%d, leader of term %d, refused %d writes of the phase (%q) and accepted none", w.leader, w.term, w.refused, w.last)
		})
	}
	return false, ""
}

// liveRaft appends the live nodes of v that publish Raft facts and take part:
// follower, candidate or leader, and not excused (kept faulty for good by the
// stabilization phase: View.Excused). A node in another role (the actor Raft's
// "init", waiting for its configuration) is owed nothing: a cluster nobody
// configured is not a cluster that stopped.
func liveRaft(dst []raftNode, v *interpose.View) []raftNode {
	for _, n := range v.Nodes {
		if slices.Contains(v.Excused, n.Node) {
			continue // kept faulty for good by the phase: owed nothing
		}
		if s, ok := interpose.RaftOf(n); ok && n.Up && (s.Role == interpose.RoleFollower || s.Role == interpose.RoleCandidate || s.Role == interpose.RoleLeader) {
			dst = append(dst, raftNode{id: n.Node, RaftState: s})
		}
	}
	return dst
}

// quorate reports whether the live members (liveRaft's nodes) hold a majority
// of the voters, so that progress is owed: the voters of the leader's
// configuration, or without a leader of the latest configuration of the
// member whose log is longest (then of the highest term): the configuration
// an election must win under, since a candidate needs that member's vote
// and it counts votes as its configuration says; every node of the system
// when no member publishes one. A cluster whose majority is down, cut off
// for good or never configured owes nothing; nor does one whose latest
// configuration, not yet committed, makes a node cut off for good
// essential (raft's membership changes promise progress only while a
// majority of the configuration in force is up).
func quorate(nodes []raftNode, v *interpose.View) bool {
	if len(nodes) == 0 {
		return false
	}
	var by *raftNode
	for i := range nodes {
		n := &nodes[i]
		if n.Config == nil {
			continue
		}
		if n.Role == interpose.RoleLeader {
			by = n
			break
		}
		if by == nil || n.LastIndex > by.LastIndex || n.LastIndex == by.LastIndex && n.Term > by.Term {
			by = n
		}
	}
	if by == nil {
		return 2*len(nodes) > len(v.Nodes)
	}
	in := 0
	for _, n := range nodes {
		if slices.Contains(by.Config.Voters, n.id) {
			in++
		}
	}
	return 2*in > len(by.Config.Voters)
}

// memo keeps a monitor's owed text for the values it was made from: a
// monitor stays hot over many views for the same reason, and is observed
// at each of them.
type memo[K comparable] struct {
	key K
	s   string
	set bool
}

// text returns format(key), made again only when key changed.
func (m *memo[K]) text(key K, format func(K) string) string {
	if !m.set || m.key != key {
		m.key, m.s, m.set = key, format(key), true
	}
	return m.s
}

// noLeaders are noLeader's texts for small clusters, made once.
var noLeaders = func() []string {
	out := make([]string, 16)
	for n := range out {
		out[n] = fmt.Sprintf("no leader among %d live nodes", n)
	}
	return out
}()

// noLeader is leaderOf's reason when no live node leads.
func noLeader(n int) string {
	if n < len(noLeaders) {
		return noLeaders[n]
	}
	return fmt.Sprintf("no leader among %d live nodes", n)
}

// leaderOf finds the live leader of the highest term among the live nodes,
// and the live voters of its configuration (every live node when it
// publishes none); without one it says why.
func leaderOf(nodes []raftNode) (*raftNode, []raftNode, string) {
	var leader *raftNode
	for i := range nodes {
		n := &nodes[i]
		if n.Role == interpose.RoleLeader && (leader == nil || n.Term > leader.Term) {
			leader = n
		}
	}
	if leader == nil {
		return nil, nil, noLeader(len(nodes))
	}
	if leader.Config == nil {
		return leader, nodes, ""
	}
	var voters []raftNode
	for _, n := range nodes {
		if slices.Contains(leader.Config.Voters, n.id) {
			voters = append(voters, n)
		}
	}
	return leader, voters, ""
}

// Checker returns the checker of one run: base's (Raft's safety invariants
// when base is nil), with Raft's liveness monitors (RaftMonitors) when
// liveness is set and the checker has no monitors of its own (is no
// interpose.Settler). A replay of a schedule passes liveness =
// s.Stabilizes(), so that it judges what the recording judged.
func Checker(base func() interpose.Checker, liveness bool) interpose.Checker {
	return CheckerFor(nil, base, liveness)
}

// CheckerFor is Checker for target: with the monitors MonitorsFor gives it.
func CheckerFor(target interpose.Target, base func() interpose.Checker, liveness bool) interpose.Checker {
	var check interpose.Checker = NewRaft()
	if base != nil {
		check = base()
	}
	if _, ok := check.(interpose.Settler); liveness && !ok {
		check = NewLiveness(check, MonitorsFor(target)...)
	}
	return check
}

// MonitorsFor returns the liveness monitors of target: its own when it
// names some (a MonitorNames method, as an actor program with Monitors
// has; each reads its state from interpose.View.Monitors), else Raft's.
func MonitorsFor(target interpose.Target) []Monitor {
	if target != nil {
		if t, ok := interpose.Unwrap(target).(interface{ MonitorNames() []string }); ok {
			if names := t.MonitorNames(); len(names) > 0 {
				ms := make([]Monitor, len(names))
				for i, n := range names {
					ms[i] = systemMonitor(n)
				}
				return ms
			}
		}
	}
	return RaftMonitors()
}

// systemMonitor is a monitor the system evaluates itself: its state is in
// each view (interpose.View.Monitors). Absent from a view, it is cold.
type systemMonitor string

// Name implements Monitor.
func (m systemMonitor) Name() string { return string(m) }

// Observe implements Monitor.
func (m systemMonitor) Observe(v *interpose.View) (bool, string) {
	for _, s := range v.Monitors {
		if s.Name == string(m) {
			return s.Hot, s.Why
		}
	}
	return false, ""
}
