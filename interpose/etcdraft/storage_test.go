package etcdraft_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/faultline-dev/faultline/faultlinetest"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose/etcdraft"
)

// cachedHardState is a user's storage with a bug of the kind faultline is
// for: its hard state is written back to disk only with the next entries
// it appends (a write-back cache that syncs with the log), so a crash in
// between loses the term and the vote the node had promised.
type cachedHardState struct {
	*raft.MemoryStorage
	cached *pb.HardState // not yet durable
	crash  bool          // whether it is a Crasher (false: it never loses it)
}

func (s *cachedHardState) SetHardState(hs *pb.HardState) error {
	s.cached = proto.Clone(hs).(*pb.HardState)
	return nil
}

func (s *cachedHardState) Append(ents []*pb.Entry) error {
	if err := s.MemoryStorage.Append(ents); err != nil {
		return err
	}
	return s.flush()
}

func (s *cachedHardState) flush() error {
	if s.cached == nil {
		return nil
	}
	err := s.MemoryStorage.SetHardState(s.cached)
	s.cached = nil
	return err
}

func (s *cachedHardState) InitialState() (*pb.HardState, *pb.ConfState, error) {
	hs, cs, err := s.MemoryStorage.InitialState()
	if s.cached != nil {
		hs = s.cached
	}
	return hs, cs, err
}

// crashing is cachedHardState as a Crasher: a crash loses the cache.
type crashing struct{ *cachedHardState }

func (s crashing) Crash() { s.cached = nil }

// durable is a MemoryStorage that is told of crashes and loses nothing.
type durable struct{ *raft.MemoryStorage }

func (durable) Crash() {}

// TestOwnStorage: a user's storage through Options.NewStorage. The one
// that loses its cached hard state at a crash (a Crasher) is found, its
// loss reported, and the schedule replays 20/20; the same storage never
// told of crashes (it keeps its cache) breaks nothing in as many runs:
// the violation is the loss's.
func TestOwnStorage(t *testing.T) {
	for _, lossy := range []bool{true, false} {
		tg := etcdraft.NewTarget("etcdraft-own-storage", "", etcdraft.Options{NewStorage: func(int) etcdraft.Storage {
			s := &cachedHardState{MemoryStorage: raft.NewMemoryStorage()}
			if lossy {
				return crashing{s}
			}
			return s
		}})
		opts := fuzz.Options{Seed: 1, Runs: 1000, Events: 300, NoLiveness: true}
		if !lossy {
			clean(t, "kept cache", tg, opts)
			continue
		}
		opts.KeepGoing = true
		res, err := fuzz.Run(t, tg, opts)
		if err != nil {
			t.Fatal(err)
		}
		// Losing the cache loses a commit index too, older than the
		// snapshot the node had taken since: raft refuses to restart
		// from it (NoPanic "state.commit N is out of range", or "applied(N)
		// is out of range" past the commit it lost), where a store that
		// lost the term only would not be noticed at once.
		var v *fuzz.Found
		for i, f := range res.Violations {
			t.Logf("lost cache: run %d: %s", f.Run, f.Fingerprint)
			if f.Invariant != "NoPanic" && v == nil {
				v = &res.Violations[i]
			} else if f.Invariant == "NoPanic" && !strings.Contains(f.Fingerprint, "out of range") {
				t.Errorf("lost cache: %s: %s", f.Fingerprint, f.Detail)
			}
		}
		if v == nil {
			t.Fatalf("lost cache: no Raft invariant broken in 1,000 runs")
		}
		rep, err := fuzz.Replay(t, tg, v.Sched, fuzz.ReplayOptions{Repeat: 20})
		if err != nil || rep.Reproduced != 20 {
			t.Errorf("lost cache: replayed %d/20 (%v)", rep.Reproduced, err)
		}
		if !strings.Contains(v.Detail, "storage lost its term") {
			t.Errorf("lost cache: the loss is not named: %s", v.Detail)
		}
		if got := v.Sched.Target.Config["storage"]; got != "synchronous, the target's own" {
			t.Errorf("schedule's storage %q", got)
		}
	}
}

