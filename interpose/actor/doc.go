// Package actor is a small actor runtime that is deterministic by
// construction, for systems written for faultline (the akka-raft style Raft
// of casestudies/raft). It implements interpose.System, so that the fuzzer,
// the minimizer, replay and the CLI treat its targets as they treat
// hashicorp/raft.
//
// A process implements Process: Init when its node starts or recovers, and
// Receive for each message. The runtime calls it from the controller's
// goroutine; a process starts no goroutines, reads no clock and uses no
// randomness but Context.Rand. Through the Context it sends messages, arms
// and cancels named timers, keeps persistent state that survives a crash
// (Load, Store) and reports what invariants check (Claim, Log, Applied,
// Respond).
//
// A process that implements Publisher publishes facts about its state: the
// runtime asks for them at every quiescent point the controller checks and
// puts them in the node's interpose.NodeView, with the node's number and
// life cycle (a down node has no process, so no facts). `faultline show`,
// the reports and the JSON formats print them without knowing what they
// mean, and checks that know the system read the typed value behind them
// (the Raft invariants read an *interpose.RaftState through
// interpose.RaftOf, and skip nodes that publish none). The simplest
// publisher returns an interpose.FactList, ordered, its first fact a
// headline that reads alone; one that runs at every event keeps a typed
// value and returns a pointer to it, so that nothing is formatted until a
// schedule is rendered (casestudies/raft does).
//
// Mapping onto the interpose model:
//
//   - A message's fingerprint is its Type and Key, source and destination.
//     Pending lists the messages in flight in canonical order; a delivery
//     hands the oldest with the named fingerprint to its destination.
//   - An armed timer is a pending message of its node to itself (type = the
//     timer's name, key "timer"), always deliverable while the node is up:
//     the scheduler fires it by delivering it, as DEMi does, or drops it.
//     An advance fires one too: the one its Until names, or else the
//     node's earliest-armed timer. Timers are not duplicated.
//   - Start creates the node's process (Init); crash discards it and its
//     timers, keeping its persistent state; recover creates a new process on
//     that state. Messages to a down node stay pending, undeliverable, until
//     it recovers or they are dropped.
//   - A client operation turns the event's payload into a message through
//     Program.Client and hands it to the node (from 0); what the process
//     passes to Respond becomes the event's result.
//   - Partitions and heals cut the network as for hashicorp/raft.
//     Membership changes and leadership transfers are not enabled.
//   - A controlled choice (Context.Choose: a mock's call that may fail, or
//     fail after doing the work) takes the outcome an interpose.Choice
//     event settled for the node's next choice of its name, else its first
//     outcome, the default. The System is an interpose.Chooser: it lists
//     each node's choice points (Program.Choices, then those learned when
//     first made) for the walk to draw from; a crash forgets what was
//     settled. A process that makes no choices sees no Choice events.
//   - A panic in a process is a NoPanic fault (its fingerprint names the
//     message type and the panic's text, digits masked) and crashes its
//     node; it never crashes faultline.
package actor
