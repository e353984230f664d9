package casestudies

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/raft"

	pool "github.com/faultline-dev/faultline/casestudies/poolmanager"
	akka "github.com/faultline-dev/faultline/casestudies/raft"
	"github.com/faultline-dev/faultline/casestudies/spark"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// Study is a named target.
type Study struct {
	Name string `json:"name"`
	// Summary says what the target is, on one line.
	Summary string `json:"summary"`
	// Bug names the injected bug ("" for a correct system).
	Bug string `json:"bug,omitempty"`
	// Expect is the invariant a fuzz campaign should break ("" for none).
	Expect string `json:"expect,omitempty"`
	// Nodes is the default cluster size.
	Nodes  int              `json:"nodes"`
	Target interpose.Target `json:"-"`
	// Workload, if set, is how the target is fuzzed by default: what
	// happens after the starts, which kinds of events, which client
	// payloads.
	Workload *fuzz.Workload `json:"workload,omitempty"`
}

// Options fills in a campaign's options with the study's workload, where
// the options leave them unset.
func (s Study) Options(opts fuzz.Options) fuzz.Options {
	return s.Workload.Apply(opts, s.Nodes)
}

var studies = []Study{
	{
		Name:    "hraft",
		Summary: hraft.RaftVersion() + ", unmodified, heartbeats on the fast path as NetworkTransport does; snapshots on",
		Expect:  "LogMatching or ElectionSafety (rare: hashicorp/raft#695)",
		Nodes:   3,
		Target:  hraft.NewTarget("hraft", "", hraft.Options{}),
	},
	{
		Name:    "hraft-serial",
		Summary: "hraft with heartbeats through raft's main loop instead of the fast path (closes hashicorp/raft#695)",
		Expect: "NoPanic on restart (rare: hashicorp/raft#85); in swarm's long runs, with liveness, " +
			"Liveness:Leader (hashicorp/raft#635), Liveness:Commit (#696, #697's InstallSnapshot loop)",
		Nodes:  3,
		Target: hraft.NewTarget("hraft-serial", "", hraft.Options{SerialHeartbeats: true}),
	},
	{
		Name:    "hraft-forgetful",
		Summary: "hraft whose StableStore loses CurrentTerm and the vote when its node restarts",
		Bug:     "forgetful-stable-store",
		Expect:  "ElectionSafety",
		Nodes:   3,
		Target: hraft.NewTarget("hraft-forgetful", "forgetful-stable-store", hraft.Options{
			NewStableStore: func(int) (raft.StableStore, error) { return NewForgetfulStore(), nil },
		}),
		// The minimizer's yardstick: 2,000-event runs checked at the end.
		Workload: &fuzz.Workload{Events: 2000, CheckEvery: 2000},
	},
	{
		Name:    "hraft-stale-reads",
		Summary: "hraft-serial whose key-value reads are served by any node from its own state machine, with no check",
		Bug:     "stale-local-reads",
		Expect:  "Linearizability",
		Nodes:   3,
		Target:  hraft.NewTarget("hraft-stale-reads", "stale-local-reads", hraft.Options{SerialHeartbeats: true, StaleReads: true}),
		// Half the client operations read.
		Workload: &fuzz.Workload{Reads: 50},
	},
	{
		Name: "hraft-verify-reads",
		Summary: "hraft-serial whose key-value reads are served by VerifyLeader, then the leader's own state machine " +
			"(a new leader has not applied what the last one committed)",
		Bug:    "reads-after-verify-leader-only",
		Expect: "Linearizability",
		Nodes:  3,
		Target: hraft.NewTarget("hraft-verify-reads", "reads-after-verify-leader-only",
			hraft.Options{SerialHeartbeats: true, VerifyReads: true}),
		Workload: &fuzz.Workload{Reads: 50},
	},
	{
		Name:     "hraft-barrier-reads",
		Summary:  "hraft-serial whose key-value reads are served by Barrier, then the node's own state machine",
		Expect:   "NoPanic on restart (rare: hashicorp/raft#85); no Linearizability",
		Nodes:    3,
		Target:   hraft.NewTarget("hraft-barrier-reads", "", hraft.Options{SerialHeartbeats: true, BarrierReads: true}),
		Workload: &fuzz.Workload{Reads: 50},
	},
	{
		Name: "hraft-read-index",
		Summary: "hraft-serial whose key-value reads are served by the read index as hashicorp/raft#603 describes it: " +
			"a Barrier once per term, VerifyLeader per read, then the leader's own state machine",
		Expect:   "NoPanic on restart (rare: hashicorp/raft#85); no Linearizability",
		Nodes:    3,
		Target:   hraft.NewTarget("hraft-read-index", "", hraft.Options{SerialHeartbeats: true, ReadIndex: true}),
		Workload: &fuzz.Workload{Reads: 50},
	},
	{
		Name:    "hraft-lossy-log",
		Summary: "hraft whose LogStore acknowledges a batch before syncing it: a crash loses the last batch",
		Bug:     "lossy-log-store",
		Expect:  "StoreLostEntries",
		Nodes:   3,
		Target: hraft.NewTarget("hraft-lossy-log", "lossy-log-store", hraft.Options{
			NewLogStore: func(int) (raft.LogStore, error) { return NewLossyLogStore(), nil },
		}),
	},
	{
		Name:    "hraft-fulldisk",
		Summary: "hraft whose StableStore's disk fills up after 12 writes; raft panics in its own goroutine",
		Bug:     "full-disk-stable-store",
		Expect:  "NoPanic (a crash, caught by the worker process)",
		Nodes:   3,
		Target: hraft.NewTarget("hraft-fulldisk", "full-disk-stable-store", hraft.Options{
			NewStableStore: func(int) (raft.StableStore, error) { return NewFullDiskStore(12), nil },
		}),
	},
	{
		Name:    "hraft-stuck-apply",
		Summary: "hraft whose state machine's Apply blocks for good at the fourth command; raft's shutdown of the node then waits for ever",
		Bug:     "stuck-apply",
		Expect:  "Liveness:Stuck",
		Nodes:   3,
		Target: hraft.NewTarget("hraft-stuck-apply", "stuck-apply", hraft.Options{
			NewFSM: func(int) raft.FSM { return NewStuckFSM(4) },
		}),
	},
}

