// Package bisect answers a maintainer's first questions about a schedule
// that breaks a hashicorp/raft cluster: which releases show it, which one
// brought it in, and which one took it out.
//
// Run builds the main package of a Go module (faultline's own command, or a
// user's command built on cli.Main) once for each hashicorp/raft release it
// tests, in a temporary module file that replaces the library with that
// release (go build -modfile, with the build tag of the release's API
// generation, hraft.Generations), and runs the built command on the
// schedule: `replay` Repeat times (each delivery matched by its whole
// fingerprint, a schedule with storage faults replayed timed), and unless
// every replay showed the violation, `replay --wildcard` Repeat times more
// (a release's messages may carry other values than the recording's, so
// deliveries are matched by type where they must be, as the minimizer
// does), the better of the two the answer; or, with Options.Fuzz, `fuzz
// --want` for that long on the schedule's target, for a bug whose schedule
// does not carry over. A release shows the violation when one replay (or
// the fuzzer) shows the schedule's fingerprint.
//
// It tests the newest and the oldest release of the range, then, where
// their answers differ, bisects between them, as git bisect does; with
// Options.All it tests every release. A release that cannot be fetched or
// built is a row of the report saying why, and the search steps around it.
// A bug that came in and went out again between two tested releases is seen
// only with All.
//
// The releases are those the Go module proxy lists for
// github.com/hashicorp/raft together with those faultline knows were
// published (the proxy's list can be partial); everything goes through the
// go command, so the module proxy and the local module cache are all it
// needs. Bad input (a release that does not exist, a range in the wrong
// order, a schedule of a target that does not run hashicorp/raft) is an
// error wrapping ErrInput, returned before anything is built.
package bisect
