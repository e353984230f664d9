// Package minimize shrinks a faulty schedule to the few events that matter,
// keeping the same violation (its fingerprint), after DEMi (Scott et al.,
// NSDI'16).
//
// Every candidate is judged by execution: it counts when any of k replays
// (Options.Replays) shows the violation's fingerprint, replaying exactly
// and with DEMi's type-only wildcard in turn; the last of the k is a search
// by package dpor, which replays the candidate with the wildcard and then
// reorders its racing deliveries and timer firings, nearest first, within
// Options.DPOR executions. An execution that shows the violation yields the
// schedule as it was applied, without the events that could not happen and
// cut at the violation; that schedule replaces the current one, so each
// accepted step can only shrink it. An interleaving the search found must
// replay exactly once more before it is accepted. An input whose known
// upstream label rests on its cause, not its fingerprint alone (a liveness
// monitor's name is shared by every cause: invariants.KnownBug State and
// Phase, #635's and #696's), counts only while the replay keeps that label
// (invariants.UpstreamIn), so that the result is the same bug.
//
// The phases, repeated while the schedule shrinks and the budget lasts:
//
//   - prefixes: the earliest internal events at once (with the external
//     events among them, else without), the longest run that reproduces;
//   - term clusters: every delivery that carries one Raft term, removed at
//     once, latest term first;
//   - internals: deliveries, drops, duplicates and clock advances removed
//     one at a time, latest first;
//   - subtrees: each internal event with everything that follows from it
//     (package dpor's Causes: the deliveries of the messages it sent, and
//     of theirs);
//   - externals: ddmin over the external events (starts, crashes,
//     recoveries, client operations, partitions and heals, membership
//     changes, leadership transfers), internal events kept;
//   - nodes: the highest-numbered node and the events that mention it, while
//     the bug does not need it;
//   - chunks and internals ddmin, for schedules of at most 400 events: runs
//     of consecutive events, then ddmin over the internal events;
//   - contents: client payloads emptied or halved.
//
// A schedule that does not reproduce at the start is reported as flaky and
// returned as it is. The result is checked again with FinalRuns replays and
// records where it came from (the input's hash) and the statistics of every
// phase. Nothing in it is random: the searches' walks are seeded by the
// candidate, so for one input the same executions give the same result.
package minimize
