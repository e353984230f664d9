package invariants_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// TestUpstreamFixtures matches every committed schedule of a real violation
// against the table: the reproductions of #695 and #85 are labelled, and
// nothing else is (an injected bug, heartbeats through raft's main loop,
// the actor Raft).
func TestUpstreamFixtures(t *testing.T) {
	want := map[string]string{ // file → the ID it must match ("": none)
		"../casestudies/testdata/hraft.min.json":                                             "hashicorp/raft#695",
		"../casestudies/testdata/found/hraft-candidate-late-vote.json":                       "hashicorp/raft#695",
		"../casestudies/testdata/found/hraft-serial-stale-snapshot.json":                     "hashicorp/raft#85",
		"../casestudies/testdata/found/hraft-serial-stale-entries-below-snapshot.json":       "",
		"../casestudies/testdata/hraft-forgetful.min.json":                                   "",
		"../results/found/hraft-LogMatching-seed1-run350.json":                               "hashicorp/raft#695",
		"../results/found/hraft-LogMatching-seed2-run637.json":                               "hashicorp/raft#695",
		"../results/found/hraft-LogMatching-seed3-run1830.json":                              "hashicorp/raft#695",
		"../results/found/hraft-NoPanic-raft-NewRaft-log-not-found-seed1-run434.json":        "hashicorp/raft#85",
		"../results/found/hraft-serial-NoPanic-raft-NewRaft-log-not-found-seed1-run434.json": "hashicorp/raft#85",
		// #635's deadlock, told by the nodes' states: the three kept runs
		// and the minimized one; the other Liveness:Leader findings are
		// other mechanisms, and the injected actor bug is its own.
		"../casestudies/testdata/found/hraft-serial-demoted-leader-no-election.json":   "hashicorp/raft#635",
		"../casestudies/testdata/found/hraft-serial-demoted-leader-no-election-2.json": "hashicorp/raft#635",
		"../casestudies/testdata/found/hraft-serial-remove-self-no-election.min.json":  "hashicorp/raft#635",
		// #696: a leadership transfer that never ends; found by swarm's
		// long runs (a node that leads again refuses every write).
		"../casestudies/testdata/found/hraft-serial-leadership-transfer-leak.json":            "hashicorp/raft#696",
		"../casestudies/testdata/found/hraft-serial-leadership-transfer-leak.min.json":        "hashicorp/raft#696",
		"../casestudies/testdata/found/hraft-serial-leadership-transfer-leak-commit.json":     "hashicorp/raft#696",
		"../casestudies/testdata/found/hraft-serial-leadership-transfer-leak-commit.min.json": "hashicorp/raft#696",
		"../casestudies/testdata/found/hraft-serial-snapshot-loop.min.json":                   "hashicorp/raft#697",
		"../casestudies/testdata/found/hraft-serial-snapshot-rollback-loop.min.json":          "hashicorp/raft#85",
		"../casestudies/testdata/found/hraft-serial-candidate-keeps-stale-leader.json":        "",
		"../casestudies/testdata/found/hraft-serial-candidate-keeps-stale-leader.min.json":    "",
		"../results/report/raft-noretry.min.json":                                             "",
		// etcd raft's apply-time configuration change deadlock; the
		// injected storage bugs' violations are their own.
		"../results/found/etcdraft-Liveness-Leader-seed1-run7698.json":        "etcd-io/etcd#12359",
		"../interpose/etcdraft/testdata/snapshot-drops-entries-after-it.json": "",
	}
	actors, err := filepath.Glob("../casestudies/testdata/raft-*.min.json")
	if err != nil || len(actors) == 0 {
		t.Fatalf("no actor Raft schedules: %v", err)
	}
	for _, f := range actors {
		want[f] = ""
	}
	for file, id := range want {
		s, err := interpose.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := invariants.UpstreamIn(s)
		if ok != (id != "") || b.ID != id {
			t.Errorf("%s (%s on %s): matched %q (%v), want %q", file, s.Violation.Fingerprint, s.Target.Name, b.ID, ok, id)
		}
		if ok && (b.Fingerprint != s.Violation.Fingerprint || !strings.HasPrefix(b.URL, "https://github.com/"+strings.Split(b.ID, "#")[0]+"/issues/")) {
			t.Errorf("%s: entry %+v", file, b)
		}
	}
}

