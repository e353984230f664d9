package invariants_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// want is one violation a Check must return.
type want struct {
	at     int      // index of the view whose Check returns it
	inv    string   // its Invariant
	fp     string   // its Fingerprint; "" means inv
	detail []string // substrings its Detail must contain
}

// check feeds views to a fresh checker and compares what each Check returns
// with the wants for that view, in order.
func check(t *testing.T, views []*interpose.View, wants []want) {
	t.Helper()
	r := invariants.NewRaft()
	for i, v := range views {
		got := r.Check(v)
		var exp []want
		for _, w := range wants {
			if w.at == i {
				exp = append(exp, w)
			}
		}
		if len(got) != len(exp) {
			t.Fatalf("view %d: got %d violations, want %d:\n%s", i, len(got), len(exp), format(got))
		}
		for j, w := range exp {
			g := got[j]
			fp := w.fp
			if fp == "" {
				fp = w.inv
			}
			if g.Invariant != w.inv || g.Fingerprint != fp {
				t.Errorf("view %d, violation %d: got %s/%q, want %s/%q\n%s", i, j, g.Invariant, g.Fingerprint, w.inv, fp, format(got))
			}
			for _, s := range w.detail {
				if !strings.Contains(g.Detail, s) {
					t.Errorf("view %d, violation %d (%s): detail %q does not mention %q", i, j, g.Invariant, g.Detail, s)
				}
			}
			if g.Step != 0 {
				t.Errorf("view %d, violation %d: Step = %d, want 0 (the caller sets it)", i, j, g.Step)
			}
		}
	}
	for _, w := range wants {
		if w.at < 0 || w.at >= len(views) {
			t.Fatalf("bad test: want at view %d of %d", w.at, len(views))
		}
	}
}

func format(vs []interpose.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\t%s [%s] %s\n", v.Invariant, v.Fingerprint, v.Detail)
	}
	return b.String()
}

// Builders.

// raftView is a started node publishing the Raft facts s, as an adapter
// does.
func raftView(n int, up bool, s interpose.RaftState) interpose.NodeView {
	return interpose.NodeView{Node: n, Started: true, Up: up, Facts: &s}
}

func leader(n int, term, commit uint64) interpose.NodeView {
	return raftView(n, true, interpose.RaftState{Role: interpose.RoleLeader, Term: term, CommitIndex: commit})
}

func follower(n int, term, commit uint64) interpose.NodeView {
	return raftView(n, true, interpose.RaftState{Role: interpose.RoleFollower, Term: term, CommitIndex: commit})
}

func nodes(ns ...interpose.NodeView) []interpose.NodeView { return ns }

func claims(cs ...interpose.Claim) []interpose.Claim { return cs }

// hash is the hash of the canonical entry (index, term); tests that want two
// different entries at one (index, term) pass another hash with storeH.
func hash(index, term uint64) uint64 { return index*1_000 + term }

func storeH(n int, index, term, h uint64) interpose.LogOp {
	return interpose.LogOp{Node: n, Kind: interpose.LogStore, Index: index, Term: term, Hash: h, NodeTerm: term}
}

// store is a follower's write of the canonical entry (index, term).
func store(n int, index, term uint64) interpose.LogOp {
	return storeH(n, index, term, hash(index, term))
}

// lstore is a leader's write of the canonical entry (index, term).
func lstore(n int, index, term uint64) interpose.LogOp {
	op := store(n, index, term)
	op.Leader = true
	return op
}

// stores writes entries lo..hi of one term at a follower.
func stores(n int, term, lo, hi uint64) []interpose.LogOp {
	var ops []interpose.LogOp
	for i := lo; i <= hi; i++ {
		ops = append(ops, store(n, i, term))
	}
	return ops
}

func truncate(n int, lo, hi uint64, isLeader bool, nodeTerm uint64) interpose.LogOp {
	return interpose.LogOp{Node: n, Kind: interpose.LogTruncate, Index: lo, Hi: hi, Leader: isLeader, NodeTerm: nodeTerm}
}

func compact(n int, lo, hi uint64, isLeader bool, nodeTerm uint64) interpose.LogOp {
	return interpose.LogOp{Node: n, Kind: interpose.LogCompact, Index: lo, Hi: hi, Leader: isLeader, NodeTerm: nodeTerm}
}

func ops(groups ...any) []interpose.LogOp {
	var out []interpose.LogOp
	for _, g := range groups {
		switch g := g.(type) {
		case interpose.LogOp:
			out = append(out, g)
		case []interpose.LogOp:
			out = append(out, g...)
		default:
			panic(fmt.Sprintf("ops: %T", g))
		}
	}
	return out
}

func applied(n int, index, term, h uint64) interpose.Applied {
	return interpose.Applied{Node: n, Index: index, Term: term, Hash: h}
}

type tcase struct {
	name  string
	views []*interpose.View
	want  []want
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.views, tc.want)
		})
	}
}

