// Package interpose is faultline's model of a message-passing system under
// control, after DEMi (Scott et al., NSDI'16).
//
// A System is N processes and a network whose pending messages the
// controller delivers, drops or duplicates one at a time; between two events
// the system is quiescent. Events are internal (Deliver, Drop, Duplicate,
// Advance a process's clock) or external (Start, Crash, Recover, Client,
// Partition, Heal, Membership, Transfer). A Schedule is the sequence of
// events applied from the initial configuration: the unit that is recorded,
// replayed, minimized and attached to a bug report. Its file format is
// versioned JSON (Version); ReadFile names the file and the problem when a
// file is damaged or of a version it does not read, and WriteFile replaces a
// file atomically. Version 2 holds node views as named facts; files of
// version 1, whose views had Raft's fields, still load, those fields turned
// into Raft facts.
//
// A node's state is a NodeView: what every process has (its number, whether
// it started, whether it is up) and the Facts its adapter publishes, ordered
// named facts that renderings and the JSON formats print without knowing
// what they mean (a FactList when a view is read from a file). An adapter
// publishes a typed value behind them and formats nothing until asked:
// View runs after every event. Checks that know a system read that typed
// value; every Raft adapter publishes a *RaftState (role, term, vote,
// indexes, configuration), which the Raft invariants read through RaftOf. A
// few leading facts make the node's headline (Headliner; for Raft its role
// and term), which Change compares before and after an event to write the
// event's result ("n1 follower→candidate term 1").
//
// A message is known by its fingerprint (Msg): type, source, destination and
// the fields that matter, rendered in Key. A fingerprint without a Key is the
// type-only wildcard. Pending lists messages in canonical order (fingerprint,
// then arrival); a delivery names a fingerprint and the system delivers the
// oldest pending message that has it.
//
// The Controller applies events, checks invariants at quiescent points
// (every event, or every CheckEvery events) through a Checker, and records
// what it applied. Replay re-applies a schedule DEMi's way: each recorded
// delivery delivers the pending message with the same fingerprint, and an
// event that cannot happen (ErrNotEnabled: its message never appeared, its
// node is down) is skipped. With the wildcard (ReplayOptions.Wildcard), a
// delivery whose message never appeared takes one of the same type, source
// and destination, the closest in its key fields (Candidates), and a clock
// advance stops at the node's next message of the recorded type
// (WildAdvance): a schedule whose terms and indexes moved still replays.
// A timed replay (ReplayOptions.Timed) passes each advance the duration it
// took when recorded (Event.Took), for a schedule replayed as it was
// recorded; the controller clears Took otherwise.
// A Stabilize event marks where a run's stabilization phase begins: the
// controller records it without applying it, tells the checker (View
// .Stabilizing, and View.Excused for a fault the phase keeps), and Settle,
// at the end of a run, asks a Settler checker for the liveness monitors
// still hot. Finish ends a run: Settle, then a Stopper's nodes stopped and
// what that found (a node stuck for good: the Stuck invariant) recorded.
// Inflight is the network's messages as an adapter whose messages are
// values keeps them, in canonical order with their payloads, each marked
// when it repeats its predecessor's fingerprint (Message.Repeat): a system
// built on it is a Grouper, whose walks find the distinct fingerprints
// without comparing them. A walk's delivery carries its position in the
// Pending slice it was chosen from (Event.Hint), which such a system checks
// before it searches (Inflight.FindAt); recorded events carry no hint. An
// Inflight told to Summarize keeps a Summary as its messages change (counts
// of requests and timers, Bits marking where each deliverable fingerprint
// starts), flags set through SetFlags: a system that hands it out is a
// Summarizer, whose walks draw from it instead of passing over every
// message at every event (interpose/actor, interpose/etcdraft).
// Network is a partition as adapters keep it, both ways or one way; Disk
// events are storage faults, for adapters with disks.
//
// Contracts for adapters (interpose/hraft): Apply returns only when the
// system is quiescent again; an advance whose Until is type-only stops at
// the node's next matching message and records that message's full
// fingerprint; an advance records in Took how far the node's clock moved,
// and given a Took moves it exactly that far; View reports every observation exactly once;
// a NodeView's Facts may point into the system's storage, valid until the
// next View (Clone keeps one longer: the Controller's Schedule and Take
// hand out owned copies, and no check pays for a copy), list the same
// names in the same order from view to view, and name each fact once;
// Close releases every goroutine the system started. interpose imports none
// of faultline's other packages.
package interpose
