package invariants

import (
	"slices"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
)

// KnownBug is a bug of a Raft library itself (hashicorp/raft, etcd's) that
// faultline reproduces on the unmodified library. A correct service fuzzed on raft meets these within
// seconds; telling the user that the violation is known upstream, with the
// issue to follow, saves a day of looking for it in their own code.
type KnownBug struct {
	// ID names the bug as upstream does: "hashicorp/raft#695".
	ID string
	// Library is the Raft library the bug is in, as a target's
	// Config["raft"] begins ("": hashicorp/raft).
	Library string
	// URL is the upstream issue.
	URL string
	// Fingerprint is the violation's fingerprint exactly as faultline
	// computes it (Raft's checker for the properties, package hraft for a
	// panic: "NoPanic: " + where + ": " + the message, numbers masked).
	Fingerprint string
	// FastPath is set for a bug that needs raft's heartbeat fast path: it
	// matches only a target whose Config["heartbeat_fast_path"] is "true",
	// and fuzz.Upstream confirms a match by replaying the schedule with the
	// fast path off, where it must not show.
	FastPath bool
	// State, when set, is what the nodes' states at the violation must
	// show for a match (a liveness violation's fingerprint is its monitor's
	// name, shared by every cause): Upstream matches the bug only given
	// those states, and fuzz.Upstream replays a schedule that lacks them.
	State func(nodes []interpose.NodeView) bool
	// Phase, when set, is what the requests of the run's stabilization
	// phase (the events after its Stabilize mark, with their results) must
	// show, given the nodes' final states: a liveness violation told by
	// how the cluster answered. Only UpstreamIn, which has the schedule,
	// matches such a bug.
	Phase func(events []interpose.Event, final []interpose.NodeView) bool
	// Affects says which releases have it: where faultline reproduced it,
	// and what upstream's report was made against.
	Affects string
	// Summary is the bug on one line.
	Summary string
}

// ByCause reports whether a match of the bug rests on more than its
// fingerprint: the nodes' states (State) or the phase's answers (Phase),
// for a liveness monitor's name, which every cause shares.
func (b KnownBug) ByCause() bool { return b.State != nil || b.Phase != nil }

// Of names the library the bug is in, for a sentence: "hashicorp/raft" or
// "etcd's raft library".
func (b KnownBug) Of() string {
	if strings.HasPrefix(b.Library, "go.etcd.io/raft") {
		return "etcd's raft library"
	}
	return "hashicorp/raft"
}

// Label is how faultline prints the bug beside a violation: "known upstream:
// hashicorp/raft#695 (https://github.com/hashicorp/raft/issues/695)".
func (b KnownBug) Label() string {
	return "known upstream: " + b.ID + " (" + b.URL + ")"
}

