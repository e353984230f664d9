package etcdraft_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/etcdraft"
	"github.com/faultline-dev/faultline/invariants"
)

// clean fuzzes tg with opts, going on past violations, and fails the
// test (saying what) for each it finds.
func clean(t *testing.T, what string, tg interpose.Target, opts fuzz.Options) *fuzz.Result {
	t.Helper()
	opts.KeepGoing = true
	res, err := fuzz.Run(t, tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		t.Errorf("%s: run %d: %s: %s", what, v.Run, v.Fingerprint, v.Detail)
	}
	return res
}

// TestCorrect: etcd raft, unmodified, breaks no invariant, safety or
// liveness, in 300 runs of every fault kind, with and without PreVote and
// CheckQuorum; and every kind of message and fault happened.
func TestCorrect(t *testing.T) {
	for _, o := range []etcdraft.Options{{}, {PreVote: true, CheckQuorum: true}, {PreVote: true, CheckQuorum: true, AsyncStorageWrites: true},
		{PreVote: true, CheckQuorum: true, JointConsensus: true}} {
		res := clean(t, fmt.Sprintf("%+v", o), etcdraft.NewTarget("etcdraft", "", o), fuzz.Options{Seed: 1, Runs: 300, Events: 300})
		for _, m := range []string{"MsgApp", "MsgAppResp", "MsgHeartbeat", "MsgHeartbeatResp", "MsgSnap", "MsgProp", "MsgTimeoutNow"} {
			if res.Delivered[m] == 0 {
				t.Errorf("%+v: no %s delivered: %v", o, m, res.Delivered)
			}
		}
		if o.AsyncStorageWrites && (res.Delivered["MsgStorageAppend"] == 0 || res.Delivered["MsgStorageApply"] == 0) {
			t.Errorf("%+v: the storage threads did nothing: %v", o, res.Delivered)
		}
		for _, f := range []string{"crash", "drop", "duplicate", "partition", "membership", "transfer"} {
			if res.Faults[f] == 0 {
				t.Errorf("%+v: no %s: %v", o, f, res.Faults)
			}
		}
	}
}

