package casestudies

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

var update = flag.Bool("update", false, "rewrite the hand-made minimal schedules in testdata/")

// script builds a schedule by hand: each step names a message by type,
// source and destination, and the script finds its full fingerprint among
// the pending messages, as a person reading `faultline show` would.
type script struct {
	t     *testing.T
	ctl   *interpose.Controller
	sys   interpose.System
	final int // the schedule's length: a violation before it is a failure
}

func newScript(t *testing.T, name string) *script { return openScript(t, name, 3) }

// openScript starts a script on a fresh system of the study with n nodes.
func openScript(t *testing.T, name string, n int) *script {
	t.Helper()
	s, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	spec := s.Target.Spec(n, 1)
	sys, err := s.Target.Open(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close() })
	return &script{t: t, ctl: interpose.NewController(sys, invariants.NewRaft(), spec), sys: sys}
}

func (s *script) do(ev interpose.Event) {
	s.t.Helper()
	if _, err := s.ctl.Step(ev); err != nil {
		s.t.Fatalf("event %d (%v): %v", s.ctl.Len()+1, ev, err)
	}
	if v := s.ctl.Violation(); v != nil && s.ctl.Len() < s.final {
		s.t.Fatalf("violation too early, after event %d: %v", s.ctl.Len(), v)
	}
}

func (s *script) start(nodes ...int) {
	for _, n := range nodes {
		s.do(interpose.Event{Kind: interpose.Start, Node: n})
	}
}

func (s *script) advance(n int) { s.do(interpose.Event{Kind: interpose.Advance, Node: n}) }

// advanceUntil advances n's clock until a message of type typ to node to is
// pending.
func (s *script) advanceUntil(n int, typ string, to int) {
	s.t.Helper()
	want := interpose.Msg{Type: typ, From: n, To: to}
	for range 10 {
		s.advance(n)
		for _, m := range s.sys.Pending() {
			if want.Matches(m.Msg) {
				return
			}
		}
	}
	s.t.Fatalf("n%d sent no %s to n%d", n, typ, to)
}

// deliver delivers the oldest pending message of the type from → to.
func (s *script) deliver(typ string, from, to int) {
	s.t.Helper()
	want := interpose.Msg{Type: typ, From: from, To: to}
	for _, m := range s.sys.Pending() {
		if want.Matches(m.Msg) {
			s.do(interpose.Event{Kind: interpose.Deliver, Msg: &m.Msg})
			return
		}
	}
	s.t.Fatalf("event %d: no pending %v among %v", s.ctl.Len()+1, want, s.sys.Pending())
}

// elect runs a pre-vote and a vote of candidate c with voter v.
func (s *script) elect(c, v int) {
	s.t.Helper()
	s.advance(c)
	s.deliver("RequestPreVote", c, v)
	s.deliver("RequestPreVoteResp", v, c)
	s.deliver("RequestVote", c, v)
	s.deliver("RequestVoteResp", v, c)
}

// check ends the script: the violation must be want; the schedule must be the
// one committed under testdata (rewritten with -update).
func (s *script) check(file string, want string) *interpose.Schedule {
	s.t.Helper()
	s.ctl.Check()
	v := s.ctl.Violation()
	if v == nil || v.Invariant != want {
		s.t.Fatalf("violation %v; want %s", v, want)
	}
	got := s.ctl.Schedule()
	got.Origin = &interpose.Origin{Command: "go test ./casestudies -run " + s.t.Name() + " -update"}
	path := filepath.Join("testdata", file)
	if *update {
		if err := got.WriteFile(path); err != nil {
			s.t.Fatal(err)
		}
	}
	committed, err := interpose.ReadFile(path)
	if err != nil {
		s.t.Fatal(err)
	}
	if committed.Hash() != got.Hash() {
		s.t.Errorf("%s differs from the schedule the script builds (rerun with -update)", path)
	}
	return committed
}

// final marks the length of the minimal schedule.
func (s *script) expect(n int) { s.final = n }

// TestForgetfulMinimal is the hand-made minimal reproduction of the
// forgetful stable store: n1 wins term 2 with n2's vote; n2 crashes and
// forgets it voted; n3 wins term 2 with n2's second vote.
func TestForgetfulMinimal(t *testing.T) {
	s := newScript(t, "hraft-forgetful")
	s.expect(15)
	s.start(1, 2, 3)
	s.elect(1, 2)                                         // n1 leads term 2
	s.do(interpose.Event{Kind: interpose.Crash, Node: 2}) // n2 loses its term and vote
	s.do(interpose.Event{Kind: interpose.Recover, Node: 2})
	s.elect(3, 2) // n3 leads term 2 too
	sched := s.check("hraft-forgetful.min.json", invariants.ElectionSafety)
	replayAll(t, "hraft-forgetful", sched, 20)
	if m, err := Minimal("hraft-forgetful"); err != nil || len(m.Events) != len(sched.Events) {
		t.Errorf("embedded minimal schedule: %v", err)
	}
}

