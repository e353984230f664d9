package hraft_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/faultline-dev/faultline/report"
)

// bankTarget is the README's bank with its model, reads served as opts
// says.
func bankTarget(name string, opts hraft.Options) interpose.Target {
	opts.NewFSM = func(int) raft.FSM { return newBank() }
	opts.Model = bankModel
	opts.LocalRead = func(fsm raft.FSM, op string) string {
		return strconv.Itoa(fsm.(*bank).balance(strings.TrimPrefix(op, "?")))
	}
	return hraft.NewTarget(name, "", opts)
}

// TestModelFindsStaleBalances: the bank's balances read from any node's
// own state machine with no check (StaleReads) break its model within a
// few runs, and the violation names the witness in the service's own
// commands; read through the log, 100 runs break nothing.
func TestModelFindsStaleBalances(t *testing.T) {
	clients := []string{"a,b,10", "b,c,5", "c,a,7", "?a", "?b"}
	res, err := fuzz.Run(t, bankTarget("bank-stale", hraft.Options{StaleReads: true}), fuzz.Options{
		Seed: 1, Runs: 50, Events: 300, Clients: clients, NoLiveness: true, Want: invariants.Linearizability, Out: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 || res.Violations[0].Invariant != invariants.Linearizability {
		t.Fatalf("50 runs of stale balances: %+v, want Linearizability", res.Violations)
	}
	v := res.Violations[0]
	if !strings.Contains(v.Detail, "gives the answers seen, by the model") || !strings.Contains(v.Detail, `"?`) {
		t.Errorf("detail %q: want the model's witness, in the bank's commands", v.Detail)
	}
	if res.Checks[invariants.Linearizability] == 0 {
		t.Errorf("checks %v: Linearizability never had a read to order", res.Checks)
	}
	t.Logf("run %d: %s", v.Run, v.Detail)
	s, err := interpose.ReadFile(v.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.History) == 0 || s.History[0].Op == "" {
		t.Errorf("the schedule keeps %d operations of the history, want the bank's commands", len(s.History))
	}
	// Its report draws the history against the model, beside it.
	md, err := report.WriteMarkdown(v.Schedule, report.Env{Model: bankModel})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(md)
	html, err := os.ReadFile(strings.TrimSuffix(v.Schedule, ".json") + ".history.html")
	if err != nil || !strings.Contains(string(html), "<html") || !strings.Contains(string(text), ".history.html") {
		t.Errorf("no drawing of the history beside the report (%v)", err)
	}

	res, err = fuzz.Run(t, bankTarget("bank-log", hraft.Options{}), fuzz.Options{
		Seed: 1, Runs: 100, Events: 300, Clients: clients, NoLiveness: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		if v.Invariant == invariants.Linearizability {
			t.Errorf("reads through the log: %s in run %d: %s", v.Invariant, v.Run, v.Detail)
		}
	}
}

// TestClientsMadeByTheTarget: a target that makes its own commands
// (Options.Clients) gets them in its walks, from the walk's seeded source:
// transfers of any amount and reads, the same for the same seed.
func TestClientsMadeByTheTarget(t *testing.T) {
	opts := hraft.Options{Clients: func(r *rand.Rand) string {
		if r.IntN(3) == 0 {
			return "?" + string(rune('a'+r.IntN(3)))
		}
		return fmt.Sprintf("a,b,%d", 1+r.IntN(50))
	}}
	target := bankTarget("bank-made", opts)
	walk := func() []string {
		s, err := fuzz.Walk(t, target, fuzz.Options{Seed: 3, Events: 300, NoLiveness: true}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var data []string
		for _, e := range s.Events {
			if e.Kind == interpose.Client {
				data = append(data, e.Data)
			}
		}
		return data
	}
	first := walk()
	reads, transfers := 0, 0
	for _, d := range first {
		switch {
		case strings.HasPrefix(d, "?"):
			reads++
		case strings.HasPrefix(d, "a,b,"):
			transfers++
		default:
			t.Fatalf("client %q: not one the target made", d)
		}
	}
	if reads == 0 || transfers == 0 {
		t.Fatalf("%d reads, %d transfers: want both", reads, transfers)
	}
	if again := walk(); !slices.Equal(first, again) {
		t.Errorf("the same seed made other commands:\n%v\n%v", first, again)
	}
}
