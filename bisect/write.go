package bisect

import (
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Write renders a report: a table of the releases, newest first, and what
// the tested ones say. With command, it is the Markdown page under
// results/, headed by the command that made it; without, the terminal's.
func Write(w io.Writer, rep *Report, command string) error {
	md := command != ""
	if md {
		fmt.Fprintf(w, "# %s across hashicorp/raft releases\n\n", rep.Schedule)
		fmt.Fprintf(w, "`%s`\n\n", command)
	}
	fmt.Fprintf(w, "%s of target %s, recorded on hashicorp/raft %s: %s\n\n", rep.Fingerprint, rep.Target, orDash(rep.Recorded), how(rep))
	opts := []tablewriter.Option{tablewriter.WithHeaderAutoFormat(tw.Off)}
	if md {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	t := tablewriter.NewTable(w, opts...)
	t.Header("release", "build tag", "answer", "seconds")
	for _, r := range rep.Rows {
		took := "-"
		if r.Tested {
			took = fmt.Sprintf("%.1f", r.Took)
		}
		answer := Verdict(r, rep)
		if r.Note != "" && r.Tested {
			answer += "; " + r.Note
		}
		if err := t.Append(r.Release, orDash(r.Tag), answer, took); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, line := range Summary(rep) {
		if md {
			line = "- " + line
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// how says what a release was asked.
func how(rep *Report) string {
	if rep.Mode == "fuzz" {
		return fmt.Sprintf("each release fuzzed for %s on the schedule's target, looking for the fingerprint", rep.Fuzz)
	}
	return fmt.Sprintf("each release replays the schedule %d times, and %d more with deliveries matched by type unless all showed it (\"by type\": those did better)", rep.Repeat, rep.Repeat)
}

// Summary says in sentences which releases show the violation.
func Summary(rep *Report) []string {
	tested, shows := 0, 0
	var oldest, newest string
	for _, r := range rep.Rows {
		if r.ok() {
			tested++
			if r.Shows {
				shows++
			}
			if newest == "" {
				newest = r.Release
			}
			oldest = r.Release
		}
	}
	switch {
	case tested == 0:
		return []string{"no release could be tested"}
	case shows == 0:
		return []string{fmt.Sprintf("no release tested shows %s (%d tested, %s to %s)", rep.Fingerprint, tested, oldest, newest)}
	case shows == tested:
		return []string{fmt.Sprintf("every release tested shows %s (%d tested, %s to %s): it is at least as old as %s", rep.Fingerprint, tested, oldest, newest, oldest)}
	}
	var out []string
	notes := map[string]string{}
	for _, r := range rep.Rows {
		notes[r.Release] = r.Note
	}
	for _, c := range rep.Changes {
		s := fmt.Sprintf("went out: %s does not show it, %s does", c.After, c.Before)
		if c.CameIn {
			s = fmt.Sprintf("came in: %s shows it, %s does not", c.After, c.Before)
		}
		if n := notes[c.Before] + notes[c.After]; notes[c.Before] != notes[c.After] {
			s += " — but that is where the schedule stops carrying over (" + n + "): --fuzz asks each release afresh"
		}
		out = append(out, s)
	}
	switch rep.FirstShows {
	case "":
	case oldest:
		out = append(out, "first release that shows it: "+oldest+", the oldest tested (it may be older)")
	default:
		out = append(out, "first release that shows it: "+rep.FirstShows)
	}
	if rep.FirstFixed != "" {
		out = append(out, "first release that no longer shows it: "+rep.FirstFixed)
	} else if rep.FirstShows != "" {
		out = append(out, "no release after "+rep.FirstShows+" in the range is free of it")
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