func TestElectionSafety(t *testing.T) {
	es := invariants.ElectionSafety
	runCases(t, []tcase{
		{
			name: "two leaders in state, same view",
			views: []*interpose.View{
				{Nodes: nodes(leader(1, 2, 0), leader(2, 2, 0), follower(3, 2, 0))},
			},
			want: []want{{at: 0, inv: es, detail: []string{"n1 and n2", "term 2", "n1 in its state", "n2 in its state"}}},
		},
		{
			name: "two leaders in state, different views",
			views: []*interpose.View{
				{Nodes: nodes(leader(1, 2, 0), follower(2, 2, 0), follower(3, 2, 0))},
				{Nodes: nodes(follower(1, 2, 0), follower(2, 2, 0), follower(3, 2, 0))},
				{Nodes: nodes(follower(1, 2, 0), follower(2, 2, 0), leader(3, 2, 0))},
			},
			want: []want{{at: 2, inv: es, detail: []string{"n1 and n3", "term 2"}}},
		},
		{
			name: "two claims, different views",
			views: []*interpose.View{
				{Claims: claims(interpose.Claim{Node: 1, Term: 3})},
				{Claims: claims(interpose.Claim{Node: 2, Term: 3})},
			},
			want: []want{{at: 1, inv: es, detail: []string{"n1 and n2", "term 3", "n1 on the wire", "n2 on the wire"}}},
		},
		{
			name: "two claims, same view",
			views: []*interpose.View{
				{Claims: claims(interpose.Claim{Node: 2, Term: 5}, interpose.Claim{Node: 1, Term: 5})},
			},
			want: []want{{at: 0, inv: es, detail: []string{"n2 and n1", "term 5"}}},
		},
		{
			name: "claim then state",
			views: []*interpose.View{
				{Claims: claims(interpose.Claim{Node: 1, Term: 4})},
				{Nodes: nodes(follower(1, 4, 0), leader(2, 4, 0))},
			},
			want: []want{{at: 1, inv: es, detail: []string{"n1 and n2", "term 4", "n1 on the wire", "n2 in its state"}}},
		},
		{
			name: "state then claim",
			views: []*interpose.View{
				{Nodes: nodes(leader(3, 4, 0))},
				{Claims: claims(interpose.Claim{Node: 1, Term: 4})},
			},
			want: []want{{at: 1, inv: es, detail: []string{"n3 and n1", "term 4", "n3 in its state", "n1 on the wire"}}},
		},
		{
			name: "claim and state in one view: claims are seen first",
			views: []*interpose.View{
				{Claims: claims(interpose.Claim{Node: 2, Term: 4}), Nodes: nodes(leader(1, 4, 0), follower(2, 4, 0))},
			},
			want: []want{{at: 0, inv: es, detail: []string{"n2 and n1", "n2 on the wire", "n1 in its state"}}},
		},
		{
			name: "same node twice in a term",
			views: []*interpose.View{
				{Claims: claims(interpose.Claim{Node: 1, Term: 2}), Nodes: nodes(leader(1, 2, 0))},
				{Claims: claims(interpose.Claim{Node: 1, Term: 2}, interpose.Claim{Node: 1, Term: 2}), Nodes: nodes(leader(1, 2, 0))},
				{Nodes: nodes(leader(1, 2, 0))},
			},
		},
		{
			name: "different terms",
			views: []*interpose.View{
				{Nodes: nodes(leader(1, 1, 0), follower(2, 1, 0))},
				{Nodes: nodes(leader(1, 1, 0), leader(2, 2, 0))}, // n1 is a stale leader
				{Claims: claims(interpose.Claim{Node: 3, Term: 3}, interpose.Claim{Node: 1, Term: 1})},
				{Nodes: nodes(follower(1, 4, 0), follower(2, 4, 0), leader(3, 4, 0))},
			},
		},
		{
			name: "a down node's stale leader role does not count",
			views: []*interpose.View{
				{Nodes: nodes(leader(1, 2, 0))},
				{Nodes: nodes(
					raftView(1, false, interpose.RaftState{Role: "leader", Term: 2}),
					raftView(2, false, interpose.RaftState{Role: "leader", Term: 2}),
				)},
			},
		},
		{
			name: "candidates do not count",
			views: []*interpose.View{
				{Nodes: nodes(leader(1, 2, 0), raftView(2, true, interpose.RaftState{Role: "candidate", Term: 2}))},
			},
		},
		{
			name: "reported once per checker",
			views: []*interpose.View{
				{Nodes: nodes(leader(1, 2, 0), leader(2, 2, 0))},
				{Nodes: nodes(leader(1, 2, 0), leader(2, 2, 0))},
				{Nodes: nodes(leader(1, 3, 0), leader(3, 3, 0))},
				{Claims: claims(interpose.Claim{Node: 2, Term: 4}, interpose.Claim{Node: 3, Term: 4})},
			},
			want: []want{{at: 0, inv: es, detail: []string{"n1 and n2", "term 2"}}},
		},
		{
			name: "three leaders in a term: one violation",
			views: []*interpose.View{
				{Nodes: nodes(leader(1, 2, 0), leader(2, 2, 0), leader(3, 2, 0))},
			},
			want: []want{{at: 0, inv: es, detail: []string{"n1 and n2", "term 2"}}},
		},
	})
}

func TestLeaderAppendOnly(t *testing.T) {
	lao := invariants.LeaderAppendOnly
	runCases(t, []tcase{
		{
			name: "leader truncates",
			views: []*interpose.View{
				{LogOps: stores(1, 1, 1, 3)},
				{LogOps: ops(truncate(1, 2, 3, true, 2)), Nodes: nodes(leader(1, 2, 0))},
			},
			want: []want{{at: 1, inv: lao, detail: []string{"n1", "leader of term 2", "deleted its entries 2..3"}}},
		},
		{
			name: "leader truncates past its last entry",
			views: []*interpose.View{
				{LogOps: ops(lstore(2, 1, 1), truncate(2, 5, 9, true, 1))},
			},
			want: []want{{at: 0, inv: lao, detail: []string{"n2", "leader of term 1", "5..9"}}},
		},
		{
			name: "follower truncates",
			views: []*interpose.View{
				{LogOps: stores(2, 1, 1, 3)},
				{LogOps: ops(truncate(2, 2, 3, false, 2), store(2, 2, 2), store(2, 3, 2))},
			},
		},
		{
			name: "leader overwrites an entry",
			views: []*interpose.View{
				{LogOps: stores(1, 1, 1, 3)},
				{LogOps: ops(lstore(1, 2, 2)), Nodes: nodes(leader(1, 2, 0))},
			},
			want: []want{{at: 1, inv: lao, detail: []string{"n1", "leader of term 2", "overwrote entry 2 (term 1)", "one of term 2"}}},
		},
		{
			name: "leader rewrites its last entry",
			views: []*interpose.View{
				{LogOps: ops(lstore(3, 1, 1), lstore(3, 2, 1), lstore(3, 2, 1))},
			},
			want: []want{{at: 0, inv: lao, detail: []string{"n3", "overwrote entry 2 (term 1) with one of term 1"}}},
		},
		{
			name: "leader appends",
			views: []*interpose.View{
				{LogOps: stores(1, 1, 1, 3)},
				{LogOps: ops(lstore(1, 4, 2), lstore(1, 5, 2)), Nodes: nodes(leader(1, 2, 0))},
				{LogOps: ops(lstore(1, 6, 2))},
			},
		},
		{
			name: "follower overwrites without truncating",
			views: []*interpose.View{
				{LogOps: stores(2, 1, 1, 3)},
				{LogOps: ops(store(2, 2, 2))},
			},
		},
		{
			name: "leader compacts, then appends",
			views: []*interpose.View{
				{LogOps: ops(lstore(1, 1, 1), lstore(1, 2, 1), lstore(1, 3, 1), lstore(1, 4, 1))},
				{LogOps: ops(compact(1, 1, 2, true, 1), compact(1, 1, 1, true, 1))}, // the second is stale
				{LogOps: ops(compact(1, 3, 4, true, 1), lstore(1, 5, 1))},
				{LogOps: ops(compact(1, 5, 5, true, 1), lstore(1, 6, 1))},
			},
		},
		{
			name: "reported once: truncation then overwrite",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), truncate(1, 3, 3, true, 2))},
				{LogOps: ops(lstore(1, 2, 2))},
			},
			want: []want{{at: 0, inv: lao, detail: []string{"deleted its entries 3..3"}}},
		},
	})
}