// TestUpstreamConditions varies one thing of a #695 schedule's target at a
// time: each condition of the match must hold.
func TestUpstreamConditions(t *testing.T) {
	s, err := interpose.ReadFile("../casestudies/testdata/hraft.min.json")
	if err != nil {
		t.Fatal(err)
	}
	with := func(change func(*interpose.TargetSpec)) interpose.TargetSpec {
		spec := s.Target
		spec.Config = maps.Clone(spec.Config)
		change(&spec)
		return spec
	}
	const nopanic85 = "NoPanic: raft.NewRaft: log not found"
	for _, c := range []struct {
		name string
		spec interpose.TargetSpec
		fp   string
		want string
	}{
		{"as recorded", s.Target, invariants.LogMatching, "hashicorp/raft#695"},
		{"candidate side", s.Target, invariants.ElectionSafety, "hashicorp/raft#695"},
		{"serial heartbeats", with(func(t *interpose.TargetSpec) { t.Config["heartbeat_fast_path"] = "false" }), invariants.LogMatching, ""},
		{"serial heartbeats, candidate side", with(func(t *interpose.TargetSpec) { t.Config["heartbeat_fast_path"] = "false" }), invariants.ElectionSafety, ""},
		{"heartbeat mode not recorded", with(func(t *interpose.TargetSpec) { delete(t.Config, "heartbeat_fast_path") }), invariants.LogMatching, ""},
		{"#85 on serial heartbeats", with(func(t *interpose.TargetSpec) { t.Config["heartbeat_fast_path"] = "false" }), nopanic85, "hashicorp/raft#85"},
		{"a raft of unknown version", with(func(t *interpose.TargetSpec) { t.Config["raft"] = "hashicorp/raft (unknown version)" }), invariants.LogMatching, "hashicorp/raft#695"},
		{"a replaced raft", with(func(t *interpose.TargetSpec) { t.Config["raft"] = "hashicorp/raft v1.8.1 (replaced by ../raft)" }), nopanic85, "hashicorp/raft#85"},
		{"no raft recorded", with(func(t *interpose.TargetSpec) { delete(t.Config, "raft") }), invariants.LogMatching, ""},
		{"another raft", with(func(t *interpose.TargetSpec) { t.Config["raft"] = "etcd-io/raft v3.6.0" }), invariants.LogMatching, ""},
		{"an injected bug", with(func(t *interpose.TargetSpec) { t.Bug = "forgetful-stable-store" }), invariants.LogMatching, ""},
		{"another property", s.Target, invariants.StateMachineSafety, ""},
		{"another panic", s.Target, "NoPanic: FSM.Apply: boom", ""},
		{"a prefix of the fingerprint", s.Target, "NoPanic: raft.NewRaft", ""},
	} {
		b, ok := invariants.Upstream(c.spec, c.fp, nil)
		if ok != (c.want != "") || b.ID != c.want {
			t.Errorf("%s: %s matched %q (%v), want %q", c.name, c.fp, b.ID, ok, c.want)
		}
		label := invariants.UpstreamLabel(c.spec, c.fp, nil)
		if (label != "") != ok || ok && label != b.Label() {
			t.Errorf("%s: UpstreamLabel %q, Upstream's %q", c.name, label, b.Label())
		}
	}
}

func TestKnownBugLabel(t *testing.T) {
	for _, b := range invariants.KnownUpstream() {
		repo, num, _ := strings.Cut(b.ID, "#") // "hashicorp/raft#695", "etcd-io/etcd#12359"
		want := "known upstream: " + b.ID + " (https://github.com/" + repo + "/issues/" + num + ")"
		if b.Label() != want || b.Summary == "" || b.Affects == "" || strings.Contains(b.Summary, "\n") {
			t.Errorf("%s: label %q, want %q; summary %q, affects %q", b.Fingerprint, b.Label(), want, b.Summary, b.Affects)
		}
	}
	table := invariants.KnownUpstream()
	table[0].ID = "changed"
	if invariants.KnownUpstream()[0].ID == "changed" {
		t.Error("KnownUpstream returns the table itself")
	}
}

// TestKnownBugOf: a known bug names its own library, so that a campaign on
// etcd raft does not call etcd-io/etcd#12359 a bug of hashicorp/raft.
func TestKnownBugOf(t *testing.T) {
	for id, want := range map[string]string{"hashicorp/raft#695": "hashicorp/raft", "etcd-io/etcd#12359": "etcd's raft library"} {
		b, ok := invariants.UpstreamByID(id)
		if !ok || b.Of() != want {
			t.Errorf("%s: Of() = %q (%v), want %q", id, b.Of(), ok, want)
		}
	}
}

