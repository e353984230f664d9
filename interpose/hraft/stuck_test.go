package hraft_test

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// blockingFSM is a key-value FSM whose Apply blocks for good at its fourth
// command, in one of three ways.
type blockingFSM struct {
	*hraft.KV
	how string
	mu  sync.Mutex
}

// nobody is a channel made outside every node's bubble, that nobody sends on.
var nobody = make(chan struct{})

func (f *blockingFSM) Apply(l *raft.Log) any {
	res := f.KV.Apply(l)
	if f.KV.Applied == 4 {
		switch f.how {
		case "own channel": // durably blocked: the fake clock sees it
			<-make(chan struct{})
		case "mutex": // not durably blocked: only the watchdog sees it
			f.mu.Lock()
			f.mu.Lock()
		case "outside channel":
			<-nobody
		}
	}
	return res
}

func (f *blockingFSM) Snapshot() (raft.FSMSnapshot, error) { return f.KV.Snapshot() }
func (f *blockingFSM) Restore(r io.ReadCloser) error       { return f.KV.Restore(r) }

// TestStuckIsAViolation: a state machine blocked for good is a
// Liveness:Stuck violation naming its Apply, found, confirmed by replays and
// replayed again, instead of a run that hangs (the fake clock sees the
// block: at once) or a harness error; a block the fake clock cannot see is
// caught by the watchdog.
func TestStuckIsAViolation(t *testing.T) {
	for _, how := range []string{"own channel", "mutex", "outside channel"} {
		t.Run(how, func(t *testing.T) {
			target := hraft.NewTarget("blocking", "", hraft.Options{
				Watchdog: 300 * time.Millisecond,
				NewFSM:   func(int) raft.FSM { return &blockingFSM{KV: hraft.NewKV(), how: how} },
			})
			res, err := fuzz.Run(t, target, fuzz.Options{Seed: 1, Runs: 20, Confirm: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Violations) == 0 {
				t.Fatal("no violation in 20 runs")
			}
			v := res.Violations[0]
			if v.Invariant != interpose.Stuck || v.Fingerprint != interpose.Stuck+": hraft_test.(*blockingFSM).Apply" {
				t.Fatalf("found %s (%s): %s", v.Invariant, v.Fingerprint, v.Detail)
			}
			if !strings.Contains(v.Detail, "stuck: ") || !strings.Contains(v.Detail, "blockingFSM).Apply [") {
				t.Errorf("detail %q names neither the node nor where it is blocked", v.Detail)
			}
			if how == "mutex" && !strings.Contains(v.Detail, "watchdog") {
				t.Errorf("a block on a mutex was not the watchdog's: %s", v.Detail)
			}
			rep, err := fuzz.Replay(t, target, v.Sched, fuzz.ReplayOptions{Repeat: 2})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reproduced != 2 {
				t.Errorf("replayed %d/2: %v", rep.Reproduced, rep.Seen)
			}
		})
	}
}