func TestLogMatching(t *testing.T) {
	lm := invariants.LogMatching
	runCases(t, []tcase{
		{
			name: "different entries at one index and term, different views",
			views: []*interpose.View{
				{LogOps: stores(1, 1, 1, 2)},
				{LogOps: ops(store(2, 1, 1), storeH(2, 2, 1, 77))},
			},
			want: []want{{at: 1, inv: lm, detail: []string{"n1 and n2", "different entries at index 2, term 1"}}},
		},
		{
			name: "different entries at one index and term, same view",
			views: []*interpose.View{
				{LogOps: ops(storeH(3, 1, 2, 5), storeH(1, 1, 2, 6))},
			},
			want: []want{{at: 0, inv: lm, detail: []string{"n3 and n1", "index 1, term 2"}}},
		},
		{
			name: "same entry, different predecessor term",
			views: []*interpose.View{
				{LogOps: ops(store(1, 1, 1), store(1, 2, 2))},
				{LogOps: ops(store(2, 1, 2), store(2, 2, 2))},
			},
			want: []want{{at: 1, inv: lm, detail: []string{"n1 and n2", "agree on entry 2 (term 2)", "not on entry 1", "terms 1 and 2"}}},
		},
		{
			name: "same prefix on every node",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), stores(2, 1, 1, 3))},
				{LogOps: ops(stores(3, 1, 1, 2), store(3, 3, 1), store(1, 4, 2), store(2, 4, 2), store(3, 4, 2))},
			},
		},
		{
			name: "follower truncates, then stores a new term",
			views: []*interpose.View{
				// n2 has an uncommitted entry 3 of term 1; n1, leader of term 2, wrote its own entry 3.
				{LogOps: ops(stores(1, 1, 1, 2), stores(2, 1, 1, 3))},
				{LogOps: ops(lstore(1, 3, 2), lstore(1, 4, 2)), Nodes: nodes(leader(1, 2, 0), follower(2, 2, 0))},
				{LogOps: ops(truncate(2, 3, 3, false, 2), store(2, 3, 2), store(2, 4, 2))},
				{LogOps: ops(stores(3, 1, 1, 2), store(3, 3, 2), store(3, 4, 2))},
			},
		},
		{
			name: "compaction, then a gap restart",
			views: []*interpose.View{
				{LogOps: ops(stores(2, 1, 1, 3))},
				{LogOps: ops(compact(2, 1, 3, false, 1), store(2, 10, 2), store(2, 11, 2))},
				{LogOps: ops(stores(1, 1, 1, 3), stores(1, 2, 4, 11))},
			},
		},
		{
			name: "gap restart with no compaction",
			views: []*interpose.View{
				{LogOps: ops(stores(2, 1, 1, 3), store(2, 20, 3), store(2, 21, 3))},
				{LogOps: ops(store(1, 19, 1), store(1, 20, 3), store(1, 21, 3))},
			},
		},
		{
			name: "predecessor learned after a gap restart",
			views: []*interpose.View{
				{LogOps: ops(compact(2, 1, 9, false, 2), store(2, 10, 2))}, // no predecessor known
				{LogOps: ops(store(1, 9, 2), store(1, 10, 2))},             // predecessor term 2
				{LogOps: ops(store(3, 9, 1), store(3, 10, 2))},             // predecessor term 1
			},
			want: []want{{at: 2, inv: lm, detail: []string{"n2 and n3", "agree on entry 10 (term 2)", "entry 9", "terms 2 and 1"}}},
		},
		{
			name: "partial compaction keeps the predecessor",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 5), compact(1, 1, 3, false, 1), store(1, 6, 2))},
				{LogOps: ops(store(2, 5, 2), store(2, 6, 2))},
			},
			want: []want{{at: 1, inv: lm, detail: []string{"n1 and n2", "agree on entry 6 (term 2)", "entry 5", "terms 1 and 2"}}},
		},
		{
			name: "the same node stores an entry again",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3))},
				{LogOps: ops(truncate(1, 2, 3, false, 1), stores(1, 1, 2, 3))},
			},
		},
		{
			name: "reported once",
			views: []*interpose.View{
				{LogOps: ops(storeH(1, 1, 1, 1), storeH(2, 1, 1, 2))},
				{LogOps: ops(storeH(3, 1, 1, 3), store(1, 2, 2), store(3, 2, 2))},
			},
			want: []want{{at: 0, inv: lm, detail: []string{"n1 and n2", "index 1, term 1"}}},
		},
	})
}

