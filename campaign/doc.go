// Package campaign is the durable record of a long fuzzing campaign: a badger
// store in the campaign's directory that holds its configuration, which
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
// Only one process opens a store at a time (badger locks the directory). A
// running campaign also writes a snapshot of its status next to the store,
// which Snapshot reads for status and list while the store is locked.
//
// Merge copies the pieces and violations of other stores of the same
// campaign (same target, seed, chunk size and workload) into a store:
// a piece already present is skipped, so hit counts are never counted twice.
package campaign
