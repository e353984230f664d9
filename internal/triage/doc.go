// Package triage is an experiment, not a check: it walks the runs of a
// hraft-serial fuzz command again, one by one, with raft's logger on, and
// sorts every liveness violation by the mechanism that explains it, among
// those README's "What it found" traces: hashicorp/raft#635's deadlock
// (invariants.SelfRemovedDeadlock), #697's InstallSnapshot loop (more than
// a thousand InstallSnapshot deliveries in the run, or a hundred snapshots
// installed in raft's log), #85's rollback (a leader that cannot read an
// entry of its own log, "failed to get log", a hundred times, and its
// follower installs the snapshot ten times as often as it refuses
// entries), the
// candidate that
// keeps a stale leader (raft refusing pre-votes "since we have a leader",
// again and again), the follower that refuses entries its snapshot covers
// ("failed to get log entry"), #696's transfer that never ends (the phase's
// requests answered "leadership transfer in progress"). A run none of them explains is listed as
// untraced, its schedule and raft's log written out for a person to read
// (in TRIAGE_OUT, when set). Beside the mechanism it prints the known bug
// faultline labels the run with (invariants.UpstreamIn), which is told from
// the schedule alone: the two should agree. It also counts the torn
// crashes of the runs.
//
// It runs only when asked (its test skips otherwise):
//
//	TRIAGE_RUNS=2000 TRIAGE_PERMANENT=1 TRIAGE_DISK=3 go test -run Triage -v ./internal/triage
//
// walks runs 0 to 1999 of seed 1 as `faultline fuzz --strategy random
// --target hraft-serial --runs 2000 --events 300 --permanent --disk 3 --seed
// 1` does. TRIAGE_SEED and TRIAGE_STRATEGY (the zero value of
// fuzz.Options: random) choose another seed and strategy; TRIAGE_SKIP lists
// runs to pass over (comma-separated): a run whose raft panics in its own
// goroutine ends the process, after naming itself on stderr. TRIAGE_KEEP
// writes every liveness run to TRIAGE_OUT, traced or not, with an origin
// that names this command and the run. TRIAGE_FAILCALLS=1 walks with
// hraft.Options.FailCallsToDown (calls to a node not running fail, as
// raft's transports fail them). TRIAGE_FILE=path replays one
// schedule file of hraft-serial instead and names its mechanism
// (TestTriageFile). Walks with
// storage faults do not repeat exactly (a stall goes to whichever of raft's
// goroutines reaches the store first), so its runs are the command's up to
// that: the mechanisms, not the run numbers, are what it measures.
package triage