func TestStateMachineSafety(t *testing.T) {
	sms := invariants.StateMachineSafety
	runCases(t, []tcase{
		{
			name: "different terms at one index",
			views: []*interpose.View{
				{Applied: []interpose.Applied{applied(1, 5, 1, 10)}},
				{Applied: []interpose.Applied{applied(2, 5, 2, 10)}},
			},
			want: []want{{at: 1, inv: sms, detail: []string{"n1 applied entry 5 of term 1", "n2 applied a different entry 5 of term 2"}}},
		},
		{
			name: "different hashes at one index, same view",
			views: []*interpose.View{
				{Applied: []interpose.Applied{applied(3, 2, 1, 10), applied(1, 2, 1, 11)}},
			},
			want: []want{{at: 0, inv: sms, detail: []string{"n3 applied entry 2 of term 1", "n1 applied a different entry 2"}}},
		},
		{
			name: "same entry everywhere",
			views: []*interpose.View{
				{Applied: []interpose.Applied{applied(1, 1, 1, 10), applied(1, 2, 1, 20)}},
				{Applied: []interpose.Applied{applied(2, 1, 1, 10), applied(3, 1, 1, 10), applied(2, 2, 1, 20)}},
				// n1 restarts and applies its log again.
				{Applied: []interpose.Applied{applied(1, 1, 1, 10), applied(1, 2, 1, 20), applied(1, 3, 2, 30)}},
			},
		},
		{
			name: "different indexes",
			views: []*interpose.View{
				{Applied: []interpose.Applied{applied(1, 7, 1, 10), applied(2, 3, 2, 20), applied(3, 1, 3, 30)}},
			},
		},
		{
			name: "reported once",
			views: []*interpose.View{
				{Applied: []interpose.Applied{applied(1, 1, 1, 10), applied(2, 1, 1, 11)}},
				{Applied: []interpose.Applied{applied(3, 1, 1, 12), applied(1, 2, 1, 20), applied(2, 2, 2, 20)}},
			},
			want: []want{{at: 0, inv: sms, detail: []string{"entry 1"}}},
		},
	})
}

func TestLostWrite(t *testing.T) {
	lw := invariants.LostWrite
	ack := func(node, event int, index, h uint64) interpose.Ack {
		return interpose.Ack{Node: node, Event: event, Index: index, Hash: h}
	}
	runCases(t, []tcase{
		{
			name: "acknowledged, then another entry applied there",
			views: []*interpose.View{
				{Acked: []interpose.Ack{ack(1, 7, 3, 30)}},
				{Applied: []interpose.Applied{applied(2, 3, 2, 31)}},
			},
			want: []want{{at: 1, inv: lw, detail: []string{"the write of event 7, acknowledged to its client through n1 at index 3, is lost: n2 applied another entry there"}}},
		},
		{
			name: "applied elsewhere first, acknowledged after",
			views: []*interpose.View{
				{Applied: []interpose.Applied{applied(3, 4, 2, 40)}},
				{Acked: []interpose.Ack{ack(1, 9, 4, 41)}},
			},
			want: []want{{at: 1, inv: lw, detail: []string{"event 9", "n3 applied another entry"}}},
		},
		{
			name: "two writes acknowledged at one index",
			views: []*interpose.View{
				{Acked: []interpose.Ack{ack(1, 2, 5, 50), ack(2, 6, 5, 51)}},
			},
			want: []want{{at: 0, inv: lw, detail: []string{"two writes were acknowledged at index 5 (events 2 and 6"}}},
		},
		{
			name: "acknowledged and applied everywhere",
			views: []*interpose.View{
				{Applied: []interpose.Applied{applied(1, 3, 1, 30)}, Acked: []interpose.Ack{ack(1, 1, 3, 30)}},
				{Applied: []interpose.Applied{applied(2, 3, 1, 30), applied(3, 3, 1, 30)}},
			},
		},
	})
}

