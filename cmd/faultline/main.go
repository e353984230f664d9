//go:debug randseednop=0

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// exitError carries an exit code: 1 for a finding (a violation found, a replay
// that did not reproduce), 2 for bad usage or input.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func inputErr(err error) error { return &exitError{code: 2, err: err} }

// errFinding is returned, after the output is written, when the exit code must
// be 1.
var errFinding = &exitError{code: 1, err: errors.New("finding")}

// app is the CLI with its outside world: where output goes and how a run gets
// the *testing.T that testing/synctest needs.
type app struct {
	stdout, stderr io.Writer
	// withT runs fn under a *testing.T and returns its result.
	withT func(fn func(t *testing.T) error) error
	// tty reports whether progress should be drawn on stderr.
	tty bool
	// argv is the command line, recorded in schedules.
	argv []string
	// self is the path of the faultline binary, for worker processes ("":
	// run campaigns in this process, as tests do).
	self string
}

func main() {
	a := &app{
		stdout: os.Stdout,
		stderr: os.Stderr,
		withT:  viaTestingMain,
		tty:    isatty.IsTerminal(os.Stderr.Fd()),
		argv:   os.Args,
	}
	if exe, err := os.Executable(); err == nil {
		a.self = exe
	}
	os.Exit(a.run(os.Args[1:]))
}

// viaTestingMain runs fn as the only test of testing.Main, which is how a
// command outside `go test` gets a *testing.T (synctest.Test needs one).
// testing.Main ends the process, so fn's outcome leaves through os.Exit.
func viaTestingMain(fn func(t *testing.T) error) error {
	os.Args = os.Args[:1] // testing.Main parses the command line as test flags
	testing.Main(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: "faultline", F: func(t *testing.T) {
			os.Exit(exitCode(fn(t), os.Stderr))
		}}}, nil, nil)
	return errors.New("testing.Main returned")
}

func (a *app) run(args []string) int {
	root := a.root()
	root.SetArgs(args)
	err := root.Execute()
	return exitCode(err, a.stderr)
}

// exitCode maps an error to the process's exit code, printing it on stderr
// (when given) as one line.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee != errFinding && stderr != nil {
			fmt.Fprintf(stderr, "faultline: %v\n", err)
		}
		return ee.code
	}
	// Anything else comes from cobra: bad usage.
	if stderr != nil {
		fmt.Fprintf(stderr, "faultline: %v\n", err)
	}
	return 2
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "faultline",
		Short: "Fuzz, replay and minimize faulty executions of a Raft cluster",
		Long: `faultline takes over every message delivery, timer and crash of an unmodified
hashicorp/raft cluster, so that one execution becomes a schedule that can be
recorded, replayed exactly, and shrunk. The fuzzer hunts schedules that break
an invariant and saves each one to a file.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%s: %v (see %s --help)", c.CommandPath(), err, c.CommandPath())
	})
	root.AddCommand(a.targetsCmd(), a.fuzzCmd(), a.replayCmd(), a.showCmd(), a.minimizeCmd(), a.measureCmd(), a.casestudyCmd(), a.reportCmd(), a.campaignCmd())
	return root
}
