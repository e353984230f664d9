package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/dpor"
	"github.com/faultline-dev/faultline/interpose"
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
			if err := renderReport(&b, format, args[0], s, currentEnv()); err != nil {
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
	s, err := interpose.ReadFile(path)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := markdownReport(&b, path, s, currentEnv()); err != nil {
		return "", err
	}
	out := strings.TrimSuffix(path, ".json") + ".md"
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return "", err
	}
	return out, nil
}

// reportEnv is what a report says about the tools that made it.
type reportEnv struct {
	Faultline, Go string
}

// currentEnv describes this binary: the module version (or the VCS revision
// of a build from source) and the Go version.
func currentEnv() reportEnv {
	env := reportEnv{Faultline: "(devel)", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		env.Faultline = bi.Main.Version
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" && len(st.Value) >= 12 {
				env.Faultline += " " + st.Value[:12]
			}
		}
	}
	return env
}

func renderReport(w io.Writer, format, path string, s *interpose.Schedule, env reportEnv) error {
	switch format {
	case "mermaid":
		return mermaid(w, s)
	case "text":
		return show(w, path, s)
	}
	return markdownReport(w, path, s, env)
}

// plain names a violated invariant in plain words.
func plain(v *interpose.Violation) string {
	if v == nil {
		return "No violation"
	}
	switch v.Invariant {
	case "ElectionSafety":
		return "Two leaders in one term"
	case "LogMatching":
		return "Two logs hold different entries at the same index and term"
	case "LeaderCompleteness":
		return "A leader lacks an entry committed before its term"
	case "StateMachineSafety":
		return "Two nodes applied different entries at the same index"
	case "LeaderAppendOnly":
		return "A leader overwrote or deleted entries of its own log"
	case "NoPanic":
		return "A node panicked"
	}
	return "Invariant " + v.Invariant + " broken"
}

func markdownReport(w io.Writer, path string, s *interpose.Schedule, env reportEnv) error {
	v := s.Violation
	fmt.Fprintf(w, "# %s", plain(v))
	if v != nil {
		fmt.Fprintf(w, " (%s)", v.Invariant)
	}
	fmt.Fprintf(w, "\n\n")
	if v != nil {
		fmt.Fprintf(w, "%s, after event %d of %d.\n\n", v.Detail, v.Step, len(s.Events))
	}
	t := s.Target
	fmt.Fprintf(w, "## Environment\n\n")
	fmt.Fprintf(w, "- faultline %s, %s\n", env.Faultline, env.Go)
	if r := t.Config["raft"]; r != "" {
		fmt.Fprintf(w, "- %s\n", r)
	}
	fmt.Fprintf(w, "- target `%s`, %d nodes, seed %d", t.Name, t.Nodes, t.Seed)
	if t.Bug != "" {
		fmt.Fprintf(w, ", injected bug `%s`", t.Bug)
	}
	fmt.Fprintln(w)
	if len(t.Config) > 0 {
		keys := make([]string, 0, len(t.Config))
		for k := range t.Config {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = "`" + k + "=" + t.Config[k] + "`"
		}
		fmt.Fprintf(w, "- configuration: %s\n", strings.Join(parts, ", "))
	}
	if o := s.Origin; o != nil && o.Command != "" {
		fmt.Fprintf(w, "- made by `%s`\n", o.Command)
	}
	fmt.Fprintf(w, "\n## Replay\n\n```sh\nfaultline replay %s\n```\n\n", filepath.Base(path))
	fmt.Fprintf(w, "## What happened\n\n```mermaid\n")
	if err := mermaid(w, s); err != nil {
		return err
	}
	fmt.Fprintf(w, "```\n\n")
	if len(s.Final) > 0 {
		fmt.Fprintf(w, "## State at the violation\n\n")
		tb := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewMarkdown()), tablewriter.WithHeaderAutoFormat(tw.Off))
		if err := finalTable(tb, s.Final); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "## Schedule\n\n")
	fmt.Fprintf(w, "`%s`: %d events, %d of them external", filepath.Base(path), len(s.Events), s.Externals())
	if m := s.Minimization; m != nil {
		fmt.Fprintf(w, "; minimized from %d events (%d external) with %d replays in %.1f s, reproduced %d of %d",
			m.InitialEvents, m.InitialExternals, m.Replays, m.ElapsedS, m.Reproduced, m.Runs)
	}
	fmt.Fprintf(w, ".\n")
	if v != nil {
		fmt.Fprintf(w, "Violation fingerprint: `%s`.\n", v.Fingerprint)
	}
	return nil
}