func TestLeaderCompleteness(t *testing.T) {
	lc := invariants.LeaderCompleteness
	// base: n1, leader of term 1, stores 1..3 and replicates them to n2; n3
	// has only 1..2. n1 commits 3.
	base := func() []*interpose.View {
		return []*interpose.View{
			{
				LogOps: ops(lstore(1, 1, 1), lstore(1, 2, 1), lstore(1, 3, 1), stores(2, 1, 1, 3), stores(3, 1, 1, 2)),
				Nodes:  nodes(leader(1, 1, 0), follower(2, 1, 0), follower(3, 1, 0)),
			},
			{Nodes: nodes(leader(1, 1, 3), follower(2, 1, 2), follower(3, 1, 2))},
		}
	}
	with := func(vs ...*interpose.View) []*interpose.View { return append(base(), vs...) }
	runCases(t, []tcase{
		{
			name: "committed history alone",
			views: with(
				&interpose.View{Nodes: nodes(leader(1, 1, 3), follower(2, 1, 3), follower(3, 1, 2))},
			),
		},
		{
			name: "later leader lacks a committed entry",
			views: with(
				&interpose.View{Nodes: nodes(follower(1, 2, 3), follower(2, 2, 3), leader(3, 2, 2))},
			),
			want: []want{{at: 2, inv: lc, detail: []string{"n3, leader of term 2", "lacks entry 3 (term 1)", "committed by term 1"}}},
		},
		{
			name: "later leader without any log",
			views: with(
				&interpose.View{Nodes: nodes(follower(1, 3, 3), leader(4, 3, 0))},
			),
			want: []want{{at: 2, inv: lc, detail: []string{"n4, leader of term 3", "lacks entry 1 (term 1)"}}},
		},
		{
			name: "later leader has the entry with another term",
			views: with(
				&interpose.View{LogOps: ops(store(3, 3, 2)), Nodes: nodes(follower(3, 2, 2))},
				&interpose.View{Nodes: nodes(follower(1, 3, 3), leader(3, 3, 2))},
			),
			want: []want{{at: 3, inv: lc, detail: []string{"n3, leader of term 3", "lacks entry 3 (term 1)"}}},
		},
		{
			name: "later leader lost the entry to a truncation",
			views: with(
				&interpose.View{LogOps: ops(truncate(2, 2, 3, false, 2))},
				&interpose.View{Nodes: nodes(leader(2, 2, 3))},
			),
			want: []want{{at: 3, inv: lc, detail: []string{"n2, leader of term 2", "lacks entry 2 (term 1)"}}},
		},
		{
			name: "later leader has every committed entry",
			views: with(
				&interpose.View{Nodes: nodes(follower(1, 2, 3), leader(2, 2, 3), follower(3, 2, 2))},
				&interpose.View{LogOps: ops(lstore(2, 4, 2), store(3, 3, 1), store(3, 4, 2)), Nodes: nodes(follower(1, 2, 3), leader(2, 2, 4), follower(3, 2, 4))},
				&interpose.View{Nodes: nodes(follower(1, 3, 3), follower(2, 3, 4), leader(3, 3, 4))},
			),
		},
		{
			name: "later leader compacted past the committed entries",
			views: with(
				// n3 installs a snapshot up to 3 and drops its log.
				&interpose.View{LogOps: ops(compact(3, 1, 3, false, 2))},
				&interpose.View{Nodes: nodes(follower(1, 2, 3), leader(3, 2, 3))},
			),
		},
		{
			name: "later leader restarted its log after a snapshot",
			views: with(
				&interpose.View{LogOps: ops(compact(3, 1, 3, false, 1), store(3, 4, 1))},
				&interpose.View{Nodes: nodes(leader(3, 2, 2))},
			),
		},
		{
			name: "later leader compacted only part of the committed entries",
			views: with(
				&interpose.View{LogOps: ops(compact(3, 1, 1, false, 1))},
				&interpose.View{Nodes: nodes(leader(3, 2, 2))},
			),
			want: []want{{at: 3, inv: lc, detail: []string{"n3, leader of term 2", "lacks entry 3 (term 1)"}}},
		},
		{
			name: "later leader compacted up to a conflicting entry",
			views: []*interpose.View{
				{LogOps: ops(lstore(1, 1, 1), lstore(1, 2, 1), store(3, 1, 1), store(3, 2, 2))},
				{LogOps: ops(compact(3, 1, 1, false, 2)), Nodes: nodes(leader(1, 1, 2))},
				{Nodes: nodes(leader(3, 3, 0))},
			},
			want: []want{{at: 2, inv: lc, detail: []string{"n3, leader of term 3", "lacks entry 2 (term 1)"}}},
		},
		{
			name: "stale compaction is ignored",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), stores(3, 1, 1, 2), compact(3, 1, 1, false, 1), compact(3, 1, 0, false, 1))},
				{Nodes: nodes(leader(1, 1, 3), leader(3, 2, 2))},
			},
			want: []want{{at: 1, inv: lc, detail: []string{"n3, leader of term 2", "lacks entry 3 (term 1)"}}},
		},
		{
			name: "leader of the commit term is not checked",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), stores(2, 1, 1, 3), stores(3, 1, 1, 2))},
				// n2 sees the commit in term 2: the entries were committed by term 2.
				{Nodes: nodes(follower(2, 2, 3))},
				{Nodes: nodes(leader(3, 2, 2))},
			},
		},
		{
			name: "leader of a lower term than the commit is not checked",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), stores(3, 1, 1, 2)), Nodes: nodes(follower(1, 5, 3))},
				{Nodes: nodes(leader(3, 4, 2))},
			},
		},
		{
			name: "the lowest commit term is kept",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), stores(2, 1, 1, 3), stores(3, 1, 1, 2))},
				{Nodes: nodes(follower(2, 3, 3))}, // committed by term 3
				{Nodes: nodes(leader(1, 1, 3))},   // committed by term 1
				{Nodes: nodes(leader(3, 2, 2))},
			},
			want: []want{{at: 3, inv: lc, detail: []string{"n3, leader of term 2", "lacks entry 3 (term 1)", "committed by term 1"}}},
		},
		{
			name: "commit and new leader in one view",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), stores(3, 1, 1, 2))},
				{Nodes: nodes(leader(1, 1, 3), leader(3, 2, 2))},
			},
			want: []want{{at: 1, inv: lc, detail: []string{"n3, leader of term 2", "lacks entry 3 (term 1)", "committed by term 1"}}},
		},
		{
			name: "a down node's commit index is ignored",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), stores(3, 1, 1, 2))},
				{Nodes: nodes(raftView(1, false, interpose.RaftState{Role: "down", Term: 1, CommitIndex: 3}))},
				{Nodes: nodes(leader(3, 2, 2))},
			},
		},
		{
			name: "committed with two terms",
			views: with(
				&interpose.View{LogOps: ops(store(3, 3, 2))},
				&interpose.View{Nodes: nodes(follower(3, 2, 3))},
			),
			want: []want{{at: 3, inv: lc, detail: []string{"entry 3 was committed with term 1 (seen at n1)", "with term 2 (seen at n3)"}}},
		},
		{
			name: "restart lowers the commit index, committing again is fine",
			views: with(
				&interpose.View{Nodes: nodes(follower(1, 2, 0))},
				&interpose.View{Nodes: nodes(follower(1, 2, 2))},
				&interpose.View{Nodes: nodes(follower(1, 2, 3))},
			),
		},
		{
			name: "restart then commit with another term",
			views: with(
				&interpose.View{Nodes: nodes(follower(1, 2, 1))},
				&interpose.View{LogOps: ops(truncate(1, 2, 3, false, 2), store(1, 2, 2))},
				&interpose.View{Nodes: nodes(follower(1, 2, 2))},
			),
			want: []want{{at: 4, inv: lc, detail: []string{"entry 2 was committed with term 1 (seen at n1)", "with term 2 (seen at n1)"}}},
		},
		{
			name: "commit of compacted entries is skipped",
			views: []*interpose.View{
				{LogOps: ops(stores(1, 1, 1, 3), compact(1, 1, 3, false, 1))},
				{Nodes: nodes(follower(1, 1, 3))},
				{Nodes: nodes(leader(3, 2, 0))},
			},
		},
		{
			name: "reported once",
			views: with(
				&interpose.View{Nodes: nodes(leader(3, 2, 2))},
				&interpose.View{LogOps: ops(store(3, 3, 1)), Nodes: nodes(leader(3, 2, 2))},
				&interpose.View{LogOps: ops(truncate(3, 3, 3, false, 3)), Nodes: nodes(leader(3, 2, 2))},
			),
			want: []want{{at: 2, inv: lc, detail: []string{"n3, leader of term 2"}}},
		},
	})
}

