// Package campaign runs faultline's long work in worker processes and keeps
// a long fuzzing campaign's durable record: a badger store in the campaign's directory that holds its configuration, which
// pieces of the run space are done, run statistics, and every distinct
// violation (deduplicated by fingerprint) with its hit count, the first
// schedule that showed it and, once minimized, its minimized schedule and
// Markdown report.
//
// The run space of a campaign is the run indices 0, 1, 2, ... of its seed
// (run i explores fuzz.RunSeed(seed, i)), cut into chunks of Config.Chunk
// runs. Shard I of N owns the chunks k with k mod N = I, so N machines run one
// campaign without overlap. A worker reports a finished piece (a chunk, or
// part of one when a run crashed the worker) with what it found; Record
// stores the piece, its statistics and its hits in one transaction, so that a
// campaign killed at any moment loses at most the pieces in flight, and
// recording a piece twice changes nothing. Plan gives the pieces still to run
// after a restart: holes first, then new chunks.
//
// Only one process opens a store for writing at a time (badger locks the
// directory). A running campaign also writes a snapshot of its status next
// to the store, which Load reads for status, list and show while the store
// is locked. Otherwise they read the store through OpenRead, which never
// changes a byte of it: it checks the store whole without badger, then
// opens a private copy. A damaged store (a MANIFEST missing or cut short, a
// table missing, cut short or corrupted, a value log that does not match
// its checksums) is ErrDamaged, one line naming the file, for reading and
// for writing alike: badger itself would repair it by deleting what it
// cannot read.
//
// Merge copies the pieces and violations of other stores of the same
// campaign (same target, seed, chunk size and workload) into a store:
// a piece already present is skipped, so hit counts are never counted twice.
//
// Worker processes. Workers starts them: the same program, re-executed (its
// Command), so that a panic in a goroutine faultline does not own (raft's
// own) ends a worker, not the program, as Go's own fuzzer runs its workers.
// Each worker has a directory; the parent writes the Job there (job.json)
// and the re-executed program calls Work, which reads it and runs it with
// the targets and checker of its Env. The cli package's binaries re-execute
// themselves with a hidden command; faultlinetest re-executes the test
// binary with the test's name. A job is one of:
//
//   - fuzz: a range of runs, progress and the index of the run in progress
//     written to the directory before each run, the result at the end
//     (Workers.Fuzz supervises it);
//   - journal: one run, each event journaled before it is applied, so that
//     a run that kills its worker leaves the schedule that ends in the crash;
//   - serve: a campaign's worker, answering requests for ranges of runs on
//     a pipe (file descriptors 3 and 4), one line of JSON each way;
//   - replay: one replay of a schedule, which may crash the process
//     (Workers.ReplayCrash counts the workers that crashed its way);
//   - minimize: a minimization checkpointed in the directory, so that a
//     candidate that crashes its worker is skipped by the next one
//     (Workers.Minimize);
//   - baseline: a run of the real-clock baseline (package baseline), whose
//     raft may panic in its own goroutines as a test process's would
//     (Workers.Baseline reports that crash);
//   - profile: a range of runs under a CPU profile, written in stretches
//     (a profile and a result each), so that a worker that dies loses only
//     the stretch it was in (Workers.Profile goes on after the run, and
//     halves the stretches while whole ones die).
//
// A worker's death is parsed from its stderr: a panic or fatal error is a
// NoPanic finding whose fingerprint is the message with its numbers masked
// and the function that panicked; a run that failed with an error (a node's
// bubble that deadlocked) is a Fatal one.
//
// Run is a campaign's coordinator: it hands the planner's chunks to its
// workers, records each piece, and minimizes each new violation in the
// background, one at a time, in worker processes of its own, storing the
// minimized schedule and its Markdown report. Stop (or the session's time)
// ends a session after the runs in flight and the minimization in
// progress; the violations not minimized yet stay pending for the next
// session (RunOptions.WaitMinimize: minimize them first, as a session
// that RunOptions.StopAt stopped does). Abort kills every
// worker at once. Every process a campaign starts dies with it, kill -9
// included; the temporary directories of processes killed are removed by
// the next session (RemoveStale). Status, WriteStatus and WriteViolations render what a store holds.
package campaign
