// Package fuzz hunts schedules that break an invariant, and replays them.
//
// Run performs a campaign: seeded random walks (Walk) over the events that
// are enabled at each step, with weights per kind of event (Weights) and a
// fault budget (at most a minority of nodes down by default). Among pending
// messages it chooses a distinct fingerprint, and the system delivers the
// oldest message that has it: identical fingerprints can belong to different
// waiting goroutines, and this rule is what makes replay by fingerprint
// work. Run i of a campaign with seed s is the same walk every time
// (RunSeed). A walk starts every node, then applies Options.Prologue (an
// actor Raft's bootstrap configuration); timers that an adapter lists as
// pending messages (Message.Timer) are fired under their own weight
// (Weights.Timer) when it is set. CheckEvery and CheckFrom check invariants
// less often, for long failures; Want hunts one violation and passes over
// others.
//
// Options.Strategy changes how a walk picks a message to deliver (the kind
// of event is always drawn by the weights): Random, the uniform choice
// above; PCT, Burckhardt et al.'s probabilistic concurrency testing with
// channels (source, destination) for threads: random priorities, the oldest
// message of the top channel delivered, and at d-1 random steps the channel
// just delivered drops below all others (timers still fire at the random
// walk's rate: an armed timer is always pending and would otherwise starve
// every message); Portfolio, run i taking random, PCT depth 3 and PCT depth
// 10 in turn; Swarm, each run's own fault mix, client rate and length
// drawn from its seed (SwarmWeights, RunEvents), the command line's default
// since it was measured ahead on the slow bugs; Guided, runs extended from
// a corpus of runs that reached something new. The zero value walks
// Random. Findings and schedule origins record the strategy of their run
// (and a swarm run's mix and length bound). The random walk of a seed is
// the same with or without strategies (a test pins it).
//
// A violation stops the campaign unless KeepGoing; distinct violations are
// told apart by fingerprint and counted. Options.Known names fingerprints a
// caller (a campaign's store) has already recorded: they are counted but
// neither confirmed nor kept, and do not stop the campaign. Before a
// violating schedule is saved, Confirm replays it and keeps a replay that
// then reproduces several times in a row; a violation with none is saved and
// marked flaky.
//
// Known upstream bugs: a correct service on an unmodified hashicorp/raft
// still meets raft's own open bugs (invariants.KnownUpstream). Upstream
// tells whether a schedule's violation is one: the table's match, and for
// a bug of the heartbeat fast path (#695) a replay without the fast path
// that must no longer show it. A new violation found is labelled with the
// bug it is (Found.Upstream). Options.PassOverUpstream passes over them
// inside a walk, as Want passes over others, so that a later violation of
// the same run is still caught; what was passed over is confirmed after the
// walk and counted (Result.PassedOver), and a match that is not confirmed
// is the run's violation after all. The replays cost a few milliseconds per
// hit, and hits are rare (#695: about one run in 1,200 on hraft).
//
// Replay and ReplayFile replay a schedule and count the runs that show its
// violation fingerprint. MeasureReplay records schedules and replays each
// several times, counting identical replays: every target's replay rate.
//
// A target's default workload (Workload: its client payloads, weights,
// prologue and run length) travels with the target: WithWorkload wraps a
// target with one, WorkloadOf and ApplyWorkload read it, so that a campaign's
// workers, the command line and faultlinetest fuzz it the same way.
// Options serialize to JSON but for their functions, which is how a worker
// process receives them.
//
// Liveness is checked by default (Options.NoLiveness turns it off): each
// walk is followed by a stabilization phase (interpose/stabilize.go): a
// Stabilize event, the faults healed, then rounds of fair progress (every
// message delivered until the network is quiet, a write through the
// leader, time for the leader or, without one, for each node in turn),
// bounded in election timeouts of virtual time, ending early once no
// liveness monitor is hot; a monitor still hot is the run's violation. Replays of a schedule with a phase judge liveness too.
// Options.Permanent keeps one fault through the phase (a node isolated,
// muted or down, drawn per run); Options.Disk draws storage faults
// (interpose.Disk) in the walk. Result.Monitors counts the runs in which
// each monitor turned hot. Every run ends with Controller.Finish, which
// stops a Stopper's nodes: a node that cannot stop is Liveness:Stuck.
//
// Options structs work at their zero value. Campaign control reads the wall
// clock (for Time and progress); runs never do.
package fuzz
