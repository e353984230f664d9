// Package hraft puts an unmodified hashicorp/raft cluster under faultline's
// control and implements interpose.System for it.
//
// Each node runs in a testing/synctest bubble of its own, so it has its own
// fake clock; an agent goroutine inside the bubble runs the controller's
// commands and answers when every goroutine of the bubble is durably blocked.
// While the agent waits for the next command, the node's clock is frozen.
// "Advance node i" moves only node i's clock, until it sends a message (or by
// a cap), which is DEMi's per-process timer event.
//
// The transport turns every AppendEntries, RequestVote, RequestPreVote,
// InstallSnapshot and TimeoutNow call into a pending message. The calling
// goroutine blocks on a channel of its own bubble until the controller
// delivers the response; dropping the request or the response returns an
// error to it. A delivered request goes to raft's Consumer(), except
// heartbeats, which go to the handler raft registered with
// SetHeartbeatHandler, as NetworkTransport does (Options.SerialHeartbeats
// turns that off, and so does a spec whose Config["heartbeat_fast_path"] is
// "false", to replay a schedule without it). Pipelined replication is
// declined. Requests are copied, as
// if they had crossed a network.
//
// A crash closes the node's transport and shuts raft down; stores that
// implement Crasher lose what they had not made durable. A request the
// crashed node had received but not answered fails at its caller, as a
// connection reset would. A request still in the network to a node that is
// not running (crashed, down, or not started yet) stays there, and is
// delivered once the node runs, unless Options.FailCallsToDown fails it as
// raft's transports would: at the crash, or when the node starts or
// recovers. A torn node answers no caller: what raft resolves in its copy
// of the stores (a write committed by a single voter) is never answered.
//
// Storage faults (interpose.Disk events) act in the store wrappers, on any
// store, the built-in ones or yours: a stall or a slow disk sleeps on the
// node's fake clock before the call reaches the store, a failure
// returns ErrDiskFault from the next log store write, and a tear crashes
// the node just before its Nth store write from now, in the middle of the
// raft operation that makes it (the term stored, the vote not): the
// stores keep every write before it and none after, the node sends and
// answers nothing from then on, and it is down when the event ends.
//
// A node stuck for good is a Liveness:Stuck violation: an event that has not
// returned after StuckAfter of the node's virtual time, one that the
// watchdog (Options.Watchdog, real time) gives up on, or a node whose
// shutdown at the end of the run (Cluster.Stop) never finishes or leaves a
// goroutine of its bubble blocked. A recovery is
// raft.NewRaft on the same stores with a fresh FSM. Snapshots are on, with a
// small threshold, so InstallSnapshot and log compaction happen under
// control. Client operations, membership changes and leadership transfers
// are issued inside the node's bubble, never from outside (touching a
// bubble's channels from outside kills the process); their results are
// recorded when their futures resolve.
//
// Each node's view publishes its Raft facts as an *interpose.RaftState the
// cluster keeps and refills at every View: role, term and vote, the last,
// commit and applied indexes (read from raft's own accessors, safe outside
// the bubble), the snapshot index (from a wrapper around the snapshot
// store) and the latest configuration. raft keeps a copy of the
// configuration that GetConfiguration reads without its main loop; the
// call allocates, so a view makes it again only after the store wrappers
// saw something that may change the configuration (a configuration entry
// stored, entries deleted, a snapshot persisted, a start). A down node
// publishes its durable term, vote and last index. An event's result ("n1
// follower→candidate term 1") is interpose.Change of the node's views
// before and after it.
//
// Determinism: Open pins the process to one P and turns the collector off
// while a cluster is open (Target.Hold does it once for a whole campaign),
// and math/rand is reseeded before every event from the run's seed, the
// event and how often it occurred before. That needs `godebug
// randseednop=0` in the main module's go.mod; Open says so when it is
// missing. What stays unseedable is inside raft and the runtime: the order
// in which goroutines woken by a map iteration run, and which ready case a
// select takes.
//
// Your own service: build a Target with NewTarget and Options (your FSM,
// your stores, your raft.Config adjustments, your invariants: Check over
// the FSMs, or CheckNodes over each node's FSM with its Raft facts and the
// leader it knows, so that "two nodes that applied the same index hold the
// same state" needs no bookkeeping in your FSM) and hand it to package fuzz (example_service_test.go is a complete
// example), or to faultlinetest.Fuzz, which fuzzes from an ordinary test and
// keeps what it finds in testdata (example_gotest_test.go).
//
// Panics in your FSM, its snapshots and your stores, and in raft.NewRaft,
// are recovered and reported as NoPanic faults. A panic in raft's own
// goroutines ends the process: the faultline command runs campaigns in
// worker processes for that reason.
package hraft
