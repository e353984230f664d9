package faultlinetest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// bank is the README's example service (interpose/hraft's
// example_service_test.go): accounts whose total never changes, a command
// "from,to,amount" moving money. It is correct: what faultline finds on it
// is raft's.
type bank struct {
	mu       sync.Mutex
	accounts map[string]int
}

func newBank() *bank { return &bank{accounts: map[string]int{"a": 100, "b": 100, "c": 100}} }

func (b *bank) Apply(l *raft.Log) any {
	parts := strings.Split(string(l.Data), ",")
	if len(parts) != 3 {
		return fmt.Errorf("bad command %q", l.Data)
	}
	amount, err := strconv.Atoi(parts[2])
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts[parts[0]] -= amount
	b.accounts[parts[1]] += amount
	return nil
}

func (b *bank) Snapshot() (raft.FSMSnapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, err := json.Marshal(b.accounts)
	return bankSnapshot(data), err
}

func (b *bank) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	accounts := map[string]int{}
	if err := json.NewDecoder(rc).Decode(&accounts); err != nil {
		return err
	}
	b.mu.Lock()
	b.accounts = accounts
	b.mu.Unlock()
	return nil
}

func (b *bank) total() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	sum := 0
	for _, v := range b.accounts {
		sum += v
	}
	return sum
}

type bankSnapshot []byte

func (s bankSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (bankSnapshot) Release() {}

// bankTarget is the target of the README's TestFuzzBankGoTest.
func bankTarget() interpose.Target {
	return hraft.NewTarget("bank", "", hraft.Options{
		NewFSM: func(node int) raft.FSM { return newBank() },
		Config: func(node int, c *raft.Config) { c.SnapshotThreshold = 16 },
		Invariants: []hraft.Invariant{{Name: "MoneyIsConserved", Check: func(fsms []raft.FSM) error {
			for i, f := range fsms {
				if b, ok := f.(*bank); ok && b.total() != 300 {
					return fmt.Errorf("n%d holds %d in total", i+1, b.total())
				}
			}
			return nil
		}}},
	})
}

// TestPassOverUpstream fuzzes the README's bank, which seed 1's run 350
// breaks through hashicorp/raft#695 (LogMatching). The runs start at 340
// (Fuzz.FirstRun), so that run 350 comes within a tenth of a second even
// under -short: from run 0 it comes about 2.6 s in. Without
// PassOverUpstream the test fails there, the message naming the issue; with
// it, the hit is logged and fuzzing goes on for the whole Time, and passes.
// A schedule of #695 left in the corpus fails the next test without the
// option, and is logged with it.
func TestPassOverUpstream(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "corpus")
	bound := 3 * time.Second
	opts := Options{Time: bound, Dir: dir, MinimizeBudget: -1, Fuzz: fuzz.Options{
		Events: 300, Clients: []string{"a,b,10", "b,c,5", "c,a,7"}, FirstRun: 340}}
	if testing.Short() {
		bound /= 5
	}
	const label = "known upstream: hashicorp/raft#695 (https://github.com/hashicorp/raft/issues/695)"

	opts.PassOverUpstream = true
	r := &recorder{name: "TestFuzzBank"}
	o := run(t, r, bankTarget(), opts)
	t.Logf("with PassOverUpstream: %d runs (from 340) in %v; logs %q", o.runs, o.elapsed.Round(time.Millisecond), r.logs)
	if o.failed || len(r.errors) != 0 || o.passed == 0 || o.runs <= 11 || o.elapsed < bound {
		t.Fatalf("with PassOverUpstream: %+v\nerrors: %q", o, r.errors)
	}
	hits := fmt.Sprintf("%d hits", o.passed) // run 479 too, when reached
	if o.passed == 1 {
		hits = "1 hit"
	}
	if want := "faultline: passed over " + hits + " of " + label + " (LogMatching, first in run 350)"; len(r.logs) != 2 || !strings.HasPrefix(r.logs[0], want) {
		t.Errorf("logs %q, want first %q", r.logs, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the corpus directory was made (%v)", err)
	}

	opts.PassOverUpstream = false
	r = &recorder{name: "TestFuzzBank"}
	o = run(t, r, bankTarget(), opts)
	if !o.failed || len(r.errors) != 1 || len(o.saved) != 1 || o.runs != 11 {
		t.Fatalf("without PassOverUpstream: %+v\nerrors: %q", o, r.errors)
	}
	t.Log(r.errors[0])
	for _, want := range []string{"faultline: LogMatching: ", "\n  " + label + ": a bug of hashicorp/raft itself", "as found in run 350"} {
		if !strings.Contains(r.errors[0], want) {
			t.Errorf("the failure does not say %q:\n%s", want, r.errors[0])
		}
	}
	md, err := os.ReadFile(strings.TrimSuffix(o.saved[0], ".json") + ".md")
	if err != nil || !strings.Contains(string(md), "Known upstream: [hashicorp/raft#695](https://github.com/hashicorp/raft/issues/695) — ") {
		t.Errorf("the report does not name #695 (%v):\n%.400s", err, md)
	}

	// The corpus now holds the schedule of #695.
	r = &recorder{name: "TestFuzzBank"}
	o = run(t, r, bankTarget(), opts)
	if !o.failed || o.runs != 0 || len(r.errors) != 1 || !strings.Contains(r.errors[0], " still shows LogMatching") ||
		!strings.Contains(r.errors[0], "\n  "+label+": ") {
		t.Fatalf("corpus, without PassOverUpstream: %+v\nerrors: %q", o, r.errors)
	}
	opts.PassOverUpstream, opts.Time = true, time.Second/10
	r = &recorder{name: "TestFuzzBank"}
	o = run(t, r, bankTarget(), opts)
	if o.failed || o.runs == 0 || o.passed == 0 || len(r.errors) != 0 || !strings.Contains(r.logs[0], " still shows LogMatching") ||
		!strings.Contains(r.logs[0], label+": passed over") {
		t.Fatalf("corpus, with PassOverUpstream: %+v\nerrors: %q\nlogs: %q", o, r.errors, r.logs)
	}
}

// TestFuzzKnown: fingerprints of Fuzz.Known are logged, not minimized (they
// have no schedule) and do not fail or stop the test.
func TestFuzzKnown(t *testing.T) {
	target, fo := workload(t, "raft-46")
	fo.Known = func(string) bool { return true }
	r := &recorder{name: "TestFuzzRaft"}
	o := run(t, r, target, Options{Time: time.Second, Fuzz: fo, Dir: t.TempDir()})
	if o.failed || len(r.errors) != 0 || len(o.saved) != 0 {
		t.Fatalf("%+v\nerrors: %q", o, r.errors)
	}
	known := 0
	for _, l := range r.logs {
		if strings.Contains(l, "known to Fuzz.Known: not minimized or saved") {
			known++
		}
	}
	if known == 0 || !strings.Contains(r.logs[len(r.logs)-1], "no violation") {
		t.Errorf("logs: %q", r.logs)
	}
}
