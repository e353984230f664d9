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
// file is damaged or of another version, and WriteFile replaces a file
// atomically.
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
//
// Contracts for adapters (interpose/hraft): Apply returns only when the
// system is quiescent again; an advance whose Until is type-only stops at
// the node's next matching message and records that message's full
// fingerprint; an advance records in Took how far the node's clock moved,
// and given a Took moves it exactly that far; View reports every observation exactly once;
// Close releases every goroutine the system started. interpose imports none
// of faultline's other packages.
package interpose