// TestTransferNeverEnds: #696's phase is told by the answers of the node
// that leads at the end, in the stabilization phase only, and every one of
// them; UpstreamIn matches it on a Liveness:Commit of hashicorp/raft, and
// Upstream, without the events, does not.
func TestTransferNeverEnds(t *testing.T) {
	leader := func(node int, term uint64) interpose.NodeView {
		return interpose.NodeView{Node: node, Started: true, Up: true, Facts: &interpose.RaftState{Role: interpose.RoleLeader, Term: term}}
	}
	follower := interpose.NodeView{Node: 3, Started: true, Up: true, Facts: &interpose.RaftState{Role: interpose.RoleFollower, Term: 4}}
	req := func(kind interpose.Kind, node int, result string) interpose.Event {
		return interpose.Event{Kind: kind, Node: node, Result: result}
	}
	const busy = "leadership transfer in progress"
	stall := []interpose.Event{req(interpose.Client, 2, "index 3"), {Kind: interpose.Stabilize},
		req(interpose.Client, 2, busy), req(interpose.Membership, 2, busy), {Kind: interpose.Deliver}, req(interpose.Client, 2, busy),
		req(interpose.Client, 3, "node is not the leader"), req(interpose.Client, 2, "")}
	final := []interpose.NodeView{leader(1, 2), leader(2, 4), follower}
	for _, c := range []struct {
		name   string
		events []interpose.Event
		final  []interpose.NodeView
		want   bool
	}{
		{"the phase's leader answers every request so", stall, final, true},
		{"an older leader's answers do not count", stall, []interpose.NodeView{leader(1, 5), leader(2, 4), follower}, false},
		{"no leader at the end", stall, []interpose.NodeView{follower}, false},
		{"one accepted", append(slices.Clone(stall), req(interpose.Client, 2, "index 7")), final, false},
		{"two are not enough", slices.Delete(slices.Clone(stall), 2, 3), final, false},
		{"before the phase", slices.Delete(slices.Clone(stall), 1, 2), final, false},
	} {
		if got := invariants.TransferNeverEnds(c.events, c.final); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	s := &interpose.Schedule{Target: interpose.TargetSpec{Name: "hraft-serial", Config: map[string]string{"raft": "hashicorp/raft v1.8.0"}},
		Events: stall, Final: final, Violation: &interpose.Violation{Invariant: "Liveness:Commit", Fingerprint: "Liveness:Commit"}}
	if b, ok := invariants.UpstreamIn(s); !ok || b.ID != "hashicorp/raft#696" {
		t.Errorf("UpstreamIn: %q %v, want hashicorp/raft#696", b.ID, ok)
	}
	if _, ok := invariants.Upstream(s.Target, "Liveness:Commit", final); ok {
		t.Error("Upstream matched a Phase bug without the events")
	}
	if !invariants.UpstreamNeedsState(s.Target, "Liveness:Commit") {
		t.Error("UpstreamNeedsState: a Phase bug needs the run's states")
	}
}

// TestSnapshotLoop: #697's loop is told by the messages of the phase
// between the final leader and one follower: the snapshot installed, the
// next AppendEntries asking for its last entry refused, three times over,
// and no AppendEntries accepted after.
func TestSnapshotLoop(t *testing.T) {
	// One round of the loop between leader 3 and follower 1, as run 302 of
	// swarm seed 4 on hraft-serial shows it.
	round := []interpose.Event{
		delivered("AppendEntries", 3, 1, "term=13 prev=59/13 n=42 commit=65"),
		delivered("AppendEntriesResp", 1, 3, "term=13 ok=false last=65"),
		delivered("AppendEntries", 3, 1, "term=13 prev=58/13 n=43 commit=65"),
		delivered("AppendEntriesResp", 1, 3, "term=13 ok=false last=65"),
		delivered("InstallSnapshot", 3, 1, "term=13 last=59/13"),
		delivered("InstallSnapshotResp", 1, 3, "term=13 ok=true"),
		delivered("Heartbeat", 3, 2, "term=13"), // another follower's: no matter
	}
	rounds := func(n int, tail ...interpose.Event) []interpose.Event {
		return phaseOfRounds(3, round, n, append(round[:2:2], tail...)...) // the refusal after the last install
	}
	leader := func(node int, term uint64) interpose.NodeView {
		return interpose.NodeView{Node: node, Started: true, Up: true, Facts: &interpose.RaftState{Role: interpose.RoleLeader, Term: term}}
	}
	follower := interpose.NodeView{Node: 1, Started: true, Up: true, Facts: &interpose.RaftState{Role: interpose.RoleFollower, Term: 13}}
	final := []interpose.NodeView{follower, leader(3, 13)}
	beforePhase := rounds(3)
	beforePhase[1] = interpose.Event{Kind: interpose.Client, Node: 3}
	snapshotRefused := rounds(3)
	for i, e := range snapshotRefused {
		if e.Msg != nil && e.Msg.Type == "InstallSnapshotResp" {
			snapshotRefused[i] = delivered("InstallSnapshotResp", 1, 3, "term=13 ok=false")
		}
	}
	for _, c := range []struct {
		name   string
		events []interpose.Event
		final  []interpose.NodeView
		want   bool
	}{
		{"three rounds", rounds(3), final, true},
		{"two rounds", rounds(2), final, false},
		{"accepted after", rounds(5, delivered("AppendEntries", 3, 1, "term=13 prev=65/13 n=0 commit=65"),
			delivered("AppendEntriesResp", 1, 3, "term=13 ok=true last=65")), final, false},
		{"another leader at the end", rounds(3), []interpose.NodeView{follower, leader(3, 13), leader(2, 14)}, false},
		{"no leader at the end", rounds(3), []interpose.NodeView{follower}, false},
		{"before the phase", beforePhase, final, false},
		{"the snapshot refused", snapshotRefused, final, false},
	} {
		if got := invariants.SnapshotLoop(c.events, c.final); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	s := &interpose.Schedule{Target: interpose.TargetSpec{Name: "hraft-serial", Config: map[string]string{"raft": "hashicorp/raft v1.8.0"}},
		Events: rounds(3), Final: final, Violation: &interpose.Violation{Invariant: "Liveness:Commit", Fingerprint: "Liveness:Commit"}}
	if b, ok := invariants.UpstreamIn(s); !ok || b.ID != "hashicorp/raft#697" {
		t.Errorf("UpstreamIn: %q %v, want hashicorp/raft#697", b.ID, ok)
	}
}

// TestSnapshotRollbackLoop: #85 seen as liveness is told by a final leader
// that applied less than it committed and sends one follower its snapshot
// again and again in the phase, none of its entries accepted after.
func TestSnapshotRollbackLoop(t *testing.T) {
	// One round as run 1360 of hraft-serial's random walk (--permanent,
	// seed 1, calls to a node not running failed) shows it.
	round := []interpose.Event{
		delivered("InstallSnapshot", 1, 2, "term=6 last=3/2"),
		delivered("InstallSnapshotResp", 2, 1, "term=6 ok=true"),
		delivered("Heartbeat", 1, 2, "term=6"),
		delivered("HeartbeatResp", 2, 1, "term=6 ok=true last=10"),
	}
	rounds := func(n int, tail ...interpose.Event) []interpose.Event { return phaseOfRounds(1, round, n, tail...) }
	node := func(id int, role string, commit, applied uint64) interpose.NodeView {
		return interpose.NodeView{Node: id, Started: true, Up: true,
			Facts: &interpose.RaftState{Role: role, Term: 6, CommitIndex: commit, AppliedIndex: applied}}
	}
	rolledBack := []interpose.NodeView{node(1, interpose.RoleLeader, 5, 3), node(2, interpose.RoleFollower, 0, 3)}
	caughtUp := []interpose.NodeView{node(1, interpose.RoleLeader, 5, 5), node(2, interpose.RoleFollower, 0, 3)}
	for _, c := range []struct {
		name   string
		events []interpose.Event
		final  []interpose.NodeView
		want   bool
	}{
		{"three installs", rounds(3), rolledBack, true},
		{"two installs", rounds(2), rolledBack, false},
		{"entries accepted after", rounds(4, delivered("AppendEntries", 1, 2, "term=6 prev=3/2 n=2 commit=5"),
			delivered("AppendEntriesResp", 2, 1, "term=6 ok=true last=5")), rolledBack, false},
		{"the leader applied what it committed", rounds(3), caughtUp, false},
		{"no leader", rounds(3), rolledBack[1:], false},
	} {
		if got := invariants.SnapshotRollbackLoop(c.events, c.final); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	s := &interpose.Schedule{Target: interpose.TargetSpec{Name: "hraft-serial", Config: map[string]string{"raft": "hashicorp/raft v1.8.0"}},
		Events: rounds(3), Final: rolledBack, Violation: &interpose.Violation{Invariant: "Liveness:Commit", Fingerprint: "Liveness:Commit"}}
	if b, ok := invariants.UpstreamIn(s); !ok || b.ID != "hashicorp/raft#85" {
		t.Errorf("UpstreamIn: %q %v, want hashicorp/raft#85", b.ID, ok)
	}
}

// delivered is the delivery of a message with the given fingerprint.
func delivered(typ string, from, to int, key string) interpose.Event {
	return interpose.Event{Kind: interpose.Deliver, Msg: &interpose.Msg{Type: typ, From: from, To: to, Key: key}}
}

// phaseOfRounds is a write through node before a stabilization phase, then
// n rounds of round in the phase, then tail.
func phaseOfRounds(node int, round []interpose.Event, n int, tail ...interpose.Event) []interpose.Event {
	ev := []interpose.Event{{Kind: interpose.Client, Node: node}, {Kind: interpose.Stabilize}}
	for range n {
		ev = append(ev, round...)
	}
	return append(ev, tail...)
}
