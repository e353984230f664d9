// Command faultline fuzzes, replays, minimizes and reports faulty executions
// of an unmodified hashicorp/raft cluster and of the actor Raft case studies.
//
//	faultline targets [--json]
//	faultline fuzz --target NAME [--nodes N] [--seed S] [--runs K] [--time D] [--events E]
//	               [--keep-going] [--out DIR] [--check-every N] [--check-from N] [--want PREFIX]
//	               [--minimize] [--minimize-budget D] [--json]
//	faultline replay FILE [--repeat R] [--json]
//	faultline show FILE
//	faultline report FILE [--format markdown|mermaid|svg|shiviz|json|text] [--out PATH]
//	faultline minimize FILE [--budget D] [--replays K] [--dpor N] [--externals-only] [--out FILE] [--json]
//	faultline measure ttf --target NAME [--seeds 1-10]
//	faultline measure replay --target NAME [--schedules 20] [--repeat 10] [--violating]
//	faultline measure minimize --target NAME [--seeds 1-10] [--events 2000] [--budget 2m] [--dpor N]
//	faultline casestudy list
//	faultline casestudy run NAME [--seed S] [--budget D] [--out DIR] [--json]
//	faultline casestudy table [--seeds 1-5] [--budget D] [--out FILE]
//
// Exit status: 0 for nothing found (fuzz) or every replay reproduced
// (replay), 1 for a violation found or a replay that did not reproduce, 2 for
// bad usage or input, with one line on stderr.
//
// The command is cli.Main() with no targets of its own: the command line
// lives in package cli, where a program of yours adds its targets to it.
// fuzz, minimize and campaigns run their work in worker processes (this
// binary, re-executed), so that a panic in raft's own goroutines becomes a
// NoPanic violation with its schedule, saved from a journal of the crashed
// run, instead of the end of the command.
package main
