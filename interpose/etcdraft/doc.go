// Package etcdraft puts etcd's raft library (go.etcd.io/raft/v3,
// unmodified) under faultline's control: N RawNodes, each a pure state
// machine that owns no goroutine, clock, network or disk, driven by the
// events of a schedule.
//
// Contract:
//
//   - Every message of every Ready is a pending message whose fingerprint is
//     its type (MsgApp, MsgVote, MsgHeartbeatResp, ...) with its term, index,
//     log term, commit and reject in its key. A delivery steps the
//     destination's RawNode with it; a drop of MsgSnap reports the snapshot
//     failed to its sender, of any other message the peer unreachable, as a
//     transport would.
//   - An Advance ticks one node until its Ready holds a message (an
//     election, a heartbeat), at most four election timeouts of ticks.
//     etcd raft draws its randomized election timeout from
//     crypto/rand.Reader, which the cluster points at a stream seeded by
//     the spec's seed while it applies an event (package-wide, so clusters
//     of one process take turns). Ticks are not part of an event's result
//     (a minimizer's candidate draws in another order): a replay advances
//     until the message the event names. One whose message no longer
//     comes (the node is past its term) is recorded as an advance to its
//     cap of the ticks it took (UntilN -1), which a replay ticks exactly.
//   - Storage is synchronous, as the library requires without
//     AsyncStorageWrites: each Ready's snapshot, entries and hard state are
//     written to the node's raft.MemoryStorage, which survives its crashes,
//     before its messages are sent and its committed entries applied to a
//     state machine (a key-value store of "k=v" writes unless
//     Options.NewStateMachine says otherwise), which does not (a recovered
//     node replays its log from its snapshot). Every few applied entries a
//     node takes a snapshot and compacts its log, so that MsgSnap happens.
//     Options.ForgetHardState and Options.LoseUnsynced inject storage bugs.
//   - With Options.AsyncStorageWrites, raft hands the storage writes and
//     the applying to the node's append and apply threads as messages
//     (MsgStorageAppend, MsgStorageApply). Each thread's oldest write is a
//     pending message from the node to itself, never dropped or
//     duplicated, which a delivery carries out before it sends the
//     write's responses (acknowledgements to other nodes wait for it); a
//     crash loses the writes not yet done. Views publish the storage's
//     log, and a commit index no further than the storage agrees with
//     raft's log.
//   - External events: client proposals, membership changes
//     (ProposeConfChange: add a voter or a learner, demote, remove; with
//     Options.JointConsensus a ConfChangeV2 through a joint configuration,
//     which the leader leaves on its own, and views count both halves'
//     voters),
//     leadership transfers, partitions and heals, crashes and recoveries.
//     With the built-in store, reads ("?k") go through ReadIndex and are
//     answered once the node applied up to the read's index: the run's
//     client history is checked for linearizability.
//   - Views publish each node's interpose.RaftState (role, term, vote, log,
//     commit, applied, snapshot, configuration), leadership claims on the
//     wire (MsgApp, MsgSnap, MsgHeartbeat), every write to the log and every
//     entry applied, so that invariants.NewRaft checks it unchanged.
//
// A user's state machine replaces the key-value store through
// Options.NewStateMachine, and a user's storage the MemoryStorage through
// Options.NewStorage (a Storage: raft.Storage and the writes an
// application makes); a panic or error in either is a violation, never a
// crash of the run. A storage that implements Crasher is told of each
// crash of its node and loses what it had not made durable; what it lost
// is reported and the views follow it.
//
// Not yet: a joint change of several nodes at once (each change is one
// node's).
package etcdraft
