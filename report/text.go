package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"

	"github.com/faultline-dev/faultline/interpose"
)

// Text writes the schedule s, read from the file at path, as `faultline
// show` prints it: the target and origin, one line per event with what it
// did, each node's final state, and the violation.
func Text(w io.Writer, path string, s *interpose.Schedule) error {
	t := s.Target
	fmt.Fprintf(w, "schedule: %s\n", path)
	fmt.Fprintf(w, "target:   %s, %d nodes, seed %d", t.Name, t.Nodes, t.Seed)
	if t.Bug != "" {
		fmt.Fprintf(w, ", bug %s", t.Bug)
	}
	fmt.Fprintln(w)
	if o := s.Origin; o != nil && o.Command != "" {
		fmt.Fprintf(w, "origin:   %s", o.Command)
		if o.FuzzSeed != 0 {
			fmt.Fprintf(w, " (run %d%s)", o.Run, drawn(o))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "events:   %d (%d external)\n\n", len(s.Events), s.Externals())
	width := len(strconv.Itoa(len(s.Events)))
	for i, e := range s.Events {
		line := e.String()
		if e.Result != "" {
			line = fmt.Sprintf("%-60s → %s", line, e.Result)
		}
		fmt.Fprintf(w, "%*d  %s\n", width, i+1, line)
	}
	if len(s.Final) > 0 {
		fmt.Fprintln(w, "\nfinal state:")
		if err := finalTable(tablewriter.NewWriter(w), s.Final); err != nil {
			return err
		}
	}
	if v := s.Violation; v != nil {
		fmt.Fprintf(w, "\nviolation: %s after event %d\n  %s\n  fingerprint: %s\n", v.Invariant, v.Step, v.Detail, v.Fingerprint)
		fmt.Fprintf(w, "replay:    faultline replay %s\n", path)
	} else {
		fmt.Fprintln(w, "\nno violation")
	}
	return nil
}

// finalTable renders each node's facts into t without knowing what they
// mean: a column per fact name, in the order the nodes list them (a name
// one node lacks goes after the fact that precedes it in the nodes that
// have it), "-" where a node lacks a fact. A node that publishes no facts
// shows where it is in its life cycle ("not started", "down") in the first
// column; when no node publishes any, that is the only column.
func finalTable(t *tablewriter.Table, final []interpose.NodeView) error {
	lists := make([][]interpose.Fact, len(final))
	var names []string
	for i, n := range final {
		lists[i] = n.List()
		names = mergeNames(names, lists[i])
	}
	if len(names) == 0 {
		names = []string{"state"}
	}
	header := []any{"node"}
	for _, name := range names {
		header = append(header, name)
	}
	t.Header(header...)
	for i, n := range final {
		row := make([]string, 1+len(names))
		row[0] = "n" + strconv.Itoa(n.Node)
		for j := range names {
			row[1+j] = "-"
		}
		if len(lists[i]) == 0 {
			row[1] = n.Life()
		}
		for _, f := range lists[i] {
			row[1+slices.Index(names, f.Name)] = f.Value
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

// mergeNames adds the names of facts that names lacks, each after the
// name of the fact that precedes it in facts.
func mergeNames(names []string, facts []interpose.Fact) []string {
	at := 0
	for _, f := range facts {
		if i := slices.Index(names, f.Name); i >= 0 {
			at = i + 1
			continue
		}
		names = slices.Insert(names, at, f.Name)
		at++
	}
	return names
}

// drawn is what a run's strategy drew for it, when it drew anything (a
// swarm run's length bound and weights): ", swarm: up to 3000 events,
// weights advance=20,crash=12,...".
func drawn(o *interpose.Origin) string {
	if o.Events == 0 && len(o.Weights) == 0 {
		return ""
	}
	out := ", " + o.Strategy + ":"
	if o.Events > 0 {
		out += fmt.Sprintf(" up to %d events", o.Events)
		if len(o.Weights) > 0 {
			out += ","
		}
	}
	if len(o.Weights) > 0 {
		kinds := slices.Sorted(maps.Keys(o.Weights))
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = k + "=" + strconv.Itoa(o.Weights[k])
		}
		out += " weights " + strings.Join(parts, ",")
	}
	return out
}
