// Package casestudies names the targets faultline knows: correct systems, to
// show that fuzzing them finds nothing, and systems with a known bug, to show
// that it finds, replays and (with package minimize) shrinks it.
//
// A study's Target is an interpose.Target; Lookup finds one by the name a
// schedule file or the command line gives.
//
//   - hraft: hashicorp/raft as linked into the binary (v1.8.0 by this
//     module's go.mod; hraft.RaftVersion says which, and the summary shows
//     it), unmodified, with raft's in-memory log, stable and snapshot stores
//     kept across crashes (they are the disk).
//   - hraft-forgetful: the same with a StableStore that keeps CurrentTerm and
//     the vote in a cache a crash loses (ForgetfulStore). A node that crashes
//     after voting can vote again in the same term, and two leaders of one
//     term follow: ElectionSafety.
//
// A study with a workload of its own (the actor Raft's bootstrap, weights
// and client commands) carries it in its Target (fuzz.WithWorkload), so that
// whoever resolves the target by name, a campaign's worker say, fuzzes it
// the same way.
//
// Run is a case study's experiment: fuzz until the violation the case is
// about, minimize it (up to three violations, keeping the smallest), and
// set the result beside DEMi's published figures; Table runs every case
// over several seeds and writes results/casestudies.md. Both fuzz and
// minimize in the worker processes of a campaign.Workers.
package casestudies
