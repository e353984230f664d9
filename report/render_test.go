package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/dpor"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestReportGolden renders fixed schedules of hashicorp/raft and of the
// actor Raft in every format and compares with testdata (-update rewrites).
// The formats that replay the schedule (svg, shiviz, json) are checked on
// the actor Raft, whose replays are exact by construction.
func TestReportGolden(t *testing.T) {
	env := report.Env{Faultline: "v0.0.0-test", Go: "go1.26"}
	ext := map[string]string{"markdown": ".report.md", "mermaid": ".mmd", "text": ".txt", "svg": ".svg", "shiviz": ".shiviz", "json": ".report.json"}
	for _, c := range []struct {
		in, name string
		formats  []string
	}{
		{"testdata/forgetful.json", "forgetful", []string{"markdown", "mermaid", "text"}},
		{"../casestudies/testdata/raft-45.min.json", "raft-45", []string{"markdown", "mermaid", "text", "svg", "shiviz", "json"}},
	} {
		s, err := interpose.ReadFile(c.in)
		if err != nil {
			t.Fatal(err)
		}
		study, err := casestudies.Lookup(s.Target.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range c.formats {
			var b bytes.Buffer
			switch format {
			case "svg":
				err = report.SVG(&b, t, study.Target, s)
			case "shiviz":
				err = report.ShiViz(&b, t, study.Target, s)
			case "json":
				err = report.JSON(&b, t, study.Target, s)
			default:
				err = report.Render(&b, format, c.in, s, env, nil, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", c.name+ext[format])
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("%s differs from %s (rerun with -update to accept)", format, golden)
			}
		}
	}
}

// mermaidLine is every line the diagram may hold after its first.
var mermaidLine = regexp.MustCompile(`^    (participant n\d+|n\d+(->>|--x)n\d+: [^;#\n]+|Note (right of n\d+|over n\d+(,n\d+)?): [^;#\n]+)$`)

// TestMermaidShape checks each line of the diagrams against the sequence
// diagram statements the renderer may write, and that every delivery,
// drop and the violation appear.
func TestMermaidShape(t *testing.T) {
	s, err := interpose.ReadFile("testdata/forgetful.json")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.Mermaid(&b, s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if lines[0] != "sequenceDiagram" {
		t.Fatalf("first line %q", lines[0])
	}
	for i, l := range lines[1:] {
		if !mermaidLine.MatchString(l) {
			t.Errorf("line %d: %q", i+2, l)
		}
	}
	arrows := strings.Count(b.String(), "->>") + strings.Count(b.String(), "--x")
	deliveries := 0 // not counting runs of uneventful heartbeats, folded
	for i := 0; i < len(s.Events); i++ {
		if k := report.Heartbeats(s.Events, i); k >= 2 {
			i += k - 1
			continue
		}
		if e := s.Events[i]; e.Kind == interpose.Deliver || e.Kind == interpose.Drop {
			deliveries++
		}
	}
	if arrows != deliveries || !strings.Contains(b.String(), "VIOLATION ElectionSafety") {
		t.Errorf("%d arrows for %d deliveries and drops; violation marked: %v", arrows, deliveries, strings.Contains(b.String(), "VIOLATION"))
	}
}

// TestShiVizHappensBefore parses the ShiViz log of an actor Raft schedule
// and checks that each delivery's clock dominates the clock of the event
// that sent its message (from a replay) and advances its own node's entry.
func TestShiVizHappensBefore(t *testing.T) {
	s, err := interpose.ReadFile("../casestudies/testdata/raft-66.min.json")
	if err != nil {
		t.Fatal(err)
	}
	study, err := casestudies.Lookup(s.Target.Name)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.ShiViz(&b, t, study.Target, s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if lines[0] != report.ShiVizRegexp || len(lines) != 1+2*len(s.Events) {
		t.Fatalf("%d lines for %d events; first %q", len(lines), len(s.Events), lines[0])
	}
	type entry struct {
		host  string
		clock map[string]int
	}
	var entries []entry
	for i := 1; i < len(lines); i += 2 {
		host, clock, ok := strings.Cut(lines[i+1], " ")
		var vc map[string]int
		if !ok || json.Unmarshal([]byte(clock), &vc) != nil {
			t.Fatalf("line %d: %q", i+2, lines[i+1])
		}
		entries = append(entries, entry{host, vc})
	}
	open := func() (*interpose.Controller, error) {
		sys, err := study.Target.Open(t, s.Target)
		return interpose.NewController(sys, nil, s.Target), err
	}
	_, senders, err := dpor.Causes(open, s.Events, true)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, j := range senders {
		if j < 0 {
			continue
		}
		for k, v := range entries[j].clock {
			if entries[i].clock[k] < v {
				t.Errorf("event %d (%s) does not dominate its send, event %d, at %s", i+1, s.Events[i], j+1, k)
			}
		}
		h := entries[i].host
		if entries[i].clock[h] <= entries[j].clock[h] {
			t.Errorf("event %d does not advance %s past its send", i+1, h)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d deliveries checked", checked)
	}
}

// TestJSONReport: one state per event, and the last is the recorded final
// state.
func TestJSONReport(t *testing.T) {
	s, err := interpose.ReadFile("../casestudies/testdata/raft-42.min.json")
	if err != nil {
		t.Fatal(err)
	}
	study, _ := casestudies.Lookup(s.Target.Name)
	var b bytes.Buffer
	if err := report.JSON(&b, t, study.Target, s); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Schedule *interpose.Schedule    `json:"schedule"`
		States   [][]interpose.NodeView `json:"states"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.States) != len(s.Events) || len(got.Schedule.Events) != len(s.Events) {
		t.Fatalf("%d states, %d events; want %d", len(got.States), len(got.Schedule.Events), len(s.Events))
	}
	last := got.States[len(got.States)-1]
	for i, n := range s.Final {
		if !last[i].Equal(n) {
			t.Errorf("last state of n%d %v; recorded %v", n.Node, last[i], n)
		}
	}
	if first := got.States[0]; first[0].Headline() == first[len(first)-1].Headline() && s.Events[0].Kind == interpose.Start {
		t.Errorf("after the first start every node is %q", first[0].Headline())
	}
}

// TestSVGReport draws a schedule of the actor Raft with a crash, a
// recovery and a partition, parses the SVG and counts what it drew.
func TestSVGReport(t *testing.T) {
	study, _ := casestudies.Lookup("raft")
	spec := study.Target.Spec(3, 1)
	sys, err := study.Target.Open(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	ctl := interpose.NewController(sys, nil, spec)
	deliver := func(typ string, from, to int) {
		t.Helper()
		if _, err := ctl.Step(interpose.Event{Kind: interpose.Deliver, Msg: &interpose.Msg{Type: typ, From: from, To: to}}); err != nil {
			t.Fatalf("%s n%d→n%d: %v", typ, from, to, err)
		}
	}
	for n := 1; n <= 3; n++ {
		ctl.Step(interpose.Event{Kind: interpose.Start, Node: n})
		ctl.Step(interpose.Event{Kind: interpose.Client, Node: n, Data: "members=1,2,3"})
	}
	deliver("ElectionTimeout", 1, 1)
	deliver("BeginElection", 1, 1)
	deliver("RequestVote", 1, 2)
	deliver("VoteCandidate", 2, 1)
	ctl.Step(interpose.Event{Kind: interpose.Partition, Groups: [][]int{{1}, {2, 3}}})
	ctl.Step(interpose.Event{Kind: interpose.Crash, Node: 3})
	ctl.Step(interpose.Event{Kind: interpose.Recover, Node: 3})
	ctl.Step(interpose.Event{Kind: interpose.Heal})
	deliver("ElectedAsLeader", 1, 1)
	deliver("AppendEntries", 1, 2)
	s := ctl.Take()
	sys.Close()

	var b bytes.Buffer
	if err := report.SVG(&b, t, study.Target, s); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	dec := xml.NewDecoder(&b)
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not XML: %v", err)
			}
			break
		}
		if el, ok := tok.(xml.StartElement); ok {
			for _, a := range el.Attr {
				if a.Name.Local == "class" {
					count[a.Value]++
				}
			}
		}
	}
	want := map[string]int{"msg": 5, "timer": 1, "crash": 1, "recover": 1, "start": 3, "partition": 1}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%d elements of class %q, want %d (all: %v)", count[k], k, v, count)
		}
	}
	if count["role"] < 4 {
		t.Errorf("roles and terms written %d times", count["role"])
	}
}

// TestMermaidFoldsThePhase: a long stabilization phase is drawn by its
// first events and one note that says what the rest did; the violation,
// judged at its end, is marked once, after it.
func TestMermaidFoldsThePhase(t *testing.T) {
	s, err := interpose.ReadFile("../results/report/raft-busy-leader.min.json")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.Mermaid(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	pre, _, ok := interpose.PhaseOf(s)
	if !ok || len(s.Events)-len(pre) < 100 {
		t.Fatalf("the fixture has no long phase (%d events before it, %d in all)", len(pre), len(s.Events))
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines[1:] {
		if !mermaidLine.MatchString(l) {
			t.Errorf("line %d: %q", i+2, l)
		}
	}
	if len(lines) > len(pre)+40 || !strings.Contains(out, "stabilization phase, bound 20") ||
		!strings.Contains(out, "more events of the phase: ") || strings.Count(out, "VIOLATION Liveness:Accepts") != 1 {
		t.Errorf("%d lines for %d events before the phase:\n%s", len(lines), len(pre), out)
	}
}
