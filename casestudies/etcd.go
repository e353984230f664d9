package casestudies

import (
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose/etcdraft"
)

// etcd raft's targets: the library as it is, with the options users set,
// and with the storage bugs an application can have.
func init() {
	v := etcdraft.Version()
	studies = append(studies,
		Study{Name: "etcdraft", Nodes: 3, Expect: "Liveness:Leader (rare: etcd-io/etcd#12359)",
			Summary: v + ", unmodified: RawNodes with synchronous storage, default options",
			Target:  etcdraft.NewTarget("etcdraft", "", etcdraft.Options{})},
		Study{Name: "etcdraft-prevote", Nodes: 3, Summary: "etcdraft with PreVote and CheckQuorum, as etcd runs it",
			Target: etcdraft.NewTarget("etcdraft-prevote", "", etcdraft.Options{PreVote: true, CheckQuorum: true})},
		Study{Name: "etcdraft-lease", Nodes: 3, Expect: "Linearizability (lease reads need bounded clock drift, as the library documents)",
			Summary: "etcdraft-prevote with lease-based read-only requests; half the client operations are ReadIndex reads",
			Target:  etcdraft.NewTarget("etcdraft-lease", "", etcdraft.Options{PreVote: true, CheckQuorum: true, LeaseReads: true}),
			// Reads are what the option is about.
			Workload: &fuzz.Workload{Reads: 50}},
		Study{Name: "etcdraft-stay-leader", Nodes: 3, Expect: "LeaderIsVoter (the library's default: etcd-io/raft#83)",
			Summary: "etcdraft whose leader keeps leading when it is removed or demoted (StepDownOnRemoval off, the library's default)",
			Target:  etcdraft.NewTarget("etcdraft-stay-leader", "", etcdraft.Options{KeepLeaderOnRemoval: true})},
		Study{Name: "etcdraft-async", Nodes: 3,
			Summary:  "etcdraft-prevote with AsyncStorageWrites: each node's storage writes and applying are messages to its append and apply threads, ordered against the network by the fuzzer; half the client operations are ReadIndex reads",
			Target:   etcdraft.NewTarget("etcdraft-async", "", etcdraft.Options{PreVote: true, CheckQuorum: true, AsyncStorageWrites: true}),
			Workload: &fuzz.Workload{Reads: 50}},
		Study{Name: "etcdraft-joint", Nodes: 3,
			Summary: "etcdraft-prevote whose membership changes are ConfChangeV2s through joint configurations (entered when applied, left by the leader on its own)",
			Target:  etcdraft.NewTarget("etcdraft-joint", "", etcdraft.Options{PreVote: true, CheckQuorum: true, JointConsensus: true})},
		Study{Name: "etcdraft-forgetful", Nodes: 3, Bug: "forgetful-hard-state", Expect: "ElectionSafety",
			Summary: "etcdraft whose storage loses the hard state's term and vote at a crash",
			Target:  etcdraft.NewTarget("etcdraft-forgetful", "forgetful-hard-state", etcdraft.Options{ForgetHardState: true})},
		Study{Name: "etcdraft-lossy", Nodes: 3, Bug: "acks-before-sync", Expect: "NoPanic (raft: tocommit out of range), LeaderCompleteness or StateMachineSafety",
			Summary: "etcdraft whose storage makes a Ready's entries durable only at the next Ready, while its acknowledgements go out at once",
			Target:  etcdraft.NewTarget("etcdraft-lossy", "acks-before-sync", etcdraft.Options{LoseUnsynced: true})},
		Study{Name: "etcdraft-async-lossy", Nodes: 3, Bug: "append-thread-acks-before-sync", Expect: "NoPanic (raft: tocommit out of range), LeaderCompleteness or StateMachineSafety",
			Summary: "etcdraft-async whose append thread makes each write durable only at its next write, while the write's responses go out at once",
			Target:  etcdraft.NewTarget("etcdraft-async-lossy", "append-thread-acks-before-sync", etcdraft.Options{PreVote: true, CheckQuorum: true, AsyncStorageWrites: true, LoseUnsynced: true})},
	)
	carryWorkloads()
}
