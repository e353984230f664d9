// Package measure runs the experiments behind faultline's published
// figures: the time to the first violation over several seeds (TTF), a
// target's replay rate (Replay), minimizing long failures with and without
// every phase (Minimize), campaign throughput with one and two workers
// (Scaling), the time to the first violation of each exploration
// strategy (Strategies), and where a walk's CPU time goes: the system's
// own code, the Go runtime, reseeding, faultline (Costs, which the
// benchmarks *WalkCost report). `faultline measure` wires its flags to them and
// the tables they write are committed under results/, each with the
// command that made it, so a reader can rerun it.
//
// Contract: an experiment reads the wall clock to time what it measures and
// nothing else; the runs it makes are the same for the same seeds. The
// experiments that need worker processes (Minimize, Scaling, Strategies)
// take a campaign.Workers and return campaign.ErrNoWorkers without one.
// Each Write function renders a result as the table under results/, with
// the command line it is given at its top.
package measure
