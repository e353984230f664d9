package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/dpor"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/report"
)

// reportFormats are the formats `faultline report` renders so far.
var reportFormats = []string{"markdown", "mermaid", "svg", "shiviz", "json", "text"}

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
			if !slices.Contains(reportFormats, format) {
				return usageErr("report: --format %q: want one of %s", format, strings.Join(reportFormats, ", "))
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
			if format == "shiviz" || format == "json" || format == "svg" {
				study, err := casestudies.Lookup(s.Target.Name)
				if err != nil {
					return inputErr(fmt.Errorf("report: %w", err))
				}
				// Under the command, withT ends the process with fn's outcome.
				return a.withT(func(t *testing.T) error {
					render := shiviz
					switch format {
					case "json":
						render = jsonReport
					case "svg":
						render = svgReport
					}
					if err := render(&b, t, study.Target, s); err != nil {
						return err
					}
					return emit(&b)
				})
			}
			if err := renderReport(&b, format, args[0], s, report.CurrentEnv()); err != nil {
				return err
			}
			return emit(&b)
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

// shivizRegexp is the regular expression ShiViz parses the log with.
const shivizRegexp = `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`

// shiviz writes the schedule as a ShiViz log. Vector clocks follow
// happens-before: a node's events are ordered, and a delivery comes after
// the event that sent its message, as one exact replay of the schedule
// shows (package dpor's Causes). Partitions and heals are events of the
// network.
func shiviz(w io.Writer, t *testing.T, target interpose.Target, s *interpose.Schedule) error {
	from, err := senders(t, target, s)
	if err != nil {
		return err
	}
	applied := s.Events
	host := func(e interpose.Event) string {
		if n := e.At(); n > 0 && e.Kind != interpose.Partition && e.Kind != interpose.Heal {
			return "n" + strconv.Itoa(n)
		}
		return "network"
	}
	clocks := make([]map[string]int, len(applied))
	last := map[string]map[string]int{}
	fmt.Fprintln(w, shivizRegexp)
	for i, e := range applied {
		h := host(e)
		vc := map[string]int{}
		for k, v := range last[h] {
			vc[k] = v
		}
		if j := from[i]; j >= 0 {
			for k, v := range clocks[j] {
				vc[k] = max(vc[k], v)
			}
		}
		vc[h]++
		clocks[i], last[h] = vc, vc
		clock, err := json.Marshal(vc)
		if err != nil {
			return err
		}
		text := e.String()
		if r := s.Events[i].Result; r != "" {
			text += " → " + r
		}
		fmt.Fprintf(w, "%s\n%s %s\n", text, h, clock)
	}
	return nil
}

// jsonReport writes the schedule with each node's state after every event,
// from one exact replay of the schedule.
func jsonReport(w io.Writer, t *testing.T, target interpose.Target, s *interpose.Schedule) error {
	states, err := replayStates(t, target, s)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(struct {
		Schedule *interpose.Schedule    `json:"schedule"`
		States   [][]interpose.NodeView `json:"states"`
	}{s, states}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// replayStates replays the schedule once, exactly (advances by their
// recorded duration), and returns every node's state after each event.
func replayStates(t *testing.T, target interpose.Target, s *interpose.Schedule) ([][]interpose.NodeView, error) {
	sys, err := target.Open(t, s.Target)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer sys.Close()
	ctl := interpose.NewController(sys, nil, s.Target)
	states := make([][]interpose.NodeView, 0, len(s.Events))
	for i, e := range s.Events {
		e.Result = ""
		if _, err := ctl.Step(e); err != nil {
			return nil, fmt.Errorf("report: the schedule no longer replays exactly: event %d (%s): %w", i+1, e, err)
		}
		states = append(states, slices.Clone(sys.View().Nodes))
	}
	return states, nil
}

// senders replays the schedule once, as replayStates does, and returns, for
// each event, the event that sent its message (-1: none).
func senders(t *testing.T, target interpose.Target, s *interpose.Schedule) ([]int, error) {
	open := func() (*interpose.Controller, error) {
		sys, err := target.Open(t, s.Target)
		if err != nil {
			return nil, err
		}
		return interpose.NewController(sys, nil, s.Target), nil
	}
	applied, from, err := dpor.Causes(open, s.Events, true)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if len(applied) != len(s.Events) {
		return nil, fmt.Errorf("report: the schedule no longer replays exactly (%d of %d events applied)", len(applied), len(s.Events))
	}
	return from, nil
}

// svgReport draws a space-time diagram: time flows down, one row per event;
// a vertical line per node; an arrow from the row where a message was sent
// to the row where it was delivered; a cross for a crash, a circle for a
// recovery, a dot for a timer, shading across the rows a partition stands,
// the node's role and term written where they change, and the violation's
// row in red. It is drawn by hand: lines, circles, rectangles and text need
// no library.
func svgReport(w io.Writer, t *testing.T, target interpose.Target, s *interpose.Schedule) error {
	from, err := senders(t, target, s)
	if err != nil {
		return err
	}
	states, err := replayStates(t, target, s)
	if err != nil {
		return err
	}
	const top, row, left, col = 60, 22, 40, 170
	n := s.Target.Nodes
	width := left*2 + col*n + 560
	height := top + row*(len(s.Events)+2)
	x := func(node int) int { return left + col*(node-1) + col/2 }
	y := func(i int) int { return top + row*i + row/2 }
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="monospace" font-size="11">`+"\n", width, height)
	fmt.Fprintf(w, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n")
	fmt.Fprintf(w, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n")
	fmt.Fprintf(w, "<text x=\"%d\" y=\"20\" font-size=\"13\">%s</text>\n", left, xmlText(s.Target.Name+": "+report.Title(s.Violation)))
	// Partitions: shade from the partition's row to the heal's.
	cut := -1
	shade := func(from, to int) {
		fmt.Fprintf(w, "<rect class=\"partition\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fde9c9\"/>\n",
			left, y(from)-row/2, col*n, y(to)-y(from)+row)
	}
	for i, e := range s.Events {
		switch e.Kind {
		case interpose.Partition:
			cut = i
		case interpose.Heal:
			if cut >= 0 {
				shade(cut, i)
				cut = -1
			}
		}
	}
	if cut >= 0 {
		shade(cut, len(s.Events)-1)
	}
	if v := s.Violation; v != nil && v.Step >= 1 && v.Step <= len(s.Events) {
		fmt.Fprintf(w, "<rect class=\"violation\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f8c9c9\"/>\n",
			0, y(v.Step-1)-row/2, width, row)
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" fill=\"#b00\">VIOLATION %s: %s</text>\n", left, y(len(s.Events))+4, xmlText(v.Invariant), xmlText(v.Detail))
	}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">n%d</text>\n", x(i), top-12, i)
		fmt.Fprintf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n", x(i), top-6, x(i), y(len(s.Events)-1)+row/2)
	}
	shown := make([]string, n+1) // the role and term last written per node
	for i, e := range s.Events {
		node := e.At()
		switch {
		case e.Kind == interpose.Deliver && e.Msg != nil && e.Msg.From == e.Msg.To && e.Msg.Key == "timer",
			e.Kind == interpose.Advance:
			fmt.Fprintf(w, "<circle class=\"timer\" cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"#36c\"/>\n", x(node), y(i))
		case e.Kind == interpose.Deliver && e.Msg != nil:
			sy := y(i)
			if j := from[i]; j >= 0 {
				sy = y(j)
			}
			fmt.Fprintf(w, "<line class=\"msg\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\" marker-end=\"url(#arrow)\"><title>%s</title></line>\n",
				x(e.Msg.From), sy, x(e.Msg.To), y(i), xmlText(e.String()))
		case e.Kind == interpose.Crash:
			fmt.Fprintf(w, "<text class=\"crash\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#b00\" font-size=\"15\">✕</text>\n", x(node), y(i)+5)
		case e.Kind == interpose.Recover || e.Kind == interpose.Start:
			fmt.Fprintf(w, "<circle class=\"%s\" cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"none\" stroke=\"#080\"/>\n", e.Kind, x(node), y(i))
		}
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" fill=\"#555\">%d %s</text>\n", left+col*n+10, y(i)+4, i+1, xmlText(e.String()))
		for _, st := range states[i] {
			label := st.Role
			if st.Up {
				label = fmt.Sprintf("%s t%d", st.Role, st.Term)
			}
			if st.Node >= 1 && st.Node <= n && label != shown[st.Node] {
				shown[st.Node] = label
				fmt.Fprintf(w, "<text class=\"role\" x=\"%d\" y=\"%d\" fill=\"#070\">%s</text>\n", x(st.Node)+6, y(i)-3, xmlText(label))
			}
		}
	}
	fmt.Fprintln(w, "</svg>")
	return nil
}

// xmlText escapes text for an SVG document.
func xmlText(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return ""
	}
	return b.String()
}