// snap is v with the node's snapshot at index.
func snap(v interpose.NodeView, index uint64) interpose.NodeView {
	s := *v.Facts.(*interpose.RaftState)
	s.SnapshotIndex = index
	v.Facts = &s
	return v
}

// TestLeaderCompletenessStaleBelowSnapshot is hashicorp/raft's installSnapshot
// (raft.go) compacting only up to min(snapshot, its own last log -
// TrailingLogs) (snapshot.go, compactLogsWithTrailing): a deposed leader's
// uncommitted entry stays in its log store below the snapshot it installed,
// and raft never applies it (casestudies/testdata/found/hraft-serial-stale-
// entries-below-snapshot.json, events 26 and 32).
func TestLeaderCompletenessStaleBelowSnapshot(t *testing.T) {
	lc := invariants.LeaderCompleteness
	// n1, leader of term 3, commits 1..3 with n2; n3, deposed leader of
	// term 2, appended a stale entry 3 of term 2.
	base := func() []*interpose.View {
		return []*interpose.View{{
			LogOps: ops(lstore(1, 1, 1), lstore(1, 2, 2), lstore(1, 3, 3), store(2, 1, 1), store(2, 2, 2), store(2, 3, 3),
				store(3, 1, 1), store(3, 2, 2), lstore(3, 3, 2)),
			Nodes: nodes(leader(1, 3, 3), follower(2, 3, 3), leader(3, 2, 0)),
		}}
	}
	// n3 installs n1's snapshot up to 7: compaction removes only entry 1.
	install := &interpose.View{LogOps: ops(compact(3, 1, 1, false, 4))}
	with := func(vs ...*interpose.View) []*interpose.View { return append(base(), vs...) }
	runCases(t, []tcase{
		{
			name: "commit through the snapshot skips the stale entry",
			views: with(install,
				&interpose.View{Nodes: nodes(leader(1, 4, 7), follower(2, 3, 3), snap(follower(3, 4, 7), 7))}),
		},
		{
			name: "a leader whose snapshot covers the stale entry holds the committed one",
			views: with(install,
				&interpose.View{Nodes: nodes(snap(follower(3, 4, 7), 7))},
				&interpose.View{Nodes: nodes(follower(1, 5, 7), snap(leader(3, 5, 7), 7))}),
		},
		{
			name: "without the snapshot index the stale entry is read as committed",
			views: with(install,
				&interpose.View{Nodes: nodes(leader(1, 4, 7), follower(2, 3, 3), follower(3, 4, 7))}),
			want: []want{{at: 2, inv: lc, detail: []string{"entry 3 was committed with term 3 (seen at n1)", "with term 2 (seen at n3)"}}},
		},
		{
			name: "a stale entry above the snapshot is still checked",
			views: with(install,
				&interpose.View{Nodes: nodes(snap(follower(3, 4, 3), 2))}),
			want: []want{{at: 2, inv: lc, detail: []string{"entry 3 was committed with term 3 (seen at n1)", "with term 2 (seen at n3)"}}},
		},
		{
			name: "a stale entry shipped to another node and committed there is caught",
			views: with(install,
				// n3, leader later, sends its stale entry 3 to a fresh n4.
				&interpose.View{LogOps: ops(store(4, 1, 1), store(4, 2, 2), store(4, 3, 2)),
					Nodes: nodes(snap(leader(3, 5, 8), 7), follower(4, 5, 3))}),
			want: []want{{at: 2, inv: lc, detail: []string{"entry 3 was committed with term 3 (seen at n1)", "with term 2 (seen at n4)"}}},
		},
	})
}

// TestLeaderCompletenessLateCommit: an entry committed in term 1 is learned
// (n1's commit index moves) only after n3 became leader of term 2 without it.
// Under a correct Raft n3 could not have won term 2, so the checker should
// report it; it checks each leader once, when it first sees it.
func TestLeaderCompletenessLateCommit(t *testing.T) {
	check(t, []*interpose.View{
		{
			LogOps: ops(lstore(1, 1, 1), lstore(1, 2, 1), stores(2, 1, 1, 2)),
			Nodes:  nodes(leader(1, 1, 0), follower(2, 1, 0), follower(3, 1, 0)),
		},
		// n3 wins term 2 (wrongly) while n1 still leads term 1; nothing is committed yet.
		{Nodes: nodes(leader(1, 1, 0), follower(2, 1, 0), leader(3, 2, 0))},
		// n2's late ack lets n1 commit 1..2 in term 1.
		{Nodes: nodes(leader(1, 1, 2), follower(2, 1, 0), leader(3, 2, 0))},
	}, []want{{at: 2, inv: invariants.LeaderCompleteness, detail: []string{"n3, leader of term 2", "lacks entry 1 (term 1)"}}})
}