// upstream is the table. An entry is added when faultline reproduces an
// upstream bug on unmodified raft and the mechanism has been traced to the
// issue (README, "What it found"); Affects says what was measured, not more.
var upstream = []KnownBug{
	{
		ID:          "hashicorp/raft#695",
		URL:         "https://github.com/hashicorp/raft/issues/695",
		Fingerprint: LogMatching,
		FastPath:    true,
		Affects: "reproduced here on v1.8.0; reported by Antithesis against main at 4c8f61ac (May 2026); " +
			"open, fix proposed in PR #701",
		Summary: "a heartbeat handled on the transport's goroutine bumps the term under a running leader loop, " +
			"which stores a client write with the new term where the new leader stored another entry",
	},
	{
		ID:          "hashicorp/raft#695",
		URL:         "https://github.com/hashicorp/raft/issues/695",
		Fingerprint: ElectionSafety,
		FastPath:    true,
		Affects: "reproduced here on v1.8.0 (the candidate's side of #695's race, found by faultline; " +
			"#695 and PR #701 describe the leader's side)",
		Summary: "a heartbeat handled on the transport's goroutine makes a candidate a follower of the new term " +
			"while its election loop runs; a vote of its old term then makes it leader of the new one",
	},
	{
		ID:          "hashicorp/raft#85",
		URL:         "https://github.com/hashicorp/raft/issues/85",
		Fingerprint: "NoPanic: raft.NewRaft: log not found",
		Affects: "reproduced here on v1.8.0, with and without the heartbeat fast path; reported in February 2016 " +
			"(no version named), open; see also #697, an InstallSnapshot livelock reported against main at 4c8f61ac",
		Summary: "installSnapshot restores a snapshot older than what the node applied; raft's in-memory snapshot " +
			"store keeps only the older one, and the next NewRaft panics looking for an entry in neither",
	},
	{
		ID:          "hashicorp/raft#635",
		URL:         "https://github.com/hashicorp/raft/issues/635",
		Fingerprint: "Liveness:Leader",
		State:       SelfRemovedDeadlock,
		Affects: "found by faultline on v1.8.0 (a leader that removes itself loses its lease before the removal " +
			"is replicated); #635 (open, February 2025) questions the same branch of runFollower without a failing case",
		Summary: "a follower whose latest, uncommitted configuration drops it never starts an election " +
			"(raft.go runFollower), against the Raft thesis, 4.2.2; the voters that still count it cannot win " +
			"without its vote, which its more up-to-date log refuses: no leader, for ever",
	},
	{
		ID:          "hashicorp/raft#696",
		URL:         "https://github.com/hashicorp/raft/issues/696",
		Fingerprint: "Liveness:Stuck: raft.(*Raft).leaderLoop.func2, raft.(*Raft).leadershipTransfer",
		Affects: "reproduced here on v1.8.0 (swarm testing on hraft-serial: the node leads again and refuses every " +
			"write until the run ends); open, fix proposed in PR #708",
		Summary: "a leadership transfer's goroutine blocks for ever sending on its follower's replication channel, " +
			"full with an earlier transfer's request the replication goroutine will not take; the transfer never " +
			"ends, leadershipTransferInProgress stays set, and the node, leader again later, refuses every write",
	},
	{
		// #696 judged by the liveness monitors: the phase's writes are all
		// refused, which AcceptsMonitor excuses for a transfer in
		// progress, so nothing commits.
		ID:          "hashicorp/raft#696",
		URL:         "https://github.com/hashicorp/raft/issues/696",
		Fingerprint: "Liveness:Commit",
		Phase:       TransferNeverEnds,
		Affects: "reproduced here on v1.8.0 (swarm testing on hraft-serial, with the stabilization phase: its " +
			"leader answers every request of the phase \"leadership transfer in progress\"); open, fix proposed in PR #708",
		Summary: "a leadership transfer's goroutine blocks for ever sending on its follower's replication channel; " +
			"the transfer never ends, leadershipTransferInProgress stays set, and the leader refuses every write " +
			"of the stabilization phase: nothing commits",
	},
	{
		// #697 judged by the liveness monitors: a follower the leader
		// needs for a quorum loops through its snapshot, so nothing
		// commits.
		ID:          "hashicorp/raft#697",
		URL:         "https://github.com/hashicorp/raft/issues/697",
		Fingerprint: "Liveness:Commit",
		Phase:       SnapshotLoop,
		Affects: "reproduced here on v1.8.0 (swarm testing on hraft-serial, with the stabilization phase: a follower " +
			"the leader needs installs its snapshot and refuses the next AppendEntries, again and again); reported by " +
			"Antithesis against main at 4c8f61ac, open; fix proposed in PR #704",
		Summary: "installSnapshot keeps the log store's entries, and appendEntries reads the previous entry there: a stale " +
			"entry at the snapshot's last index, or none (a gap below an entry appended after the snapshot), refuses the " +
			"leader's AppendEntries, the leader sends the snapshot again, for ever; a follower the leader needs for a " +
			"quorum never acknowledges, and nothing commits",
	},
	{
		// #85 judged by the liveness monitors: the node that installed
		// an older snapshot leads, and cannot send what it lost. After
		// #697, whose follower-side loop is told more precisely.
		ID:          "hashicorp/raft#85",
		URL:         "https://github.com/hashicorp/raft/issues/85",
		Fingerprint: "Liveness:Commit",
		Phase:       SnapshotRollbackLoop,
		Affects: "reproduced here on v1.8.0 with raft's in-memory snapshot store (hraft-serial's random walk, with calls " +
			"to a node not running failed: the leader sends its snapshot again and again, having applied less than it " +
			"committed); reported in February 2016 (no version named), open",
		Summary: "installSnapshot restores a snapshot older than what the node applied and the in-memory snapshot store " +
			"keeps only it; the entries between are in neither snapshot nor log, and the node, leader later, cannot send " +
			"them: it sends its snapshot again, for ever, and nothing commits",
	},
}

