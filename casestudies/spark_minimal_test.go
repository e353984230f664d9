package casestudies

import (
	"testing"

	"github.com/faultline-dev/faultline/casestudies/spark"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// The hand-made minimal reproductions of DEMi's Spark bugs: the "manual"
// column of the case-study table, written from each bug's mechanism as a
// person reading `faultline show` would; `go test ./casestudies -run
// SparkMinimal -update` rewrites testdata/<case>.min.json. n1 is the
// master, n2 and n3 workers, n4 the client.

// sparkCheck ends a Spark script: the violation, the committed file, 20
// replays that reproduce it, and no violation from the correct Spark on the
// same schedule.
func (s *script) sparkCheck(name, want string) {
	s.t.Helper()
	sched := s.check(name+".min.json", want)
	replayAll(s.t, name, sched, 20)
	correct, _ := Lookup("spark")
	other := *sched
	other.Target.Name = "spark"
	rep, err := fuzz.Replay(s.t, correct.Target, &other, fuzz.ReplayOptions{Repeat: 1})
	if err != nil {
		s.t.Fatal(err)
	}
	if rep.Seen[""] != 1 {
		s.t.Errorf("the correct Spark replaying it ends with %v; want no violation", rep.Seen)
	}
	if m, err := Minimal(name); err != nil || len(m.Events) != len(sched.Events) {
		s.t.Errorf("embedded minimal schedule: %v", err)
	}
}

func (s *script) crashRecover(n int) {
	s.do(interpose.Event{Kind: interpose.Crash, Node: n})
	s.do(interpose.Event{Kind: interpose.Recover, Node: n})
}

// spark-2294: the client submits a task set (t1 prefers n2, t3 has no
// preference) before it knows of an executor on n2; the buggy scheduler
// does not index t1 under n2, and n2's first offer launches t3 while t1
// waits.
func TestSparkMinimal2294(t *testing.T) {
	s := openScript(t, "spark-2294", 4)
	s.expect(9)
	s.start(1, 2, 4)
	s.client(4, "app a1")
	s.deliver("RegisterWorker", 2, 1)
	s.deliver("RegisterApplication", 4, 1) // the master launches an executor on n2
	s.client(4, "tasks t1@2 t3")
	s.deliver("LaunchExecutor", 1, 2)
	s.deliver("ExecutorAdded", 2, 4) // n2's first offer
	s.sparkCheck("spark-2294", spark.LocalityOrder)
}

// spark-3150: a driver is submitted while no worker is registered, so it
// has none; the master is killed and recovers it from its persistence
// engine, and completing the recovery takes its worker for granted.
func TestSparkMinimal3150(t *testing.T) {
	s := openScript(t, "spark-3150", 4)
	s.expect(7)
	s.start(1, 4)
	s.client(4, "driver d1")
	s.deliver("RequestSubmitDriver", 4, 1) // persisted, waiting for a worker
	s.crashRecover(1)                      // recovering: d1 without a worker
	s.deliver("CompleteRecovery", 1, 1)
	s.sparkCheck("spark-3150", invariants.NoPanic)
}

// spark-9256: n2's registration retry fires before the master answers, so
// two RegisterWorker are in flight; the master takes the first and writes
// n2's file, is killed and recovers n2 from it, and the delayed second
// registration reaches a master that checks only the workers it has heard
// from: it writes n2's file again, which exists.
func TestSparkMinimal9256(t *testing.T) {
	s := openScript(t, "spark-9256", 4)
	s.expect(7)
	s.start(1, 2)
	s.deliver("RegistrationRetry", 2, 2) // a second RegisterWorker
	s.deliver("RegisterWorker", 2, 1)
	s.crashRecover(1)
	s.deliver("RegisterWorker", 2, 1) // the delayed one
	s.sparkCheck("spark-9256", invariants.NoPanic)
}