func TestFaults(t *testing.T) {
	panicFP := "NoPanic: panic at fsm.Apply: index out of range [#] with length #"
	runCases(t, []tcase{
		{
			name: "passed through",
			views: []*interpose.View{
				{Faults: []interpose.Violation{{Invariant: invariants.NoPanic, Fingerprint: panicFP, Detail: "n2: index out of range [7] with length 3"}}},
			},
			want: []want{{at: 0, inv: invariants.NoPanic, fp: panicFP, detail: []string{"n2: index out of range [7] with length 3"}}},
		},
		{
			name: "user invariant passed through, in order, with the faults",
			views: []*interpose.View{
				{Faults: []interpose.Violation{
					{Invariant: "KVConsistent", Fingerprint: "KVConsistent: stale read", Detail: "n1 read x=1 after x=2"},
					{Invariant: invariants.NoPanic, Fingerprint: panicFP, Detail: "n3"},
				}},
			},
			want: []want{
				{at: 0, inv: "KVConsistent", fp: "KVConsistent: stale read", detail: []string{"n1 read x=1 after x=2"}},
				{at: 0, inv: invariants.NoPanic, fp: panicFP, detail: []string{"n3"}},
			},
		},
		{
			name: "ranked first",
			views: []*interpose.View{
				{
					Nodes:  nodes(leader(1, 2, 0), leader(2, 2, 0)),
					Faults: []interpose.Violation{{Invariant: "KVConsistent", Fingerprint: "KVConsistent", Detail: "d"}},
				},
			},
			want: []want{
				{at: 0, inv: "KVConsistent", detail: []string{"d"}},
				{at: 0, inv: invariants.ElectionSafety},
			},
		},
		{
			name: "each fingerprint once, a new fingerprint again",
			views: []*interpose.View{
				{Faults: []interpose.Violation{{Invariant: invariants.NoPanic, Fingerprint: panicFP, Detail: "n1"}}},
				{Faults: []interpose.Violation{
					{Invariant: invariants.NoPanic, Fingerprint: panicFP, Detail: "n2"},
					{Invariant: invariants.NoPanic, Fingerprint: "NoPanic: panic at LogStore.StoreLogs: disk full", Detail: "n3"},
					{Invariant: invariants.NoPanic, Fingerprint: "NoPanic: panic at LogStore.StoreLogs: disk full", Detail: "n1"},
				}},
			},
			want: []want{
				{at: 0, inv: invariants.NoPanic, fp: panicFP, detail: []string{"n1"}},
				{at: 1, inv: invariants.NoPanic, fp: "NoPanic: panic at LogStore.StoreLogs: disk full", detail: []string{"n3"}},
			},
		},
	})
}

// TestOrder breaks every property at one view, in an input order that differs
// from Names, and checks the violations come out in the order of Names, each
// once per checker.
func TestOrder(t *testing.T) {
	panicFP := "NoPanic: panic at fsm.Apply"
	views := []*interpose.View{
		{
			LogOps: ops(lstore(1, 1, 1), store(2, 1, 1)),
			Nodes:  nodes(leader(1, 1, 1), follower(2, 1, 0)),
		},
		{
			Faults: []interpose.Violation{{Invariant: invariants.NoPanic, Fingerprint: panicFP, Detail: "n2 panicked"}},
			LogOps: ops(
				storeH(3, 1, 1, 99),        // LogMatching
				truncate(1, 5, 5, true, 1), // LeaderAppendOnly
				storeH(3, 1, 1, 98),        // LogMatching again
				truncate(1, 6, 6, true, 1), // LeaderAppendOnly again
			),
			Applied: []interpose.Applied{applied(1, 1, 1, hash(1, 1)), applied(2, 1, 1, 5)}, // StateMachineSafety
			Claims:  claims(interpose.Claim{Node: 1, Term: 2}),                              // ElectionSafety with n4
			Nodes:   nodes(follower(1, 2, 1), follower(2, 2, 1), leader(4, 2, 0)),           // LeaderCompleteness
		},
		// Everything breaks again: nothing new but the new panic.
		{
			Faults:  []interpose.Violation{{Invariant: invariants.NoPanic, Fingerprint: panicFP + " (2)", Detail: "n3 panicked"}},
			LogOps:  ops(storeH(2, 1, 1, 97), truncate(4, 1, 1, true, 3)),
			Applied: []interpose.Applied{applied(3, 1, 1, 6)},
			Claims:  claims(interpose.Claim{Node: 2, Term: 3}),
			Nodes:   nodes(leader(4, 3, 0), follower(1, 3, 1)),
		},
		{},
	}
	check(t, views, []want{
		{at: 1, inv: invariants.NoPanic, fp: panicFP, detail: []string{"n2 panicked"}},
		{at: 1, inv: invariants.ElectionSafety, detail: []string{"n1 and n4", "term 2"}},
		{at: 1, inv: invariants.LeaderAppendOnly, detail: []string{"n1", "5..5"}},
		{at: 1, inv: invariants.LogMatching, detail: []string{"n1 and n3", "index 1, term 1"}},
		{at: 1, inv: invariants.StateMachineSafety, detail: []string{"n1 applied entry 1", "n2 applied a different entry 1"}},
		{at: 1, inv: invariants.LeaderCompleteness, detail: []string{"n4, leader of term 2", "lacks entry 1 (term 1)"}},
		{at: 2, inv: invariants.NoPanic, fp: panicFP + " (2)", detail: []string{"n3 panicked"}},
	})

	// The properties Raft checks are all in Names, NoPanic first.
	for _, n := range []string{invariants.ElectionSafety, invariants.LeaderAppendOnly, invariants.LogMatching,
		invariants.StateMachineSafety, invariants.LeaderCompleteness} {
		if !slices.Contains(invariants.Names, n) {
			t.Errorf("Names lacks %s", n)
		}
	}
	if invariants.Names[0] != invariants.NoPanic {
		t.Errorf("Names[0] = %s, want %s", invariants.Names[0], invariants.NoPanic)
	}
}

// TestCheckersAreIndependent: a fingerprint reported by one checker is
// reported again by another.
func TestCheckersAreIndependent(t *testing.T) {
	v := &interpose.View{Nodes: nodes(leader(1, 2, 0), leader(2, 2, 0))}
	for i := range 2 {
		got := invariants.NewRaft().Check(v)
		if len(got) != 1 || got[0].Invariant != invariants.ElectionSafety {
			t.Fatalf("checker %d: got\n%s", i, format(got))
		}
	}
}