// mermaid draws the schedule as a Mermaid sequence diagram: one participant
// per node, an arrow per delivery, notes for what happens at a node (timers,
// crashes, recoveries, client operations, membership changes) or across the
// cluster (partitions, heals), and the violation marked after its event.
// Runs of uneventful heartbeats fold into one note.
func mermaid(w io.Writer, s *interpose.Schedule) error {
	n := s.Target.Nodes
	fmt.Fprintln(w, "sequenceDiagram")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "    participant n%d\n", i)
	}
	all := fmt.Sprintf("n1,n%d", n)
	if n == 1 {
		all = "n1"
	}
	step := 0
	if v := s.Violation; v != nil {
		step = v.Step
	}
	for i := 0; i < len(s.Events); i++ {
		e := s.Events[i]
		if k := heartbeats(s.Events, i); k >= 2 {
			fmt.Fprintf(w, "    Note over %s: %d uneventful heartbeats\n", all, k)
			i += k - 1
			if step > i-k+1 && step <= i+1 {
				violationNote(w, all, s.Violation)
			}
			continue
		}
		event(w, e, all)
		if step == i+1 {
			violationNote(w, all, s.Violation)
		}
	}
	return nil
}

// heartbeats counts the uneventful heartbeat deliveries from events[i] on.
func heartbeats(events []interpose.Event, i int) int {
	k := 0
	for ; i+k < len(events); k++ {
		e := events[i+k]
		if e.Kind != interpose.Deliver || e.Msg == nil || !strings.HasPrefix(e.Msg.Type, "Heartbeat") || e.Result != "" {
			break
		}
	}
	return k
}

func violationNote(w io.Writer, all string, v *interpose.Violation) {
	fmt.Fprintf(w, "    Note over %s: VIOLATION %s: %s\n", all, v.Invariant, label(v.Detail))
}

// event writes one event as an arrow or a note.
func event(w io.Writer, e interpose.Event, all string) {
	res := ""
	if e.Result != "" {
		res = " (" + label(e.Result) + ")"
	}
	switch e.Kind {
	case interpose.Deliver, interpose.Drop, interpose.Duplicate:
		if e.Msg == nil {
			return
		}
		m := e.Msg
		text := label(m.Type)
		if m.Key != "" && m.Key != "timer" {
			text += " " + label(m.Key)
		}
		switch {
		case m.From == m.To && m.Key == "timer":
			fmt.Fprintf(w, "    Note right of n%d: timer %s%s\n", m.To, label(m.Type), res)
		case e.Kind == interpose.Deliver:
			fmt.Fprintf(w, "    n%d->>n%d: %s%s\n", m.From, m.To, text, res)
		case e.Kind == interpose.Drop:
			fmt.Fprintf(w, "    n%d--xn%d: dropped %s\n", m.From, m.To, text)
		default:
			fmt.Fprintf(w, "    Note over n%d,n%d: duplicated %s\n", m.From, m.To, text)
		}
	case interpose.Partition:
		fmt.Fprintf(w, "    Note over %s: partition %s\n", all, label(groups(e.Groups)))
	case interpose.Heal:
		fmt.Fprintf(w, "    Note over %s: heal\n", all)
	case interpose.Client:
		fmt.Fprintf(w, "    Note right of n%d: client '%s'%s\n", e.Node, label(e.Data), res)
	case interpose.Membership:
		fmt.Fprintf(w, "    Note right of n%d: %s n%d%s\n", e.Node, label(e.Op), e.Peer, res)
	case interpose.Transfer:
		fmt.Fprintf(w, "    Note right of n%d: leadership transfer%s\n", e.Node, res)
	default: // start, crash, recover, advance
		fmt.Fprintf(w, "    Note right of n%d: %s%s\n", e.Node, e.Kind, res)
	}
}

func groups(gs [][]int) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		names := make([]string, len(g))
		for j, x := range g {
			names[j] = "n" + strconv.Itoa(x)
		}
		parts[i] = "{" + strings.Join(names, " ") + "}"
	}
	return strings.Join(parts, " | ")
}

// label makes text safe inside a Mermaid message or note: no line breaks,
// and none of the characters Mermaid reads as syntax there.
func label(s string) string {
	r := strings.NewReplacer("\n", " ", "\r", " ", ";", ",", "#", "no.", "%", " pct", "<", "‹", ">", "›", "\"", "'")
	return r.Replace(s)
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

// replayStates replays the schedule once, exactly, and returns every node's
// state after each event.
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

// senders replays the schedule once and returns, for each event, the event
// that sent its message (-1: none).
func senders(t *testing.T, target interpose.Target, s *interpose.Schedule) ([]int, error) {
	open := func() (*interpose.Controller, error) {
		sys, err := target.Open(t, s.Target)
		if err != nil {
			return nil, err
		}
		return interpose.NewController(sys, nil, s.Target), nil
	}
	applied, from, err := dpor.Causes(open, s.Events)
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
	fmt.Fprintf(w, "<text x=\"%d\" y=\"20\" font-size=\"13\">%s</text>\n", left, xmlText(s.Target.Name+": "+plain(s.Violation)))
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