// etcdRaft is how etcd raft's targets name the library in Config["raft"].
const etcdRaft = "go.etcd.io/raft"

func init() {
	upstream = append(upstream, KnownBug{
		ID:          "etcd-io/etcd#12359",
		Library:     etcdRaft,
		URL:         "https://github.com/etcd-io/etcd/issues/12359",
		Fingerprint: "Liveness:Leader",
		State:       SelfRemovedDeadlock,
		Affects: "reproduced here on go.etcd.io/raft/v3 v3.7.0 without PreVote and CheckQuorum; problem 1 of the issue " +
			"(October 2020), closed as stale, not fixed",
		Summary: "configuration changes take effect when applied: a leader demotes itself to a learner under a " +
			"configuration whose other voter has not learned the commit; the learner, with the longest log, never " +
			"campaigns, and refuses its vote to the only voter left: no leader, for ever",
	})
}

// library is the Raft library a bug is in.
func (b KnownBug) library() string {
	if b.Library == "" {
		return "hashicorp/raft"
	}
	return b.Library
}

// SelfRemovedDeadlock reports the state of hashicorp/raft#635's deadlock:
// a live node that is not a voter of its own latest configuration, with a
// log at least as long as that of a live node that is not leader and still
// counts it as a voter. The first never campaigns; the second cannot win
// without its vote, which it refuses when the candidate's log is behind
// (shorter, or as long with an older last term: the facts do not show the
// last entry's term, so an equal length matches too; the violation this
// is asked about, no leader for a whole phase, rules out the one case
// where the vote would be granted and the deadlock end).
func SelfRemovedDeadlock(nodes []interpose.NodeView) bool {
	for _, x := range nodes {
		rx, ok := interpose.RaftRead(x)
		if !ok || !x.Up || rx.Config == nil || slices.Contains(rx.Config.Voters, x.Node) {
			continue
		}
		for _, y := range nodes {
			ry, ok := interpose.RaftRead(y)
			if !ok || !y.Up || y.Node == x.Node || ry.Config == nil || ry.Role == interpose.RoleLeader {
				continue
			}
			if slices.Contains(ry.Config.Voters, x.Node) && rx.LastIndex >= ry.LastIndex {
				return true
			}
		}
	}
	return false
}

// transferInProgress is hashicorp/raft's answer to a request while a
// leadership transfer is in progress (ErrLeadershipTransferInProgress).
const transferInProgress = "leadership transfer in progress"

// TransferNeverEnds reports the phase of hashicorp/raft#696's stall: the
// node that leads at the end (final: the highest term among the live
// leaders) was asked at least three requests in the stabilization phase
// (events after its Stabilize mark) and answered every one it answered
// "leadership transfer in progress". The phase lets election timeouts of
// time pass, round after round, and recovers every node: a transfer that
// ends, by success or by its timeout, stops those answers within one.
func TransferNeverEnds(events []interpose.Event, final []interpose.NodeView) bool {
	leader, _ := finalLeader(final)
	if leader == 0 {
		return false
	}
	refused := 0
	for _, e := range phaseEvents(events) {
		if e.Node != leader || e.Result == "" {
			continue
		}
		switch e.Kind {
		case interpose.Client, interpose.Membership, interpose.Transfer:
			if e.Result != transferInProgress {
				return false
			}
			refused++
		}
	}
	return refused >= 3
}

// finalLeader is the live leader of the highest term among final, with
// its state, or 0.
func finalLeader(final []interpose.NodeView) (int, *interpose.RaftState) {
	leader, state := 0, (*interpose.RaftState)(nil)
	for _, v := range final {
		if r, ok := interpose.RaftRead(v); ok && v.Up && r.Role == interpose.RoleLeader && (leader == 0 || r.Term > state.Term) {
			leader, state = v.Node, r
		}
	}
	return leader, state
}

// phaseEvents are the events of a run's stabilization phase: those after
// its Stabilize mark (none without one).
func phaseEvents(events []interpose.Event) []interpose.Event {
	i := slices.IndexFunc(events, func(e interpose.Event) bool { return e.Kind == interpose.Stabilize })
	if i < 0 {
		return nil
	}
	return events[i+1:]
}

