// Package raft is a Raft written on faultline's actor runtime
// (interpose/actor), close in shape to akka-raft, the implementation whose
// bugs DEMi's evaluation minimized: members exchange RequestVote,
// VoteCandidate, DeclineCandidate, AppendEntries, AppendSuccessful and
// AppendRejected; a member that times out sends itself BeginElection, and a
// member that wins sends itself ElectedAsLeader; clients hand members a
// bootstrap configuration (ChangeConfiguration) and commands
// (ClientMessage). Timers (ElectionTimeout, Heartbeat) fire when the
// scheduler delivers them. A candidate retries unanswered RequestVotes on
// its Heartbeat timer, as Raft allows.
//
// Correct is the default; each Bug is one of DEMi's akka-raft bugs, with
// the mechanism described in docs/case-studies.md. The
// members report their role, term, vote, log writes, commits and applied
// entries through the actor Context, so that package invariants checks
// them exactly as it checks hashicorp/raft.
package raft