func init() {
	studies = append(studies, actorStudy(akka.Correct, "raft", "an akka-raft style Raft on faultline's actor runtime, correct", ""))
	for _, bug := range akka.Bugs {
		studies = append(studies, actorStudy(bug, string(bug), "the actor Raft with DEMi's "+string(bug)+" bug: "+akka.Describe(bug), akka.Expect(bug)))
	}
	for _, bug := range akka.LivenessBugs {
		studies = append(studies, actorStudy(bug, string(bug), "the actor Raft with a liveness bug: "+akka.Describe(bug), akka.Expect(bug)))
	}
	studies = append(studies, sparkStudy(spark.Correct, "spark", "Spark's standalone master, workers and client on the actor runtime, correct", ""))
	for _, bug := range spark.Bugs {
		studies = append(studies, sparkStudy(bug, string(bug), "spark with DEMi's "+string(bug)+" bug: "+spark.Describe(bug), spark.Expect(bug)))
	}
	studies = append(studies, poolStudy(pool.Correct, "pool", "a pool manager over storage (ETags), deployment and scheduler mocks, with failovers: correct", ""))
	for _, bug := range pool.Bugs {
		studies = append(studies, poolStudy(bug, string(bug), "the pool manager with a failover bug: "+pool.Describe(bug), pool.Expect(bug)))
	}
	for _, bug := range pool.LivenessBugs {
		studies = append(studies, poolStudy(bug, string(bug), "the pool manager with a liveness bug: "+pool.Describe(bug), pool.Expect(bug)))
	}
	carryWorkloads()
}

// carryWorkloads gives each study's target its workload, so that whoever
// resolves it by name (a campaign's workers) fuzzes it the same way. Every
// file's init that adds studies calls it: Go runs them one after another,
// and a loop in the first saw none of the later ones' studies.
func carryWorkloads() {
	for i, s := range studies {
		if s.Workload != nil && fuzz.WorkloadOf(s.Target) != s.Workload {
			studies[i].Target = fuzz.WithWorkload(s.Target, s.Workload)
		}
	}
}

