// Package faultlinetest fuzzes a raft-based service from an ordinary Go test,
// for a bounded time, keeping what it finds as a corpus, the way `go test`
// treats testdata/fuzz for Go's native fuzzing.
//
//	func TestFuzzBank(t *testing.T) {
//		faultlinetest.Fuzz(t, target, faultlinetest.Options{Time: 10 * time.Second})
//	}
//
// Fuzz does two things, in order:
//
//  1. The corpus. Every *.json file directly in Options.Dir (default
//     testdata/faultline/<test name>) is a schedule and is replayed
//     (Options.Repeat times, fuzz.Replay). One that still shows its recorded
//     violation in any replay fails the test, naming the file, the
//     violation, its report and the command that replays it. One that no
//     longer shows it is logged ("fixed?") and kept: delete it when the fix
//     is in. A file that cannot be read (damaged, another version, another
//     target) fails the test with a one-line reason; a schedule that records
//     no violation is logged and skipped.
//     When anything in the corpus failed, Fuzz stops there: the test has
//     failed already, and fuzzing would find the same bug again.
//  2. Fuzzing, for Options.Time (a fifth of it under -short), with
//     fuzz.Run in worker processes: seeded walks from Options.Seed, stopping at the first
//     violation whose schedule replays. Each violation found is minimized
//     (package minimize, within Options.MinimizeBudget) and saved in the
//     corpus directory as <fingerprint>.json, with its Markdown report
//     (package report) as <fingerprint>.md; the test fails with the
//     invariant, the detail, the report's path and the replay command. A
//     schedule that could not be minimized (the minimizer failed, or did not
//     reproduce it) is saved as found. One file per fingerprint: a
//     schedule of a violation already saved replaces the file only when it
//     is better (steady where the saved one is flaky, or shorter); a suffix
//     (-2, ...) is for another fingerprint whose name is cut the same way.
//     A minimized schedule that reproduced in fewer than all of its final
//     replays is marked flaky (interpose.Minimization.Flaky) and said so; a
//     flaky entry that shows nothing is logged as flaky, not as fixed. Only
//     the saved schedule is kept; the minimized one records its parent's
//     hash.
//
// Commit the corpus directory: the next `go test` replays what was found
// before it looks for anything new, and fails until the bug is fixed.
//
// Liveness is checked by default: each walk ends with a stabilization
// phase judged by liveness monitors (package fuzz; Options.Fuzz.NoLiveness
// turns it off, Permanent and Disk add faults); a liveness failure is
// minimized, saved and replayed from the corpus like any other. With or
// without it, a node stuck for good (a state
// machine whose Apply never returns) fails the test as Liveness:Stuck with
// where its goroutines are blocked, instead of hanging until go test's own
// timeout.
//
// Known upstream bugs: an unmodified hashicorp/raft has open bugs of its own
// that faultline reproduces (invariants.KnownUpstream): #695 breaks
// LogMatching (or ElectionSafety, through a candidate) on raft's heartbeat
// fast path, and #85 panics NewRaft after a stale InstallSnapshot. A correct
// service's test meets #695 within seconds (the README's bank: seed 1, run
// 350). A failure that is one of them says so ("known upstream:
// hashicorp/raft#695 (https://github.com/hashicorp/raft/issues/695)"), and
// so does its report. With Options.PassOverUpstream they do not fail the
// test: the walk passes over them (fuzz.Options.PassOverUpstream, #695
// confirmed by a replay without the fast path), each is logged ("faultline:
// passed over N hits of known upstream: hashicorp/raft#695 ..."), and
// fuzzing goes on for the whole Time; a saved schedule that still shows one
// is logged as well. Fingerprints of Fuzz.Known (a caller's own list) are
// logged too, not minimized or saved, and do not fail the test.
//
// Determinism: what is explored depends only on the seed and the options;
// the Time bound decides how many runs there are, never what they do. Run i
// of seed s is the same walk every time, so the same test on the same code
// finds the same first violation, however fast the machine, when it finds it
// within the bound. (Replays are as exact as the target's: see package
// hraft's notes on determinism.)
//
// The replay command is `go test -run '^TestName$' ./path/to/pkg`, the
// package's directory relative to the module root (the directory holding
// go.mod above the test's working directory), to run from the module root.
//
// Worker processes. Fuzz runs its runs, its replays of schedules that
// crashed a process and its minimizations in worker processes: the test
// binary, re-executed with -test.run naming this test and a
// -faultline.worker flag, as Go's native fuzzing runs its workers. In a
// worker, the test runs up to its Fuzz call, which runs the job and ends the
// process. So a panic in raft's own goroutines ends a worker, not the test
// binary: it is a NoPanic violation (marked crash) with the schedule that
// ends in it, saved and reported like any other, and replayed in workers
// when the corpus is. Two things follow for the test's code: what runs
// before Fuzz must not depend on other tests or subtests (a worker runs only
// this one), and only a test's first call of Fuzz uses workers (give each
// target a test or subtest of its own); a later call runs in the test's
// process, as Options.InProcess makes every call do. A panic in your FSM or
// stores is a NoPanic violation either way (package hraft recovers it).
package faultlinetest