// TestInjectedBugsFound: a storage that forgets its term and vote at a
// crash, one that acknowledges entries before they are durable (through
// the Ready or through the append thread of AsyncStorageWrites), and a
// leader kept after its removal are found within 2,000 runs, and their
// schedules replay 20/20.
func TestInjectedBugsFound(t *testing.T) {
	for _, c := range []struct {
		name string
		o    etcdraft.Options
		want []string
	}{
		{"forgetful", etcdraft.Options{ForgetHardState: true}, []string{"ElectionSafety", "LeaderCompleteness", "LeaderAppendOnly"}},
		{"lossy", etcdraft.Options{LoseUnsynced: true}, []string{"StateMachineSafety", "LeaderCompleteness", "ElectionSafety", "LogMatching"}},
		{"async-lossy", etcdraft.Options{PreVote: true, CheckQuorum: true, AsyncStorageWrites: true, LoseUnsynced: true},
			[]string{"NoPanic", "StateMachineSafety", "LeaderCompleteness", "ElectionSafety", "LogMatching"}},
		{"stay-leader", etcdraft.Options{KeepLeaderOnRemoval: true}, []string{"LeaderIsVoter"}},
	} {
		tg := etcdraft.NewTarget("etcdraft-"+c.name, c.name, c.o)
		res, err := fuzz.Run(t, tg, fuzz.Options{Seed: 1, Runs: 2000, Events: 300, NoLiveness: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Violations) == 0 || !slices.Contains(c.want, res.Violations[0].Invariant) {
			t.Errorf("%s: %+v in 2,000 runs; want one of %v", c.name, res.Violations, c.want)
			continue
		}
		v := res.Violations[0]
		rep, err := fuzz.Replay(t, tg, v.Sched, fuzz.ReplayOptions{Repeat: 20})
		if err != nil || rep.Reproduced != 20 {
			t.Errorf("%s: replayed %d/20 (%v)", c.name, rep.Reproduced, err)
		}
	}
}

// TestReplayIsExact: recorded schedules replay identically, event by event
// (crypto/rand's election timeouts change how many ticks an advance takes,
// not what it sends).
func TestReplayIsExact(t *testing.T) {
	for _, o := range []etcdraft.Options{{PreVote: true, CheckQuorum: true}, {PreVote: true, CheckQuorum: true, AsyncStorageWrites: true}} {
		tg := etcdraft.NewTarget("etcdraft-prevote", "", o)
		rate, err := fuzz.MeasureReplay(t, tg, fuzz.ReplayRateOptions{Schedules: 20, Repeat: 3, Campaign: fuzz.Options{Seed: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if rate.Identical != rate.Replays {
			t.Errorf("%+v: %d of %d replays identical", o, rate.Identical, rate.Replays)
		}
	}
}

// TestAsyncRegressions replays two schedules of AsyncStorageWrites that
// showed violations of our adapter's making, now gone: a commit index
// published ahead of what the storage holds (raft knows entries committed
// before its append thread wrote them; the storage still held the entry a
// leader overwrote: a false LeaderCompleteness), and a snapshot taken past
// the commit index the append thread had stored (raft refused to restart
// from it: NoPanic "applied(4) is out of range"; the recovery that showed
// it began a stabilization phase, here an event of the walk), and a leader
// elected on entries its append thread had not yet written, whose
// published (storage's) log lacked them: a false LeaderCompleteness, run
// 6351 of 10,000 (seed 1), before a leader was checked once its writes
// land (RaftState.Unpersisted).
func TestAsyncRegressions(t *testing.T) {
	tg := etcdraft.NewTarget("etcdraft-async", "", etcdraft.Options{PreVote: true, CheckQuorum: true, AsyncStorageWrites: true})
	for _, f := range []string{"async-commit-ahead-of-storage.json", "async-snapshot-past-stored-commit.json", "async-leader-log-in-memory.json"} {
		s, err := interpose.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := fuzz.Replay(t, tg, s, fuzz.ReplayOptions{Repeat: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Seen[""] != 1 || rep.Last.Skipped > 0 {
			t.Errorf("%s: %v, %d events skipped; want no violation, all %d events", f, rep.Seen, rep.Last.Skipped, len(s.Events))
		}
	}
}

// TestSnapshotTruncationObserved is a regression test: a follower that
// installs a snapshot keeps no entry after it, and the checker must hear
// so; before the adapter reported it, this schedule (10,000 runs of
// etcdraft, seed 1, run 2342) ended in a false LeaderAppendOnly when the
// follower, leader later, wrote those indexes again.
func TestSnapshotTruncationObserved(t *testing.T) {
	s, err := interpose.ReadFile("testdata/snapshot-drops-entries-after-it.json")
	if err != nil {
		t.Fatal(err)
	}
	tg := etcdraft.NewTarget("etcdraft", "", etcdraft.Options{})
	rep, err := fuzz.Replay(t, tg, s, fuzz.ReplayOptions{Repeat: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen[""] != 3 {
		t.Errorf("replays ended with %v; want no violation", rep.Seen)
	}
}

// ledger is a state machine of your own: transfers between accounts, an
// answer per command; with bug set, a transfer from an empty account
// panics.
type ledger struct {
	balances map[string]int
	bug      bool
}

func (l *ledger) Apply(cmd []byte) string {
	from, to, ok := strings.Cut(string(cmd), ">")
	if !ok {
		return "bad command"
	}
	if l.balances[from] == 0 {
		if l.bug {
			panic("transfer from empty account " + from)
		}
		return "refused"
	}
	l.balances[from]--
	l.balances[to]++
	return "ok"
}

func (l *ledger) Snapshot() ([]byte, error) { return json.Marshal(l.balances) }

func (l *ledger) Restore(data []byte) error {
	l.balances = map[string]int{"a": 3, "b": 3}
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, &l.balances)
}

// TestOwnStateMachine: a state machine of your own runs under control
// (its answers reach the clients' completions), and one that panics is a
// recorded violation of its own, not faultline's crash.
func TestOwnStateMachine(t *testing.T) {
	clients := []string{"a>b", "b>a", "a>c", "c>b"}
	for _, bug := range []bool{false, true} {
		tg := etcdraft.NewTarget("ledger", "", etcdraft.Options{NewStateMachine: func(int) etcdraft.StateMachine { return &ledger{bug: bug} }})
		res, err := fuzz.Run(t, tg, fuzz.Options{Seed: 1, Runs: 200, Events: 300, Clients: clients, KeepGoing: true, NoLiveness: true})
		if err != nil {
			t.Fatal(err)
		}
		var fps []string
		for _, v := range res.Violations {
			fps = append(fps, v.Fingerprint)
		}
		want := !bug
		if bug {
			want = slices.Contains(fps, "NoPanic: state machine Apply: transfer from empty account c")
		}
		if !want || !bug && len(fps) > 0 {
			t.Errorf("bug %v: violations %v", bug, fps)
		}
	}
}

// TestLeaseReadStale: with ReadOnlyLeaseBased, a leader whose clock has not
// moved still holds its lease after the others elected a new leader and
// committed a write; it answers a read at once with the old value
// (Linearizability, 26 events, minimized from run 415 of seed 1 of
// `faultline fuzz --target etcdraft-lease --reads 50`). etcd raft
// documents it: lease-based reads rely on bounded clock drift, which a
// node that does not tick breaks. The same events with ReadOnlySafe leave
// the read unanswered: no violation.
func TestLeaseReadStale(t *testing.T) {
	s, err := interpose.ReadFile("testdata/lease-read-stale.min.json")
	if err != nil {
		t.Fatal(err)
	}
	lease := etcdraft.NewTarget("etcdraft-lease", "", etcdraft.Options{PreVote: true, CheckQuorum: true, LeaseReads: true})
	rep, err := fuzz.Replay(t, lease, s, fuzz.ReplayOptions{Repeat: 20})
	if err != nil || rep.Reproduced != 20 {
		t.Fatalf("lease-based: reproduced %d/20 (%v)", rep.Reproduced, err)
	}
	safe := *s
	safe.Target.Name = "etcdraft-prevote"
	rep, err = fuzz.Replay(t, etcdraft.NewTarget("etcdraft-prevote", "", etcdraft.Options{PreVote: true, CheckQuorum: true}), &safe, fuzz.ReplayOptions{Repeat: 1})
	if err != nil || rep.Seen[""] != 1 {
		t.Errorf("ReadOnlySafe on the same events: %v (%v)", rep.Seen, err)
	}
}

// TestReadsLinearizable: ReadIndex reads with ReadOnlySafe are
// linearizable in 300 runs with every fault kind, and histories were
// checked.
func TestReadsLinearizable(t *testing.T) {
	tg := etcdraft.NewTarget("etcdraft-prevote", "", etcdraft.Options{PreVote: true, CheckQuorum: true})
	res := clean(t, "reads", tg, fuzz.Options{Seed: 1, Runs: 300, Events: 300, Reads: 50, NoLiveness: true})
	if res.Checks["Linearizability"] == 0 {
		t.Errorf("no history checked: %v", res.Checks)
	}
}

// TestProposalsNotDuplicated is a regression test: a forwarded proposal
// (MsgProp) duplicated by the network was appended twice and its write
// applied again after a later one, and a read saw the older value
// (Linearizability in run 3,334 of `faultline fuzz --target
// etcdraft-prevote --reads 50`, minimized to 70 events). Raft does not
// deduplicate client commands (etcd's server does, by request id); the
// fuzzer no longer duplicates MsgProp, and the schedule's duplicates are
// not enabled.
func TestProposalsNotDuplicated(t *testing.T) {
	s, err := interpose.ReadFile("testdata/duplicated-proposal.min.json")
	if err != nil {
		t.Fatal(err)
	}
	tg := etcdraft.NewTarget("etcdraft-prevote", "", etcdraft.Options{PreVote: true, CheckQuorum: true})
	rep, err := fuzz.Replay(t, tg, s, fuzz.ReplayOptions{Repeat: 1})
	if err != nil || rep.Seen[""] != 1 {
		t.Errorf("replays ended with %v (%v); want no violation", rep.Seen, err)
	}
}

// TestAdvanceReachesItsMessage: an advance that names a message several
// elections away (a minimized schedule whose earlier elections were
// removed) ticks until it is sent, however the randomized election
// timeouts fall: before, a bound of four election timeouts made 3 of 20
// replays of such a schedule miss it.
func TestAdvanceReachesItsMessage(t *testing.T) {
	tg := etcdraft.NewTarget("etcdraft", "", etcdraft.Options{})
	want := interpose.Msg{Type: "MsgVote", From: 2, To: 3, Key: "term=3 index=0 logterm=0"}
	for range 20 {
		sys, err := tg.Open(t, tg.Spec(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			if _, err := sys.Apply(i-1, interpose.Event{Kind: interpose.Start, Node: i}); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := sys.Apply(3, interpose.Event{Kind: interpose.Advance, Node: 2, Until: &want})
		if err != nil || ev.Until == nil || *ev.Until != want {
			t.Fatalf("advance ended with %v (%v); want it to reach %v", ev.Until, err, want)
		}
	}
}

// TestJointConsensus removes a voter through a joint configuration: the
// leader applies the change (entering {n1,n2} with {n1,n2,n3} outgoing),
// then proposes leaving it on its own; once every message is delivered,
// every live node holds the configuration of n1 and n2 alone. A cluster
// that stayed joint would still count n3 among its voters.
func TestJointConsensus(t *testing.T) {
	tg := etcdraft.NewTarget("etcdraft-joint", "", etcdraft.Options{PreVote: true, CheckQuorum: true, JointConsensus: true})
	sys, err := tg.Open(t, tg.Spec(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	at := 0
	apply := func(ev interpose.Event) interpose.Event {
		t.Helper()
		out, err := sys.Apply(at, ev)
		if err != nil {
			t.Fatalf("%v: %v", ev, err)
		}
		at++
		return out
	}
	settle := func() {
		for range 1000 {
			var next *interpose.Message
			for _, m := range sys.Pending() {
				if m.Deliverable {
					next = &m
					break
				}
			}
			if next == nil {
				return
			}
			apply(interpose.Event{Kind: interpose.Deliver, Msg: &next.Msg})
		}
		t.Fatal("the cluster never went quiet")
	}
	for i := 1; i <= 3; i++ {
		apply(interpose.Event{Kind: interpose.Start, Node: i})
	}
	apply(interpose.Event{Kind: interpose.Advance, Node: 1})
	settle()
	apply(interpose.Event{Kind: interpose.Membership, Node: 1, Op: interpose.RemoveServer, Peer: 3})
	settle()
	for _, id := range []int{1, 2} {
		r, ok := interpose.RaftOf(sys.View().Nodes[id-1])
		if !ok || r.Config.String() != "voters n1,n2" {
			t.Errorf("n%d holds %v; want voters n1,n2", id, r.Config)
		}
	}
}

// TestAsyncVoteBeforeTermDurable replays a finding of etcd raft's own (a
// 30-minute campaign on etcdraft-async, minimized to 43 events): with
// AsyncStorageWrites a candidate sends its MsgVote at once, before the
// append thread has stored its new term, and with it the last entry of a
// log it has not stored either. n1 campaigns in term 2 claiming entry 1,
// crashes before either is stored, restarts in term 1 with an empty log,
// campaigns in term 2 again, and counts the vote n2 granted its first
// campaign: it leads term 2 without entry 1, which n2 and n3 committed in
// term 1 (LeaderCompleteness).
func TestAsyncVoteBeforeTermDurable(t *testing.T) {
	s, err := interpose.ReadFile(filepath.Join("testdata", "async-vote-before-term-durable.min.json"))
	if err != nil {
		t.Fatal(err)
	}
	tg := etcdraft.NewTarget("etcdraft-async", "", etcdraft.Options{PreVote: true, CheckQuorum: true, AsyncStorageWrites: true})
	rep, err := fuzz.Replay(t, tg, s, fuzz.ReplayOptions{Repeat: 20})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reproduced != 20 || rep.Expected != "LeaderCompleteness" {
		t.Errorf("replayed %d/20 (%v); want LeaderCompleteness every time", rep.Reproduced, rep.Seen)
	}
}

// TestRemovedIDNotReadded replays a schedule a campaign on etcdraft-prevote
// found (Liveness:Commit, minimized to 31 events before its phase): a
// promotion of n2, proposed before n2's removal applied, was appended after
// it; the adapter refused re-adding a removed id only when proposed, so n2
// came back, and every snapshot the leader sent it (whose configuration
// lacks it) was refused, for ever. A change that takes a removed id back is
// now applied with no node, as etcd's server does, and the replay ends
// without a violation.
func TestRemovedIDNotReadded(t *testing.T) {
	s, err := interpose.ReadFile(filepath.Join("testdata", "readded-id-after-removal.min.json"))
	if err != nil {
		t.Fatal(err)
	}
	tg := etcdraft.NewTarget("etcdraft-prevote", "", etcdraft.Options{PreVote: true, CheckQuorum: true})
	rep, err := fuzz.Replay(t, tg, s, fuzz.ReplayOptions{Repeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen[""] != 1 {
		t.Errorf("replay ended with %v; want no violation", rep.Seen)
	}
}

// TestUnreachedAdvanceReplays: a replayed advance whose message cannot
// come (here a vote of term 500, out of reach of the advance's bound) is
// recorded as an advance to its cap of the ticks it took, and the
// recorded schedule replays exactly as the first replay went, untimed.
// It was recorded as an advance with no message, which a replay ran
// until the node's next message: the minimizer's results of a forgetful
// seed replayed 0/20.
func TestUnreachedAdvanceReplays(t *testing.T) {
	tg := etcdraft.NewTarget("etcdraft", "", etcdraft.Options{})
	s := &interpose.Schedule{Target: tg.Spec(3, 1)}
	for n := 1; n <= 3; n++ {
		s.Events = append(s.Events, interpose.Event{Kind: interpose.Start, Node: n})
	}
	s.Events = append(s.Events,
		interpose.Event{Kind: interpose.Advance, Node: 1, Until: &interpose.Msg{Type: "MsgVote", From: 1, To: 2, Key: "term=500 index=0 logterm=0"}},
		interpose.Event{Kind: interpose.Advance, Node: 2})
	replay := func(s *interpose.Schedule) *interpose.Schedule {
		sys, err := tg.Open(t, s.Target)
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close()
		r, err := interpose.Replay(sys, invariants.NewRaft(), s, interpose.ReplayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Schedule
	}
	first := replay(s)
	adv := first.Events[3]
	if adv.Until != nil || adv.UntilN != -1 || adv.Took <= 0 {
		t.Fatalf("the unreached advance was recorded as %+v; want an advance to its cap with its ticks", adv)
	}
	second := replay(first)
	a, _ := json.Marshal(first.Events)
	b, _ := json.Marshal(second.Events)
	if string(a) != string(b) {
		t.Errorf("the recorded schedule replays otherwise:\n%s\n%s", a, b)
	}
}