// SnapshotLoop reports the phase of hashicorp/raft#697's loop, from the
// messages the stabilization phase delivered (their fingerprints, as
// package hraft writes them): a follower installs the snapshot of the node
// that leads at the end (InstallSnapshot "last=I/T", answered "ok=true"),
// then refuses that leader's next AppendEntries whose previous entry is
// the snapshot's last ("prev=I/T", answered "ok=false"), at least three
// times, and accepts no AppendEntries of the leader after the last time.
// raft's installSnapshot records the snapshot but keeps the log store's
// entries, and appendEntries reads a previous entry that is not the last
// from the log store: a stale entry of another term there, or none (the
// node appended entries after the snapshot, leaving a gap below them),
// refuses what the snapshot covers. The leader backs off below its own log
// and sends the snapshot again, for ever unless a newer snapshot of its own
// ends it (which a leader that commits nothing never takes).
func SnapshotLoop(events []interpose.Event, final []interpose.NodeView) bool {
	leader, _ := finalLeader(final)
	if leader == 0 {
		return false
	}
	// What each follower of the leader is at in a round: the snapshot it
	// was sent and installed, then whether the next AppendEntries asked
	// for its last entry.
	type round struct {
		sent, installed string
		asked           bool
		rounds          int
	}
	at := map[int]*round{}
	for _, e := range phaseEvents(events) {
		if e.Kind != interpose.Deliver || e.Msg == nil {
			continue
		}
		m := e.Msg
		f := m.To // the follower, for a request of the leader
		if m.To == leader {
			f = m.From // for its answer
		} else if m.From != leader {
			continue
		}
		r := at[f]
		if r == nil {
			r = &round{}
			at[f] = r
		}
		switch m.Type {
		case "InstallSnapshot":
			r.sent, r.installed, r.asked = keyField(m.Key, "last"), "", false
		case "InstallSnapshotResp":
			if keyField(m.Key, "ok") == "true" {
				r.installed = r.sent
			}
		case "AppendEntries":
			r.asked = r.installed != "" && keyField(m.Key, "prev") == r.installed
			r.installed = ""
		case "AppendEntriesResp":
			switch {
			case keyField(m.Key, "ok") == "true":
				r.rounds = 0 // the loop ended
			case r.asked:
				r.rounds++
			}
			r.asked = false
		}
	}
	for _, r := range at {
		if r.rounds >= 3 {
			return true
		}
	}
	return false
}

// SnapshotRollbackLoop reports the phase of hashicorp/raft#85 seen as
// liveness: the node that leads at the end has applied less than it
// committed, and in the phase it sends a follower its snapshot (an
// InstallSnapshot answered "ok=true") three times or more, with no
// AppendEntries of it accepted by that follower after. raft's
// installSnapshot restores a snapshot older than what the node applied
// (lastApplied moves back) and the in-memory snapshot store keeps only
// that one, so the entries between are in neither snapshot nor log
// (compacted with the newer one). Leader later, the node cannot read the
// entries after its snapshot to send them (replication.go's setNewLogs),
// sends the snapshot again, and so on for ever; its state machine cannot
// apply them either.
func SnapshotRollbackLoop(events []interpose.Event, final []interpose.NodeView) bool {
	leader, state := finalLeader(final)
	if leader == 0 || state.AppliedIndex >= state.CommitIndex {
		return false
	}
	installs := map[int]int{} // by follower, since it last accepted entries
	for _, e := range phaseEvents(events) {
		if e.Kind != interpose.Deliver || e.Msg == nil || e.Msg.To != leader {
			continue
		}
		switch m := e.Msg; {
		case m.Type == "InstallSnapshotResp" && keyField(m.Key, "ok") == "true":
			installs[m.From]++
		case m.Type == "AppendEntriesResp" && keyField(m.Key, "ok") == "true":
			installs[m.From] = 0
		}
	}
	for _, n := range installs {
		if n >= 3 {
			return true
		}
	}
	return false
}

