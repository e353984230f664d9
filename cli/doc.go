// Package cli is faultline's whole command line as a library. cli.Main()
// is the faultline command; cli.Main(yours...) is the same command line with
// your targets added beside the built-in ones, so that a ten-line main of
// yours gives your own service every command faultline has:
//
//	func main() {
//		cli.Main(fuzz.WithWorkload(hraft.NewTarget("bank", "", hraft.Options{...}),
//			&fuzz.Workload{Clients: []string{"a,b,10", "b,c,5"}}))
//	}
//
//	mysvc-faultline targets [--json]
//	mysvc-faultline fuzz --target NAME [flags]
//	mysvc-faultline replay|show|minimize|report FILE [flags]
//	mysvc-faultline campaign start|resume|status|list|show|merge [flags]
//	mysvc-faultline measure ttf|replay|minimize|scaling|strategies [flags]
//	mysvc-faultline casestudy list|run|table [flags]
//
// Contract: this package declares commands and flags and calls the packages
// that do the work (fuzz, minimize, report, campaign, casestudies,
// measure); it holds no logic of its own beyond checking flags and printing
// results. Every command prints one line on stderr and exits 2 on bad usage
// or input, exits 1 on a finding (a violation found, a replay that did not
// reproduce) and 0 otherwise.
//
// Work that may crash the process runs in worker processes: this same
// binary, re-executed with a hidden `worker DIR` command that runs the job
// campaign.Work reads from DIR. That is why a target must be given to Main
// in every process of the program, and why its name must be unique. The
// commands print replay commands with this binary's name.
//
// testing/synctest needs a *testing.T, so the commands that run systems run
// as the only test of testing.Main, which then ends the process.
package cli
