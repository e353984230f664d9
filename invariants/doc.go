// Package invariants checks safety properties at the quiescent points of a run.
//
// A checker is an interpose.Checker: a function of the views a run produces,
// in order. It is pure in the sense that matters for replay: it reads only the
// views (node states and what was observed on the wire, in the log stores and
// in the state machines), never the system itself, and it keeps whatever
// history it needs between views. Use one checker per run.
//
// Raft checks the safety properties of Raft. It reads a node's state through
// interpose.RaftOf: the typed Raft facts (role, term, indexes) that every
// Raft adapter publishes in its node views. A node whose adapter publishes
// no Raft facts (a system that is not Raft, a node that never started) is
// not a Raft node to it and is skipped; so is a node that is down, whose
// volatile state is gone. The properties:
//
//   - ElectionSafety: at most one leader per term, from the nodes' states and
//     from the leadership claims seen on the wire (AppendEntries and
//     InstallSnapshot carry their sender's term).
//   - LeaderAppendOnly: a leader never deletes or overwrites entries of its
//     own log.
//   - LogMatching: two logs that hold an entry with the same index and term
//     hold the same entry there and agree on the entry before it (so, by
//     induction, on the whole prefix).
//   - StateMachineSafety: no two nodes apply different entries at one index.
//   - LeaderCompleteness: an entry committed in a term is in the log of every
//     leader of a later term, and no index is committed with two terms.
//   - LeaderIsVoter: a leader is a voter of its latest configuration once
//     that configuration is committed (checked when the leader's log is
//     committed to its end: the view has no configuration index; a leader
//     that removed itself leads until the change commits).
//   - NoPanic, and any other fault the adapter reports (a user's invariant
//     over its state machines), passed through.
//
// What a store lost at a crash after acknowledging it (View.Losses: a
// stable store that forgot its term or vote) is not a violation of its
// own; the Raft violations after it name it as their cause.
//
// For LeaderCompleteness, a node's log is its snapshot
// (RaftState.SnapshotIndex) followed by the entries its log store holds above
// it: entries the store still keeps at or below the snapshot are not part of
// it (after an InstallSnapshot, hashicorp/raft leaves a deposed leader's
// stale entries there and never applies them). LogMatching still compares
// them: an entry of a given index and term was written by that term's one
// leader, so a stale one can only meet copies of itself.
//
// A violation's fingerprint is the invariant's name; for a panic, the place
// and the message with its numbers masked. Terms, indexes and node numbers
// stay in the detail, because they change when a schedule is shortened while
// the bug does not. Each fingerprint is reported once per run. When several
// properties break at one point, the likelier root cause comes first (the
// order of Names).
//
// LostWrite (in Raft's checker): a write acknowledged to its client
// (interpose.Ack) must be the entry applied at its index.
//
// Linearizability of client histories: CheckKV decides a key-value history
// (KVOp: writes with the log index they took, reads with what they
// returned, pending operations) key by key. Its fast path places every
// operation in the log's order of writes in linear time after a sort (a
// 300-operation history in about 75 µs, BenchmarkCheckKV); only a key it
// cannot place, or whose log order fails, goes to porcupine's search,
// bounded in time (Unknown, never a violation, when it runs out). A
// violation names the key and the fewest operations found that cannot be
// ordered; LinResult.WriteHTML draws porcupine's visualization. Raft's
// checker keeps the run's history (View.Ops) and checks it at the end
// (Final). A service's own commands are checked against its Model (a step
// function or porcupine's model over strings) by CheckModel, with no fast
// path and a witness shrunk by dropping reads; ModelOf finds a target's.
//
// Known upstream bugs: some violations on an unmodified hashicorp/raft are
// raft's own open bugs, which a correct service meets too. KnownUpstream is
// the table of those faultline reproduces (issue, fingerprint, releases,
// summary), and Upstream matches a violation's fingerprint and its target's
// spec against it: a pure function, so that a report or a campaign list can
// say "known upstream: hashicorp/raft#695 (...)" from a schedule file alone.
// A liveness fingerprint is a monitor's name, shared by every cause: such
// an entry also needs the nodes' final states (KnownBug.State: #635) or
// the stabilization phase's answers (KnownBug.Phase: #696's Commit form,
// which UpstreamIn, given the schedule, matches).
// The match is by fingerprint, and a user's bug can share one; package fuzz
// confirms the heartbeat fast path's bugs by replaying without it
// (fuzz.Upstream), and can pass over known ones in a campaign
// (fuzz.Options.PassOverUpstream).
//
// Liveness: a Monitor watches something the system owes (a
// leader, a write applied everywhere); it is hot while it is owed and cold
// once delivered. NewLiveness wraps a safety checker with monitors into an
// interpose.Settler: the monitors are observed only during a run's
// stabilization phase, and one still hot when the run ends is a violation
// "Liveness:NAME" (Settle), Since naming the event after which it last
// turned hot. RaftMonitors are Raft's: Leader, Accepts and Commit, in order
// of cause, over the Raft facts of the live nodes and the completions of the
// phase's writes; they owe nothing to nodes the phase keeps faulty
// (View.Excused), nor while the live members hold no majority of the voters
// of the configuration an election must win. Coverage says which monitors
// turned hot in a run. Checker builds a run's checker with them when
// liveness is on.
//
// The cost of a check is proportional to what happened since the previous
// one, plus one pass over the committed entries when a new leader appears;
// BenchmarkCheck measures it.
package invariants
