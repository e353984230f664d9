package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/interpose"
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
				if err := report.Render(&b, format, args[0], s, report.CurrentEnv(), nil, nil); err != nil {
					return err
				}
				return emit(&b)
			}
			study, err := casestudies.Lookup(s.Target.Name)
			if err != nil {
				return inputErr(fmt.Errorf("report: %w", err))
			}
			// Under the command, withT ends the process with fn's outcome.
			return a.withT(func(t *testing.T) error {
				if err := report.Render(&b, format, args[0], s, report.CurrentEnv(), t, study.Target); err != nil {
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
func writeReport(path string) (string, error) {
	return report.WriteMarkdown(path, report.CurrentEnv())
}

// renderReport renders the formats that need no replay, from the file alone.
func renderReport(w io.Writer, format, path string, s *interpose.Schedule, env report.Env) error {
	switch format {
	case "mermaid":
		return report.Mermaid(w, s)
	case "text":
		return report.Text(w, path, s)
	}
	return report.Markdown(w, path, s, env)
}
