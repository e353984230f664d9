package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/interpose"
)

// Main runs the faultline command line over the built-in targets and the
// given ones, and exits. Each of your targets gets every command a built-in
// target gets: fuzz, replay, show, minimize, report, measure and campaign,
// whose worker processes re-execute this same binary. A target that
// implements fuzz.Workloader (see fuzz.WithWorkload) is fuzzed with its own
// client operations and weights by default.
//
// Your main package's go.mod needs `godebug randseednop=0`, so that raft's
// random timeouts can be reseeded and runs replayed.
func Main(targets ...interpose.Target) {
	a := &app{
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		withT:   viaTestingMain,
		tty:     isatty.IsTerminal(os.Stderr.Fd()),
		argv:    os.Args,
		program: filepath.Base(os.Args[0]),
	}
	if exe, err := os.Executable(); err == nil {
		a.self = exe
	}
	cat, err := newCatalog(targets)
	if err != nil {
		fmt.Fprintf(os.Stderr, "faultline: %v\n", err)
		os.Exit(2)
	}
	a.catalog = cat
	os.Exit(a.run(os.Args[1:]))
}

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

// errInterrupted ends a campaign stopped at once by a second interrupt.
var errInterrupted = &exitError{code: 130, err: errors.New("campaign: interrupted")}

// app is the command line with its outside world: where output goes and how
// a run gets the *testing.T that testing/synctest needs.
type app struct {
	stdout, stderr io.Writer
	// withT runs fn under a *testing.T and returns its result.
	withT func(fn func(t *testing.T) error) error
	// tty reports whether progress should be drawn on stderr.
	tty bool
	// argv is the command line, recorded in schedules.
	argv []string
	// self is the path of this binary, for worker processes ("": run
	// everything in this process, as tests do).
	self string
	// program is this binary's name in the commands it prints ("":
	// faultline).
	program string
	catalog *catalog
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
	if a.catalog == nil {
		a.catalog, _ = newCatalog(nil)
	}
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
			fmt.Fprintf(stderr, "faultline: %v\n", oneLine(err.Error()))
		}
		return ee.code
	}
	// Anything else comes from cobra or from a run: bad usage or input.
	if stderr != nil {
		fmt.Fprintf(stderr, "faultline: %v\n", oneLine(err.Error()))
	}
	return 2
}

// oneLine joins the lines of a message, so that every error is one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(strings.TrimSpace(s))
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   a.name(),
		Short: "Fuzz, replay and minimize faulty executions of a Raft cluster",
		Long: `faultline takes over every message delivery, timer and crash of an unmodified
hashicorp/raft cluster (or a system on faultline's actor runtime), so that one
execution becomes a schedule that can be recorded, replayed exactly, and
shrunk. The fuzzer hunts schedules that break an invariant and saves each one
to a file.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%s: %v (see %s --help)", path(c), err, c.CommandPath())
	})
	root.AddCommand(a.targetsCmd(), a.fuzzCmd(), a.replayCmd(), a.showCmd(), a.minimizeCmd(), a.measureCmd(),
		a.casestudyCmd(), a.reportCmd(), a.campaignCmd(), a.bisectCmd(), a.workerCmd())
	for _, c := range root.Commands() {
		strict(c)
	}
	return root
}

// strict makes every error about a command's arguments name the command and
// its usage, and a group of commands (campaign, casestudy, measure) refuse
// an unknown subcommand instead of printing its help and exiting 0.
func strict(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strict(sub)
	}
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(c *cobra.Command, args []string) error {
			var names []string
			for _, sub := range c.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			if len(args) == 0 {
				return usageErr("%s: want a subcommand: %s", path(c), strings.Join(names, ", "))
			}
			return usageErr("%s: unknown subcommand %q (want %s)", path(c), cut(args[0]), strings.Join(names, ", "))
		}
		return
	}
	if check := c.Args; check != nil {
		c.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageErr("%s: %v (usage: %s)", path(c), err, c.UseLine())
			}
			return nil
		}
	}
}

// path is a command's path without the program's name ("campaign start").
func path(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// cut shortens what a user typed for an error message.
func cut(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// name is the program's name in the commands it prints.
func (a *app) name() string {
	if a.program == "" {
		return "faultline"
	}
	return a.program
}

// command is the command line as typed, for schedules' origins and reports.
func (a *app) command() string {
	if len(a.argv) == 0 {
		return a.name()
	}
	args := []string{a.name()}
	for _, arg := range a.argv[1:] {
		args = append(args, shellQuote(arg))
	}
	return strings.Join(args, " ")
}

// shellQuote quotes an argument a shell would not pass on as it is (an
// empty one, one with spaces or quotes), so that the command line printed
// runs again.
func shellQuote(arg string) string {
	if arg != "" && !strings.ContainsAny(arg, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return arg
	}
	return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
}

// workerCommand is the hidden command a worker process runs.
const workerCommand = "worker"

// workers are the worker processes of this run: this binary, re-executed
// with the hidden worker command; none under tests (self unset), where t
// runs everything in this process.
func (a *app) workers(t *testing.T) *campaign.Workers {
	w := &campaign.Workers{T: t}
	if a.self != "" {
		self := a.self
		w.Command = func(dir string) *exec.Cmd { return exec.Command(self, workerCommand, dir) }
	}
	return w
}

func (a *app) workerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    workerCommand + " DIR",
		Short:  "Run the job in DIR as a worker process (internal)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withT(func(t *testing.T) error {
				return campaign.Work(campaign.Env{T: t, Lookup: a.catalog.target}, args[0])
			})
		},
	}
}

// writable checks, before any work, that a file can be written at path: its
// directory exists and takes a new file.
func writable(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("its directory: %w", cause(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".faultline-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, cause(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// cause is what a path error says without its path, which the caller names
// itself.
func cause(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}
