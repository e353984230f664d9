package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/faultline-dev/faultline/report"
)

func (a *app) reportCmd() *cobra.Command {
	var format, out string
	c := &cobra.Command{
		Use:   "report FILE",
		Short: "Render a schedule as a bug report: Markdown with a sequence diagram, the diagram alone, or text",
		Long: `report renders a schedule file (usually a minimized one) for a bug report.
Every format is a rendering of the file, never a second source of truth.

  markdown  the violation in plain words, the environment, the replay command,
            a Mermaid sequence diagram, each node's state at the violation and
            the schedule's statistics (the default)
  mermaid   the sequence diagram alone
  svg       a space-time diagram, viewable in any browser: a line per node,
            arrows for deliveries, marks for crashes and recoveries, shading
            for partitions, roles and terms as they change, the violation
            highlighted (from replaying the schedule once)
  shiviz    a log ShiViz reads: its regular expression on the first line, then
            per event the text, the node and a vector clock (happens-before
            comes from replaying the schedule once)
  json      the schedule and each node's state after every event (from
            replaying the schedule once), for scripts
  text      what faultline show prints`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if !slices.Contains(report.Formats, format) {
				return usageErr("report: --format %q: want one of %s", format, strings.Join(report.Formats, ", "))
			}
			s, err := interpose.ReadFile(args[0])
			if err != nil {
				return inputErr(err)
			}
			emit := func(b *bytes.Buffer) error {
				if out == "" {
					_, err := a.stdout.Write(b.Bytes())
					return err
				}
				if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
					return fmt.Errorf("report: %w", err)
				}
				fmt.Fprintf(a.stdout, "report: %s\n", out)
				return nil
			}
			var b bytes.Buffer
			if !report.Replays(format) {
				if err := report.Render(&b, format, args[0], s, a.env(args[0]), nil, nil); err != nil {
					return err
				}
				return emit(&b)
			}
			if v := s.Violation; v != nil && v.Crash {
				return inputErr(fmt.Errorf("report: %s ended in a crash of the process that ran it; --format %s replays it, which would end this one: use markdown, mermaid or text", args[0], format))
			}
			study, err := a.catalog.lookup(s.Target.Name)
			if err != nil {
				return inputErr(fmt.Errorf("report: %w", err))
			}
			// Under the command, withT ends the process with fn's outcome.
			return a.withT(func(t *testing.T) error {
				if err := report.Render(&b, format, args[0], s, a.env(args[0]), t, study.Target); err != nil {
					return err
				}
				return emit(&b)
			})
		},
	}
	c.Flags().StringVar(&format, "format", "markdown", "markdown, mermaid, svg, shiviz, json or text")
	c.Flags().StringVar(&out, "out", "", "write the report to this file instead of standard output")
	return c
}

// writeReport writes the Markdown report of the schedule file at path next
// to it (the same name, .md for .json) and returns its path.
func (a *app) writeReport(path string) (string, error) {
	return report.WriteMarkdown(path, a.env(path))
}

// env is what reports say of this program: the faultline and Go versions,
// and the command that replays the schedule at path; and the model of its
// target, when it has one, to draw the history of the service's own
// operations.
func (a *app) env(path string) report.Env {
	env := report.CurrentEnv()
	if a.name() != "faultline" {
		env.Replay = a.name() + " replay " + filepath.Base(path)
	}
	if s, err := interpose.ReadFile(path); err == nil && len(s.History) > 0 {
		if study, err := a.catalog.lookup(s.Target.Name); err == nil {
			env.Model = invariants.ModelOf(study.Target)
		}
	}
	return env
}