// TestRaft695Minimal is a hand-made reproduction of hashicorp/raft#695 on the
// unmodified library: a heartbeat of a newer leader, handled on the fast
// path beside the old leader's main loop, bumps the old leader's term; a
// client write that reaches the old leader's loop before it notices is
// stored with the new term, at an index where the new leader stored its own
// entry of that term.
func TestRaft695Minimal(t *testing.T) {
	s := newScript(t, "hraft")
	s.expect(17)
	s.start(1, 2, 3)
	s.elect(1, 2)                     // n1 leads term 2, stores its no-op at 2
	s.deliver("AppendEntries", 1, 2)  // n2 stores n1's no-op
	s.elect(2, 3)                     // n2's timer fires; n3 never heard of n1
	s.advanceUntil(2, "Heartbeat", 1) // n2 leads term 3 and heartbeats
	s.deliver("Heartbeat", 2, 1)      // fast path: n1 → follower of term 3
	s.do(interpose.Event{Kind: interpose.Client, Node: 1, Data: "x=1"})
	sched := s.check("hraft.min.json", invariants.LogMatching)
	replayAll(t, "hraft", sched, 20)

	// Heartbeats through raft's main loop close the race: the same schedule
	// on hraft-serial shows no violation.
	serial, _ := Lookup("hraft-serial")
	other := *sched
	other.Target.Name = "hraft-serial"
	rep, err := fuzz.Replay(t, serial.Target, &other, fuzz.ReplayOptions{Repeat: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen[""] != 5 {
		t.Errorf("hraft-serial replays ended with %v; want no violation", rep.Seen)
	}
}

func replayAll(t *testing.T, name string, s *interpose.Schedule, n int) {
	t.Helper()
	st, _ := Lookup(name)
	rep, err := fuzz.Replay(t, st.Target, s, fuzz.ReplayOptions{Repeat: n})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reproduced != n {
		t.Errorf("replayed %d/%d (seen %v)", rep.Reproduced, n, rep.Seen)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// TestStaleSnapshotFound replays a schedule the fuzzer found on hraft-serial
// (`faultline fuzz --target hraft-serial --seed 1`, run 171): a restarted
// ex-leader that had snapshotted past index 4 accepts the new leader's
// InstallSnapshot for index 4 (raft checks only its term), which rolls its
// FSM and lastApplied back; raft's InmemSnapshotStore keeps only the snapshot
// created last, so entry 5 is then in neither snapshot nor log, and the next
// raft.NewRaft panics (hashicorp/raft#85, #697).
func TestStaleSnapshotFound(t *testing.T) {
	s, err := interpose.ReadFile("testdata/found/hraft-serial-stale-snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	if s.Violation == nil || s.Violation.Fingerprint != "NoPanic: raft.NewRaft: log not found" {
		t.Fatalf("fixture violation: %v", s.Violation)
	}
	replayAll(t, "hraft-serial", s, 10)
}

// TestCandidateLateVoteFound replays a schedule a 30-minute campaign found on
// hraft (15 events, minimized): #695's heartbeat fast path seen through a
// candidate. A term-3 heartbeat, handled on the transport's goroutine, makes
// the term-2 candidate n3 a follower of term 3 while its election loop waits;
// the loop then counts a late term-2 vote (raft ignores only votes of a
// higher term) and n3 leads term 3 beside the real leader. Heartbeats through
// raft's main loop close the race: on hraft-serial the loop returns on the
// heartbeat and the vote is never counted.
func TestCandidateLateVoteFound(t *testing.T) {
	s, err := interpose.ReadFile("testdata/found/hraft-candidate-late-vote.json")
	if err != nil {
		t.Fatal(err)
	}
	if s.Violation == nil || s.Violation.Invariant != invariants.ElectionSafety {
		t.Fatalf("fixture violation: %v", s.Violation)
	}
	replayAll(t, "hraft", s, 10)
	serial, _ := Lookup("hraft-serial")
	other := *s
	other.Target = serial.Target.Spec(s.Target.Nodes, s.Target.Seed)
	rep, err := fuzz.Replay(t, serial.Target, &other, fuzz.ReplayOptions{Repeat: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen[""] != 5 {
		t.Errorf("hraft-serial replays ended with %v; want no violation", rep.Seen)
	}
}

// TestStaleEntriesBelowSnapshotAreNotALog replays the schedule that made the
// checker report LeaderCompleteness on hraft-serial (34 events): a deposed
// leader of term 2 stores an entry at index 3 that never commits, later
// installs the new leader's snapshot of index 7, and raft's installSnapshot
// compacts only TrailingLogs below the node's own last entry, so the stale
// entry stays in its log store below the snapshot. raft never applies it
// (it applies above the snapshot only); the checker read it as committed. It
// now takes a node's log up to its snapshot to be the snapshot: the schedule
// replays whole and shows no violation.
func TestStaleEntriesBelowSnapshotAreNotALog(t *testing.T) {
	s, err := interpose.ReadFile("testdata/found/hraft-serial-stale-entries-below-snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := Lookup("hraft-serial")
	rep, err := fuzz.Replay(t, st.Target, s, fuzz.ReplayOptions{Repeat: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen[""] != 5 {
		t.Errorf("replays ended with %v; want no violation", rep.Seen)
	}
	if last := rep.Last; last.Skipped > 0 || last.Applied != len(s.Events) {
		t.Errorf("replay applied %d and skipped %d of %d events: it no longer follows the schedule", last.Applied, last.Skipped, len(s.Events))
	}
	installed := false
	for _, n := range rep.Last.Schedule.Final {
		st, ok := interpose.RaftOf(n) // a replay's final views keep their type
		installed = installed || ok && n.Node == 3 && st.SnapshotIndex >= 7
	}
	if !installed {
		t.Errorf("n3 holds no snapshot of index 7 at the end (final %v): the schedule no longer installs one", rep.Last.Schedule.Final)
	}
}

// TestTornWriteIsNotAcknowledged: a write a torn node commits is not
// acknowledged. n1, the only voter, with a slow disk, is torn just before
// the StoreLogs of entries 14 and 15 (event 227); raft runs on in the torn
// copy of its stores, counts its own write as a quorum and resolves the
// writes' futures, but the process is dead and the copy is dropped at the
// crash. faultline used to take those futures as acknowledgements, and
// LostWrite then flagged the entries n1 wrote at 14 and 15 after it
// recovered (`faultline fuzz --strategy random --target hraft-serial --runs
// 2000 --events 300 --keep-going --liveness --disk 3 --seed 1`, run 1501,
// saved as this schedule; it showed in 36 of 50 replays). Storage faults
// do not replay exactly, so it is replayed ten times: the tear must answer
// nothing in some, and no replay may end in LostWrite.
func TestTornWriteIsNotAcknowledged(t *testing.T) {
	s, err := interpose.ReadFile("testdata/hraft-serial-torn-write-unanswered.json")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := Lookup("hraft-serial")
	unanswered := 0
	for range 10 {
		rep, err := fuzz.Replay(t, st.Target, s, fuzz.ReplayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Seen["LostWrite"] > 0 {
			t.Fatalf("a replay ended in LostWrite: %s", rep.Last.Violation.Detail)
		}
		if slices.ContainsFunc(rep.Last.Schedule.Events, func(e interpose.Event) bool {
			return strings.Contains(e.Result, "never answered")
		}) {
			unanswered++
		}
	}
	if unanswered == 0 {
		t.Error("no replay tore n1 while it answered a request: the schedule no longer exercises the case")
	}
	t.Logf("%d of 10 replays answered nothing after the tear", unanswered)
}

// TestNoLeaderNeedsCallsToANodeNeverStarted: the untraced no-leader
// schedule (results/found/hraft-serial-Liveness-Commit-no-leader.min.json)
// is an artifact of the adapter's model. Its phase starts n1 and delivers
// it the 440 RequestPreVotes n2 and n3 sent while n1 had never started,
// which raft's transports would have refused. With those calls failed when
// n1 starts (hraft.Options.FailCallsToDown, recorded in the spec), the
// phase is made again (the recorded one names messages that no longer
// exist) and nothing is owed at its end.
func TestNoLeaderNeedsCallsToANodeNeverStarted(t *testing.T) {
	s, err := interpose.ReadFile("../results/found/hraft-serial-Liveness-Commit-no-leader.min.json")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := Lookup("hraft-serial")
	rep, err := fuzz.Replay(t, st.Target, s, fuzz.ReplayOptions{})
	if err != nil || rep.Reproduced != 1 {
		t.Fatalf("as recorded: reproduced %d, seen %v, %v", rep.Reproduced, rep.Seen, err)
	}
	failing := *s
	failing.Target.Config = maps.Clone(s.Target.Config)
	failing.Target.Config["calls_to_down"] = "fail"
	rep, err = fuzz.Replay(t, st.Target, &failing, fuzz.ReplayOptions{Repeat: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reproduced != 0 {
		t.Errorf("with calls to a node not running failed: reproduced %d of 5 (seen %v); want none", rep.Reproduced, rep.Seen)
	}
	t.Logf("with calls to a node not running failed: seen %v", rep.Seen)
}