// TestResultNotAliased: the slice a Check returns stays valid after later
// checks.
func TestResultNotAliased(t *testing.T) {
	r := invariants.NewRaft()
	first := r.Check(&interpose.View{Nodes: nodes(leader(1, 2, 0), leader(2, 2, 0))})
	keep := slices.Clone(first)
	r.Check(&interpose.View{Faults: []interpose.Violation{{Invariant: invariants.NoPanic, Fingerprint: "p", Detail: "x"}}})
	r.Check(&interpose.View{Applied: []interpose.Applied{applied(1, 1, 1, 1), applied(2, 1, 1, 2)}})
	if !slices.Equal(first, keep) {
		t.Fatalf("first result changed:\n%s\nwant\n%s", format(first), format(keep))
	}
}

func TestEmptyView(t *testing.T) {
	cases := []struct {
		name string
		v    *interpose.View
	}{
		{"zero", &interpose.View{}},
		{"empty slices", &interpose.View{
			Nodes: []interpose.NodeView{}, Claims: []interpose.Claim{}, LogOps: []interpose.LogOp{},
			Applied: []interpose.Applied{}, Faults: []interpose.Violation{}, Completions: []interpose.Completion{},
		}},
		{"healthy cluster", &interpose.View{
			Nodes:       nodes(leader(1, 1, 0), follower(2, 1, 0), follower(3, 1, 0)),
			Claims:      claims(interpose.Claim{Node: 1, Term: 1}),
			LogOps:      ops(lstore(1, 1, 1), store(2, 1, 1)),
			Applied:     []interpose.Applied{applied(1, 1, 1, hash(1, 1))},
			Completions: []interpose.Completion{{Index: 0, Result: "ok"}},
		}},
		{"not started", &interpose.View{Nodes: nodes(interpose.NodeView{Node: 1})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := invariants.NewRaft().Check(tc.v); len(got) != 0 {
				t.Fatalf("got\n%s", format(got))
			}
		})
	}
}

// TestNodesWithoutRaftFacts: the Raft invariants read node states through
// interpose.RaftOf; a node whose adapter publishes other facts, or none, is
// not a Raft node to them, and is skipped, whatever its facts say.
func TestNodesWithoutRaftFacts(t *testing.T) {
	plain := interpose.NodeView{Node: 2, Started: true, Up: true,
		Facts: interpose.FactList{{Name: "role", Value: "leader"}, {Name: "term", Value: "2"}}}
	cases := []struct {
		name  string
		views []*interpose.View
		want  []want
	}{
		{"a plain list that looks like Raft", []*interpose.View{{Nodes: nodes(leader(1, 2, 0), plain)}}, nil},
		{"no facts at all", []*interpose.View{{Nodes: nodes(interpose.NodeView{Node: 1, Started: true, Up: true}, leader(2, 2, 0))}}, nil},
		{"beside Raft nodes that do break a property", []*interpose.View{{Nodes: nodes(leader(1, 2, 0), plain, leader(3, 2, 0))}},
			[]want{{at: 0, inv: invariants.ElectionSafety, detail: []string{"n1 and n3"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.views, tc.want) })
	}
}

func TestLeaderIsVoter(t *testing.T) {
	liv := invariants.LeaderIsVoter
	lead := func(n int, last, commit uint64, c *interpose.RaftConfig) interpose.NodeView {
		return raftView(n, true, interpose.RaftState{Role: interpose.RoleLeader, Term: 2, LastIndex: last,
			CommitIndex: commit, Config: c})
	}
	all := &interpose.RaftConfig{Voters: []int{1, 2, 3}}
	without1 := &interpose.RaftConfig{Voters: []int{2, 3}}
	demoted1 := &interpose.RaftConfig{Voters: []int{2, 3}, Nonvoters: []int{1}}
	runCases(t, []tcase{
		{
			name:  "a voter leads",
			views: []*interpose.View{{Nodes: nodes(lead(1, 5, 5, all))}},
		},
		{
			// It removed itself: it leads until the change commits (the
			// Raft thesis, 4.2.2).
			name:  "removed itself, not committed yet",
			views: []*interpose.View{{Nodes: nodes(lead(1, 6, 5, without1))}},
		},
		{
			name:  "removed itself, committed, still leads",
			views: []*interpose.View{{Nodes: nodes(lead(1, 6, 5, without1))}, {Nodes: nodes(lead(1, 6, 6, without1))}},
			want:  []want{{at: 1, inv: liv, detail: []string{"n1 leads term 2 with the committed configuration voters n2,n3", "not in it"}}},
		},
		{
			name:  "a committed non-voter leads",
			views: []*interpose.View{{Nodes: nodes(lead(1, 4, 4, demoted1))}},
			want:  []want{{at: 0, inv: liv, detail: []string{"a non-voter"}}},
		},
		{
			name:  "no configuration published",
			views: []*interpose.View{{Nodes: nodes(lead(1, 4, 4, nil))}},
		},
		{
			name: "removed itself and stepped down",
			views: []*interpose.View{{Nodes: nodes(lead(1, 6, 5, without1))},
				{Nodes: nodes(raftView(1, true, interpose.RaftState{Role: interpose.RoleFollower, Term: 2, LastIndex: 6,
					CommitIndex: 6, Config: without1}))}},
		},
	})
}

// TestLossesNamedAsCause: what a store lost at a crash (View.Losses) is
// named in the Raft violations that follow, not in a panic's.
func TestLossesNamedAsCause(t *testing.T) {
	loss := "n2's stable store lost its current term (3, now 0) at its crash (event 40)"
	runCases(t, []tcase{{
		name: "two leaders of one term after a lost term",
		views: []*interpose.View{
			{Losses: []string{loss}},
			{Nodes: nodes(leader(1, 3, 0), leader(2, 3, 0))},
		},
		want: []want{{at: 1, inv: invariants.ElectionSafety, detail: []string{"both leaders of term 3", "; before it, a store lost what it had acknowledged: " + loss}}},
	}, {
		name: "a panic is its own cause",
		views: []*interpose.View{
			{Losses: []string{loss}},
			{Faults: []interpose.Violation{{Invariant: invariants.NoPanic, Fingerprint: "NoPanic: x", Detail: "boom"}}},
		},
		want: []want{{at: 1, inv: invariants.NoPanic, fp: "NoPanic: x", detail: []string{"boom"}}},
	}})
}