// actorStudy is a study of the actor Raft with DEMi's workload: start the
// members, hand each the bootstrap configuration, then deliveries, timer
// firings and client commands, no faults.
func actorStudy(bug akka.Bug, name, summary, expect string) Study {
	return onActor(name, string(bug), summary, expect, akka.Program(bug), &fuzz.Workload{
		Prologue: akka.Bootstrap,
		Weights:  &fuzz.Weights{Deliver: 100, Client: 8},
		Clients:  []string{"a", "b", "c", "d", "e", "f", "g", "h"},
		// DEMi's runs: 60-200 client commands (one event in 13.5:
		// 74 by event 1,000, 148 by 2,000), invariants checked every
		// 10-30 deliveries, failures of 1,000 events and more.
		Events: 2000, CheckEvery: 20, CheckFrom: 1000,
	})
}

// onActor is a study of a 4-node system on the actor runtime with its
// workload.
func onActor(name, bug, summary, expect string, prog actor.Program, w *fuzz.Workload) Study {
	return Study{Name: name, Summary: summary, Bug: bug, Expect: expect, Nodes: 4,
		Target: actor.NewTarget(name, bug, prog), Workload: w}
}

// sparkStudy is a study of Spark standalone with DEMi's kind of workload:
// workers register, the client submits drivers, an application and a task
// set, and nodes (the master among them) crash and recover.
func sparkStudy(bug spark.Bug, name, summary, expect string) Study {
	return onActor(name, string(bug), summary, expect, spark.Program(bug), &fuzz.Workload{
		Weights: &fuzz.Weights{Deliver: 100, Drop: 1, Duplicate: 2, Client: 4, Crash: 2, Recover: 4},
		Clients: spark.Workload,
		// DEMi's initial traces: invariants checked at the end of
		// runs as long as its failures were.
		Events: spark.Events(bug), CheckEvery: spark.Events(bug),
	})
}

// poolStudy is a study of the pool manager: clients create, resize and
// delete pools while the pool manager fails over (crashes and recovers),
// messages are duplicated, and the mocks' calls fail (controlled choices).
func poolStudy(bug pool.Bug, name, summary, expect string) Study {
	return onActor(name, string(bug), summary, expect, pool.Program(bug), &fuzz.Workload{
		// The pool manager's Reconcile timer is always armed: a weight
		// of its own keeps it from crowding out the rest.
		Weights: &fuzz.Weights{Deliver: 100, Timer: 2, Duplicate: 3, Client: 6, Crash: 3, Recover: 6, Choice: 8},
		Clients: pool.Workload,
		Events:  300,
	})
}

// All returns every case study, by name.
func All() []Study {
	out := append([]Study(nil), studies...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

//go:embed testdata/*.min.json
var minimal embed.FS

// Minimal returns the hand-made minimal reproduction of the bug a study's
// target shows, the yardstick for the minimizer: the shortest schedule a
// person found. It is an error when the study has none.
func Minimal(name string) (*interpose.Schedule, error) {
	data, err := minimal.ReadFile("testdata/" + name + ".min.json")
	if err != nil {
		return nil, fmt.Errorf("%s has no hand-made minimal schedule", name)
	}
	return interpose.Decode(bytes.NewReader(data))
}

// Lookup returns the study called name, or an error that lists the known ones.
func Lookup(name string) (Study, error) {
	for _, s := range studies {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, 0, len(studies))
	for _, s := range All() {
		names = append(names, s.Name)
	}
	return Study{}, Unknown(name, names)
}

// Unknown is the error for a target name not among names: it names the
// known ones like it (its family, what comes before its first "-", or those
// that contain it), or says how to list them all.
func Unknown(name string, names []string) error {
	var like []string
	family, _, _ := strings.Cut(name, "-")
	for _, n := range names {
		if f, _, _ := strings.Cut(n, "-"); f == family || strings.Contains(n, name) {
			like = append(like, n)
		}
	}
	if len(like) > 0 && len(like) <= 8 {
		return fmt.Errorf("unknown target %q (like it: %s; `targets` lists all %d)", name, strings.Join(like, ", "), len(names))
	}
	return fmt.Errorf("unknown target %q (`targets` lists the %d known)", name, len(names))
}
