// Package baseline is the test a Go engineer writes without faultline, kept
// here to measure faultline against: a hashicorp/raft cluster on raft's
// InmemTransport with real timers, a seeded chaos loop that every 10–50 ms
// crashes and restarts a node over the same stores, partitions or heals
// the network, or applies a write, and a detector of the invariant a run
// looks for: ElectionSafety (two leaders of one term, from raft's
// leadership observations), StateMachineSafety (two state machines that
// applied different commands at one index, from a wrapper of each node's
// FSM), NoPanic (a restart whose raft.NewRaft panics) or NodeStarts (a
// restart raft.NewRaft refuses with an error).
//
// Contract: Run builds its cluster from the same hraft.Options a faultline
// target has (its state machine and stores, a Crasher's losses at each
// crash, its Config), with the timers of Options.Timers in place of
// faultline's fake clock, and returns when the detector fires, the time
// limit passes or its context ends, with the wall time and the process's
// CPU time to that point. Unlike everything else in faultline it reads the
// wall clock and runs on real goroutines: its runs do not replay, which is
// the point of the comparison. It sees only what those detectors show: no
// LeaderCompleteness, no linearizability, no liveness, no panic in raft's
// own goroutines (it kills the process), and it cannot reach a bug that
// needs the heartbeat fast path (InmemTransport has none) or an exact
// interleaving.
package baseline