// keyField is the value of name in a fingerprint's key ("term=3 prev=2/1":
// "2/1" for "prev"), or "".
func keyField(key, name string) string {
	for f := range strings.FieldsSeq(key) {
		if k, v, ok := strings.Cut(f, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// KnownUpstream returns the table of Raft library bugs faultline
// reproduces, hashicorp/raft's and etcd raft's (a copy: callers may keep
// it).
func KnownUpstream() []KnownBug {
	return append([]KnownBug(nil), upstream...)
}

// Upstream reports the known upstream bug that a violation with fingerprint
// fp on the target spec describes shows as, if any. It is a pure function of
// its arguments, so that a report (a rendering of a schedule file) and a
// campaign list can label a violation without running anything:
//
//   - the target must run hashicorp/raft (its Config["raft"] names it, as
//     package hraft's targets record it): an actor Raft never matches;
//   - a target that declares an injected bug (spec.Bug) never matches: its
//     violations are presumed to be its own (hraft-forgetful's
//     ElectionSafety is its store's, not #695's);
//   - a FastPath bug matches only with Config["heartbeat_fast_path"] "true";
//   - a bug with a State matches only when final, the nodes' states at the
//     violation, show it (nil final: it does not match);
//   - a bug with a Phase matches only through UpstreamIn, when the
//     schedule's events and final states show it.
//
// The match is by fingerprint: a bug of the user's own stores can show the
// same one (a StableStore that forgets the vote breaks ElectionSafety too).
// fuzz.Upstream confirms a FastPath match by replaying without the fast path;
// a match of #85 is by fingerprint only.
func Upstream(spec interpose.TargetSpec, fp string, final []interpose.NodeView) (KnownBug, bool) {
	return upstreamOf(spec, fp, final, nil)
}

// UpstreamIn is Upstream for a schedule's violation, with the schedule's
// events for a bug told by the stabilization phase's answers
// (KnownBug.Phase).
func UpstreamIn(s *interpose.Schedule) (KnownBug, bool) {
	if s == nil || s.Violation == nil {
		return KnownBug{}, false
	}
	return upstreamOf(s.Target, s.Violation.Fingerprint, s.Final, s.Events)
}

// upstreamOf is Upstream, and UpstreamIn when events is set.
func upstreamOf(spec interpose.TargetSpec, fp string, final []interpose.NodeView, events []interpose.Event) (KnownBug, bool) {
	if !mayBeUpstream(spec) {
		return KnownBug{}, false
	}
	for _, b := range upstream {
		if b.Fingerprint != fp || !strings.HasPrefix(spec.Config["raft"], b.library()) {
			continue
		}
		if b.FastPath && spec.Config["heartbeat_fast_path"] != "true" {
			continue
		}
		if b.State != nil && (final == nil || !b.State(final)) {
			continue
		}
		if b.Phase != nil && (events == nil || !b.Phase(events, final)) {
			continue
		}
		return b, true
	}
	return KnownBug{}, false
}

// UpstreamLabel is Upstream's bug's Label, or "" when fp on spec is not a
// known upstream bug: what a command line or a campaign list prints beside
// a violation.
func UpstreamLabel(spec interpose.TargetSpec, fp string, final []interpose.NodeView) string {
	if b, ok := Upstream(spec, fp, final); ok {
		return b.Label()
	}
	return ""
}

// UpstreamNeedsState reports whether a violation with fingerprint fp on
// spec could be a known bug that only the nodes' states, or the phase's answers
// with them, tell (KnownBug.State, KnownBug.Phase).
func UpstreamNeedsState(spec interpose.TargetSpec, fp string) bool {
	return mayBeUpstream(spec) && slices.ContainsFunc(upstream, func(b KnownBug) bool {
		return b.ByCause() && b.Fingerprint == fp && strings.HasPrefix(spec.Config["raft"], b.library())
	})
}

// mayBeUpstream reports whether a violation on spec can be a known bug of
// a Raft library: the target runs hashicorp/raft or etcd raft, and
// declares no injected bug.
func mayBeUpstream(spec interpose.TargetSpec) bool {
	raft := spec.Config["raft"]
	return spec.Bug == "" && (strings.HasPrefix(raft, "hashicorp/raft") || strings.HasPrefix(raft, etcdRaft))
}

// UpstreamByID returns the table's entry with the given ID
// ("hashicorp/raft#695"), the first when several share it.
func UpstreamByID(id string) (KnownBug, bool) {
	for _, b := range upstream {
		if b.ID == id {
			return b, true
		}
	}
	return KnownBug{}, false
}
