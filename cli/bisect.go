package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/bisect"
)

func (a *app) bisectCmd() *cobra.Command {
	var (
		releases string
		opts     bisect.Options
		asJSON   bool
		out      string
	)
	c := &cobra.Command{
		Use:   "bisect SCHEDULE",
		Short: "Find which hashicorp/raft releases show a schedule's violation, and where it came in or went out",
		Long: `bisect builds this command once for each hashicorp/raft release it tests (a
temporary module file that replaces the library with the release, and the
build tag of the release's API generation), and replays the schedule there
--repeat times as replay does, then, unless every replay showed the
violation, --repeat times with --wildcard (a release's messages may carry
other values, so a delivery is matched by type where it must be); the
better of the two is the release's answer. It tests the
newest and the oldest release of --releases, then bisects where their
answers differ; --all tests every release. --fuzz D fuzzes each release for
D on the schedule's target, looking for the same fingerprint, for a bug
whose schedule does not carry over to other releases.

It prints a table, release by release, and the first release that shows the
violation and the first that no longer does. A release that cannot be
fetched or built is a row saying why. It builds the module of the current
directory (faultline's, or yours that calls cli.Main: --module names
another), through the go command, the module proxy and the module cache.

Exit status: 0 with the table, 2 on bad usage or input (a release that does
not exist, a range in the wrong order, a schedule of a target that does not
run hashicorp/raft).`,
		Example: `  faultline bisect casestudies/testdata/hraft.min.json --releases v1.1.0..v1.8.0
  faultline bisect found.json --fuzz 30s --all --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := bisect.ParseRange(releases)
			if err != nil {
				return inputErr(err)
			}
			if opts.Repeat < 1 {
				return usageErr("bisect: --repeat %d: want at least 1", opts.Repeat)
			}
			if opts.Fuzz < 0 {
				return usageErr("bisect: --fuzz %s: want a positive duration", opts.Fuzz)
			}
			if out != "" {
				if err := writable(out); err != nil {
					return inputErr(err)
				}
			}
			opts.Releases = r
			if opts.Main == "" {
				opts.Main = mainPackage()
			}
			opts.Progress = a.stderr
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := bisect.Run(ctx, args[0], opts)
			if errors.Is(err, bisect.ErrInput) {
				return inputErr(err)
			}
			if err != nil {
				return err
			}
			if out != "" {
				if err := a.writeOut(out, func(w io.Writer) error { return bisect.Write(w, rep, a.command()) }); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(a.stdout, rep)
			}
			return bisect.Write(a.stdout, rep, "")
		},
	}
	f := c.Flags()
	f.StringVar(&releases, "releases", "", "releases to test, oldest..newest (v1.1.0..v1.8.0; an open end is the oldest or newest; one release alone); default every release from v1.1.0")
	f.IntVar(&opts.Repeat, "repeat", 5, "replays on each release")
	f.DurationVar(&opts.Fuzz, "fuzz", 0, "fuzz each release this long on the schedule's target, looking for its fingerprint, instead of replaying it")
	f.Uint64Var(&opts.Seed, "seed", 1, "the fuzzer's seed with --fuzz")
	f.BoolVar(&opts.All, "all", false, "test every release of the range instead of bisecting")
	f.StringVar(&opts.Module, "module", "", "directory of the Go module to build (default: the module of the current directory)")
	f.StringVar(&opts.Main, "main", "", "main package to build, which runs faultline's command line (default: this command's own)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringVar(&out, "out", "", "also write the table as Markdown to this file, headed by the command")
	return c
}

// mainPackage is the import path of this command's main package, which
// bisect rebuilds against each release ("" when the binary does not say,
// as a test binary does not: bisect's default, ./cmd/faultline).
func mainPackage() string {
	if bi, ok := debug.ReadBuildInfo(); ok && !strings.HasSuffix(bi.Path, ".test") && bi.Path != "command-line-arguments" {
		return bi.Path
	}
	return ""
}
