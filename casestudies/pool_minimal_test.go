package casestudies

import (
	"fmt"
	"github.com/faultline-dev/faultline/invariants"
	"strings"
	"testing"

	pool "github.com/faultline-dev/faultline/casestudies/poolmanager"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// The hand-made minimal reproductions of the pool manager's failover bugs,
// written from each bug's mechanism; `go test ./casestudies -run
// PoolMinimal -update` rewrites testdata/<case>.min.json. n1 is the pool
// manager, n2 the storage, n3 the deployment service; the scheduler, n4,
// is not needed and never starts (what it is sent waits for it). Each starts the same way: the services start, the pool
// manager lists the (empty) storage, and a client creates p1 with 2 VMs,
// whose row is written.

func newPoolScript(t *testing.T, name string) *script {
	t.Helper()
	s := openScript(t, name, 4)
	s.start(1, 2, 3)
	s.deliver("List", 1, 2)
	s.deliver("Listed", 2, 1)
	return s
}

// createWritten creates p1 and delivers its row's write and the answer.
func (s *script) createWritten() {
	s.client(1, "create p1 2")
	s.deliver("Write", 1, 2)
	s.deliver("WriteResult", 2, 1)
}

// steadyWritten creates p1, makes its deployment and writes its row
// steady with 2 VMs; the write's answer is not delivered.
func (s *script) steadyWritten() {
	s.createWritten()
	s.deliver("Allocate", 1, 3)
	s.deliver("Allocated", 3, 1)
	s.deliver("Write", 1, 2) // p1 steady, 2 VMs
}

// poolCheck ends a pool script: the violation, the committed file, 20
// replays that reproduce it, and nothing from the correct pool manager on
// the same schedule.
func (s *script) poolCheck(name string) {
	s.t.Helper()
	sched := s.check(name+".min.json", pool.NoRogueDeployment)
	replayAll(s.t, name, sched, 20)
	correct, _ := Lookup("pool")
	other := *sched
	other.Target.Name = "pool"
	rep, err := fuzz.Replay(s.t, correct.Target, &other, fuzz.ReplayOptions{Repeat: 1})
	if err != nil {
		s.t.Fatal(err)
	}
	if rep.Seen[""] != 1 {
		s.t.Errorf("the correct pool manager replaying it ends with %v; want no violation", rep.Seen)
	}
	if m, err := Minimal(name); err != nil || len(m.Events) != len(sched.Events) {
		s.t.Errorf("embedded minimal schedule: %v", err)
	}
}

// pool-resume-reallocates: p1's deployment d1 is made, then the pool
// manager fails over before it hears so; the new one resumes p1 with a new
// deployment, d2, in its row, and d1 belongs to no pool.
func TestPoolMinimalResume(t *testing.T) {
	s := newPoolScript(t, "pool-resume-reallocates")
	s.expect(14)
	s.createWritten()
	s.deliver("Allocate", 1, 3) // d1 made
	s.crashRecover(1)           // the failover
	s.deliver("List", 1, 2)
	s.deliver("Listed", 2, 1)
	s.deliver("Write", 1, 2) // p1 resizing, pending d2
	s.poolCheck("pool-resume-reallocates")
}

// pool-no-etag: a client creates p1 and the pool manager fails over with
// p1's first write still in flight; the new one creates p1 again, with a
// deployment of its own, and the stale write, without an ETag check (with
// one, "must not exist" refuses it), puts the first one's row back: the
// deployment the new one makes belongs to no pool. (The minimizer found
// this one, three events shorter than a duplicated write: seed 4 of
// `casestudy run`.)
func TestPoolMinimalNoETag(t *testing.T) {
	s := newPoolScript(t, "pool-no-etag")
	s.expect(15)
	s.client(1, "create p1 2") // its write stays in flight
	s.crashRecover(1)
	s.deliver("List", 1, 2)
	s.deliver("Listed", 2, 1)
	s.client(1, "create p1 2")
	s.deliverKey("Write", 1, 2, "req=2") // the new incarnation's
	s.deliver("WriteResult", 2, 1)
	s.deliver("Write", 1, 2)    // the stale one
	s.deliver("Allocate", 1, 3) // the new deployment
	s.poolCheck("pool-no-etag")
}

// pool-error-not-done: d1's allocation succeeds but answers with an
// error (a controlled choice); the pool manager takes it as not done and
// writes a new deployment, d2, in p1's row: d1 belongs to no pool.
func TestPoolMinimalErrorNotDone(t *testing.T) {
	s := newPoolScript(t, "pool-error-not-done")
	s.expect(12)
	s.do(interpose.Event{Kind: interpose.Choice, Node: 3, Data: "deploy.allocate", Op: "error-after-allocate"})
	s.createWritten()
	s.deliver("Allocate", 1, 3)
	s.deliver("Allocated", 3, 1)
	s.deliver("Write", 1, 2) // p1 resizing, pending d2
	s.poolCheck("pool-error-not-done")
}

// poolLiveCheck ends a script of a liveness bug: a stabilization phase
// without client writes, the monitor's violation, the committed file, 20
// replays, and nothing from the correct pool manager when the phase is
// made again after the same events.
func (s *script) poolLiveCheck(name string, bug pool.Bug) {
	s.t.Helper()
	if err := s.ctl.Stabilize(interpose.StabilizeOptions{NoWrites: true}); err != nil {
		s.t.Fatal(err)
	}
	s.ctl.Finish()
	sched := s.check(name+".min.json", pool.Expect(bug))
	replayAll(s.t, name, sched, 20)
	correct, _ := Lookup("pool")
	if got := remadePhase(s.t, correct, sched); got != "" {
		s.t.Errorf("the correct pool manager on its events: %s", got)
	}
}

// livePoolScript is newPoolScript whose checker watches the monitors.
func livePoolScript(t *testing.T, name string) *script {
	t.Helper()
	s := openScript(t, name, 4)
	study, _ := Lookup(name)
	s.ctl = interpose.NewController(s.sys, invariants.CheckerFor(study.Target, nil, true), study.Target.Spec(4, 1))
	s.start(1, 2, 3)
	s.deliver("List", 1, 2)
	s.deliver("Listed", 2, 1)
	return s
}

// pool-forgets-delete: p1 is made (2 VMs), a delete's "deleting" row is
// written, and the pool manager fails over; the new one loads p1 and
// never resumes the delete: p1 stays deleting, its VMs held.
func TestPoolMinimalForgetsDelete(t *testing.T) {
	s := livePoolScript(t, "pool-forgets-delete")
	s.steadyWritten()
	s.deliver("WriteResult", 2, 1)
	s.client(1, "delete p1")
	s.deliver("Write", 1, 2) // p1 deleting
	s.crashRecover(1)
	s.deliver("List", 1, 2)
	s.deliver("Listed", 2, 1)
	s.poolLiveCheck("pool-forgets-delete", pool.ForgetsDelete)
}

// pool-cancel-stuck: p1's resize is cancelled while its allocation is
// asked for; the "cancelling" row is written and the pool manager fails
// over; the new one waits for the allocation's answer, which went to the
// one that died: p1 stays cancelling.
func TestPoolMinimalCancelStuck(t *testing.T) {
	s := livePoolScript(t, "pool-cancel-stuck")
	s.createWritten() // p1 resizing: its allocation is asked for
	s.client(1, "cancel p1")
	s.deliver("Write", 1, 2) // p1 cancelling
	s.crashRecover(1)
	s.deliver("List", 1, 2)
	s.deliver("Listed", 2, 1)
	s.poolLiveCheck("pool-cancel-stuck", pool.CancelStuck)
}

// TestPoolCancel: a resize cancelled while its allocation is in flight
// ends steady at the size the pool had, and the allocation, delivered
// after the release, makes nothing: no deployment leaks.
func TestPoolCancel(t *testing.T) {
	s := newPoolScript(t, "pool")
	s.createWritten()
	res, err := s.ctl.Step(interpose.Event{Kind: interpose.Client, Node: 1, Data: "cancel p1"})
	if err != nil || res != "accepted" {
		t.Fatalf("cancel p1: %q (%v)", res, err)
	}
	s.deliver("Write", 1, 2) // p1 cancelling
	s.deliver("WriteResult", 2, 1)
	s.deliver("Release", 1, 3)
	s.deliver("Released", 3, 1)
	s.deliver("Write", 1, 2) // p1 steady, 0 VMs
	s.deliver("WriteResult", 2, 1)
	s.deliver("Allocate", 1, 3) // late: the deployment was released
	s.deliver("Allocated", 3, 1)
	if v := s.ctl.Check(); v != nil {
		t.Fatalf("violation: %v", v)
	}
	view := s.sys.View()
	facts := fmt.Sprint(view.Nodes[1].List(), view.Nodes[2].List()) // the storage and the deployment service
	for _, want := range []string{"p1: steady 0/0 []", "deployments -"} {
		if !strings.Contains(facts, want) {
			t.Errorf("storage and deployments: %s; want %q", facts, want)
		}
	}
}

// pool-scheduler-untold: p1 is made (2 VMs) and its "steady" row written,
// and the pool manager fails over before the write is answered; the new
// one lists the rows and, with the bug, tells the scheduler nothing: it
// never learns p1's size.
func TestPoolMinimalSchedulerUntold(t *testing.T) {
	s := livePoolScript(t, "pool-scheduler-untold")
	s.steadyWritten() // its answer is lost in the failover
	s.crashRecover(1)
	s.deliver("List", 1, 2)
	s.deliver("Listed", 2, 1)
	s.poolLiveCheck("pool-scheduler-untold", pool.SchedulerUntold)
}
