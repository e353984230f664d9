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
package casestudies
