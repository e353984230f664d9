// Package minimize shrinks a faulty schedule to the few events that matter,
// keeping the same violation (its fingerprint), after DEMi (Scott et al.,
// NSDI'16).
//
// Every candidate is judged by replay: a candidate reproduces when any of k
// replays (Options.Replays) shows the violation's fingerprint, replaying
// exactly and with DEMi's type-only wildcard in turn. A replay that
// reproduces yields the schedule as it was applied, without the events that
// could not happen and cut at the violation; that schedule replaces the
// current one, so each accepted step can only shrink it.
//
// The phases, repeated while the schedule shrinks and the budget lasts:
//
//   - externals: ddmin over the external events (starts, crashes,
//     recoveries, client operations, partitions and heals, membership
//     changes, leadership transfers), internal events kept;
//   - term clusters: every delivery that carries one Raft term, removed at
//     once, latest term first;
//   - internals: ddmin over deliveries, drops, duplicates and clock advances;
//   - nodes: the highest-numbered node and the events that mention it, while
//     the bug does not need it.
//
// A schedule that does not reproduce at the start is reported as flaky and
// returned as it is. The result is checked again with FinalRuns replays and
// records where it came from (the input's hash) and the statistics of every
// phase. Nothing in it is random: for one input, the same replays give the
// same result.
package minimize