// failing is a storage whose writes fail, or panic, from its nth on.
type failing struct {
	*raft.MemoryStorage
	n     *int
	panic bool
}

func (s failing) Append(ents []*pb.Entry) error {
	if *s.n--; *s.n > 0 {
		return s.MemoryStorage.Append(ents)
	}
	if s.panic {
		panic("disk gone")
	}
	return errors.New("disk full")
}

// TestStorageFails: a storage write that fails is a violation (Storage),
// one that panics is NoPanic, naming the storage; neither is the run's
// error or the process's crash.
func TestStorageFails(t *testing.T) {
	for _, c := range []struct {
		panic bool
		want  string
	}{{false, "Storage: Append failed"}, {true, "NoPanic: storage Append: disk gone"}} {
		tg := etcdraft.NewTarget("etcdraft-failing", "", etcdraft.Options{NewStorage: func(int) etcdraft.Storage {
			n := 10
			return failing{MemoryStorage: raft.NewMemoryStorage(), n: &n, panic: c.panic}
		}})
		res, err := fuzz.Run(t, tg, fuzz.Options{Seed: 1, Runs: 5, Events: 300, NoLiveness: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Violations) == 0 || res.Violations[0].Fingerprint != c.want {
			t.Errorf("panic %v: %+v, want %s", c.panic, res.Violations, c.want)
		}
	}
}

// TestOwnStorageNotWithLoseUnsynced: LoseUnsynced is a bug of the
// built-in storage; with a storage of the user's, Open says so.
func TestOwnStorageNotWithLoseUnsynced(t *testing.T) {
	tg := etcdraft.NewTarget("x", "", etcdraft.Options{LoseUnsynced: true, NewStorage: func(int) etcdraft.Storage { return raft.NewMemoryStorage() }})
	if _, err := fuzz.Run(t, tg, fuzz.Options{Seed: 1, Runs: 1, Events: 10}); err == nil || !strings.Contains(err.Error(), "LoseUnsynced") {
		t.Errorf("err = %v", err)
	}
}

// TestCrasherThatLosesNothing: a Crasher whose crashes lose nothing breaks
// nothing, and nothing is reported lost, in 1,000 runs of every fault kind.
func TestCrasherThatLosesNothing(t *testing.T) {
	tg := etcdraft.NewTarget("etcdraft-durable", "", etcdraft.Options{PreVote: true, CheckQuorum: true,
		NewStorage: func(int) etcdraft.Storage { return durable{raft.NewMemoryStorage()} }})
	res := clean(t, "durable", tg, fuzz.Options{Seed: 1, Runs: 1000, Events: 300})
	if res.Faults["crash"] == 0 {
		t.Errorf("no crash in 1,000 runs: %v", res.Faults)
	}
}

// TestServiceOnEtcdRaft: a service of one's own on etcd raft (the ledger
// state machine over a storage of one's own that keeps what it is given)
// fuzzed from a Go test as its authors would, with faultlinetest.Fuzz:
// worker processes, a corpus directory, nothing found.
func TestServiceOnEtcdRaft(t *testing.T) {
	tg := etcdraft.NewTarget("ledger-on-etcd", "", etcdraft.Options{
		NewStateMachine: func(int) etcdraft.StateMachine { return &ledger{} },
		NewStorage:      func(int) etcdraft.Storage { return &cachedHardState{MemoryStorage: raft.NewMemoryStorage()} },
	})
	faultlinetest.Fuzz(t, tg, faultlinetest.Options{Time: 3 * time.Second, Dir: t.TempDir(),
		Fuzz: fuzz.Options{Clients: []string{"a>b", "b>a", "a>c", "c>b"}, NoLiveness: true}})
}
