// Package ddmin is delta debugging: Zeller and Hildebrandt's ddmin
// ("Simplifying and Isolating Failure-Inducing Input", IEEE TSE 28(2), 2002).
//
// Minimize takes a sequence that makes a test fail and returns a 1-minimal
// failing subsequence: removing any single element of it makes the test
// pass (or leaves it unresolved). It splits the sequence into n parts, tries
// each part ("reduce to subset"), then each complement ("reduce to
// complement", n > 2), and doubles n when neither fails, until n reaches the
// sequence's length.
//
// The test answers Pass, Fail or Unresolved; only Fail counts as failing.
// Candidates are memoized by their set of positions, so each distinct
// candidate is tested once; Result counts tests and memo hits. Options bound
// the number of tests or stop on a condition (a time budget); an early stop
// returns a failing sequence that may not be 1-minimal, with Complete false.
//
// The package knows nothing of Raft or schedules: package minimize calls it
// with external events, then with internal ones.
package ddmin
