package report

import (
	"fmt"
	"io"
	"strconv"

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
			fmt.Fprintf(w, " (run %d)", o.Run)
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

// finalTable renders each node's state into t.
func finalTable(t *tablewriter.Table, final []interpose.NodeView) error {
	t.Header("node", "role", "term", "vote", "last index", "commit index")
	for _, n := range final {
		vote := "-"
		if n.Vote != 0 {
			vote = fmt.Sprintf("n%d in term %d", n.Vote, n.VoteTerm)
		}
		if err := t.Append("n"+strconv.Itoa(n.Node), n.Role, strconv.FormatUint(n.Term, 10), vote,
			strconv.FormatUint(n.LastIndex, 10), strconv.FormatUint(n.CommitIndex, 10)); err != nil {
			return err
		}
	}
	return t.Render()
}
