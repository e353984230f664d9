package campaign

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/olekukonko/tablewriter"
)

// Load reads a campaign's state: from a private copy of its store when no
// process holds it (OpenRead, calling use with the open store, when
// given), else from the status the running campaign writes. It reads every
// record and file of the store first (Verify), so that a damaged store is
// an error naming the file, not a status that leaves out what it could
// not read; and it never changes a byte of the store.
func Load(dir string, use func(*Store) error) (Snapshot, error) {
	st, err := OpenRead(dir)
	switch {
	case errors.Is(err, ErrLocked):
		return ReadSnapshot(dir)
	case err != nil:
		return Snapshot{}, err
	}
	defer st.Close()
	if err := st.Verify(); err != nil {
		return Snapshot{}, err
	}
	sn, err := st.Snapshot()
	if err == nil && use != nil {
		err = use(st)
	}
	return sn, err
}

// Status is what `campaign status --json` prints: a campaign at a glance.
type Status struct {
	Dir        string  `json:"dir"`
	Target     string  `json:"target"`
	Strategy   string  `json:"strategy"`
	Shard      string  `json:"shard,omitempty"`
	Running    bool    `json:"running"`
	Runs       int     `json:"runs"`
	Events     int     `json:"events"`
	ElapsedS   float64 `json:"elapsed_s"`
	EventsPerS float64 `json:"events_per_s"`
	Violations int     `json:"violations"`
	Hits       int     `json:"hits"`
	Minimized  int     `json:"minimized"`
	Pending    int     `json:"pending"`
	Sessions   int     `json:"sessions"`
	Last       string  `json:"last,omitempty"`
	// Frontier and Holes: every run below Frontier is done (of this
	// shard's chunks) except the holes.
	Frontier int     `json:"frontier"`
	Holes    []Range `json:"holes,omitempty"`
	// RSSStartKB and RSSLatestKB are the workers' peak RSS in the
	// campaign's first minute and at their latest report.
	RSSStartKB  int64 `json:"rss_start_kb"`
	RSSLatestKB int64 `json:"rss_latest_kb"`
	// HeapStartKB and HeapLatestKB are the same for their live heap,
	// RSSNowStartKB and RSSNowLatestKB for their resident set size then.
	HeapStartKB    int64 `json:"heap_start_kb"`
	HeapLatestKB   int64 `json:"heap_latest_kb"`
	RSSNowStartKB  int64 `json:"rss_now_start_kb"`
	RSSNowLatestKB int64 `json:"rss_now_latest_kb"`
	// Monitors, Faults and Checks are the campaign's coverage (Stats), and
	// Warnings what it never fired or never had to check (fuzz.Result.Warn).
	Monitors map[string]int `json:"monitors,omitempty"`
	Faults   map[string]int `json:"faults,omitempty"`
	Checks   map[string]int `json:"checks,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
}

// StatusOf summarizes a campaign's snapshot; dir is where it lives.
func StatusOf(dir string, sn Snapshot) Status {
	cs := Status{Dir: dir, Target: sn.Config.Target, Strategy: sn.Config.Strategy, Running: sn.Running,
		Runs: sn.Stats.Runs, Events: sn.Stats.Events, ElapsedS: sn.Stats.ElapsedS, Violations: len(sn.Violations),
		Sessions: sn.Stats.Sessions, Last: sn.Last, Frontier: sn.Frontier, Holes: sn.Holes, RSSStartKB: sn.Stats.RSSStartKB, RSSLatestKB: sn.Stats.RSSLatestKB(),
		HeapStartKB: sn.Stats.HeapStartKB, HeapLatestKB: sn.Stats.HeapLatestKB(),
		RSSNowStartKB: sn.Stats.RSSNowStartKB, RSSNowLatestKB: sn.Stats.RSSNowLatestKB()}
	if sn.Config.Shards > 1 {
		cs.Shard = fmt.Sprintf("%d/%d", sn.Config.Shard, sn.Config.Shards)
	}
	if cs.ElapsedS > 0 {
		cs.EventsPerS = float64(cs.Events) / cs.ElapsedS
	}
	cs.Monitors, cs.Faults, cs.Checks = sn.Stats.Monitors, sn.Stats.Faults, sn.Stats.Checks
	if len(cs.Faults) > 0 || len(cs.Checks) > 0 {
		res := fuzz.Result{Faults: cs.Faults, Checks: cs.Checks}
		res.Warn()
		cs.Warnings = res.Warnings
	}
	for _, v := range sn.Violations {
		cs.Hits += v.Hits
		switch v.Status {
		case Minimized:
			cs.Minimized++
		case Pending:
			cs.Pending++
		}
	}
	return cs
}

// WriteStatus writes a campaign's status line, its workers' memory and its
// violations table.
func WriteStatus(w io.Writer, dir string, sn Snapshot) error {
	cs := StatusOf(dir, sn)
	state := "stopped"
	if cs.Running {
		state = "running"
	}
	fmt.Fprintf(w, "campaign %s (%s, strategy %s", sn.Config.Target, state, cs.Strategy)
	if cs.Shard != "" {
		fmt.Fprintf(w, ", shard %s", cs.Shard)
	}
	fmt.Fprintf(w, "): %s, %d runs, %d events (%.0f events/s), %d distinct violations, %d hits, %d minimized\n",
		FormatElapsed(cs.ElapsedS), cs.Runs, cs.Events, cs.EventsPerS, cs.Violations, cs.Hits, cs.Minimized)
	if cs.Frontier > 0 {
		fmt.Fprintf(w, "runs done: every run below %d", cs.Frontier)
		if cs.Shard != "" {
			fmt.Fprintf(w, " of this shard's chunks")
		}
		if len(cs.Holes) > 0 {
			fmt.Fprintf(w, " but %d ranges not recorded (%v, ...): in flight, or left by a session that ended; a resume runs them first",
				len(cs.Holes), cs.Holes[0])
		}
		fmt.Fprintln(w)
	}
	if cs.RSSStartKB > 0 {
		mib := func(kb int64) float64 { return float64(kb) / 1024 }
		fmt.Fprintf(w, "workers, in the first minute -> at their latest report: peak RSS %.1f -> %.1f MiB, RSS %.1f -> %.1f MiB, live heap %.1f -> %.1f MiB\n",
			mib(cs.RSSStartKB), mib(cs.RSSLatestKB), mib(cs.RSSNowStartKB), mib(cs.RSSNowLatestKB), mib(cs.HeapStartKB), mib(cs.HeapLatestKB))
	}
	if m := sn.Stats.Monitors; len(m) > 0 {
		fmt.Fprintf(w, "liveness monitors: %s\n", fuzz.MonitorCoverage(m))
	}
	for _, warning := range cs.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	if m := sn.Stats.Memory; len(m) > 1 {
		fmt.Fprintf(w, "workers' memory, a sample a minute (peak RSS / RSS / live heap, MiB):")
		for i, x := range m {
			if len(m) > 12 && i > 5 && i < len(m)-6 {
				if i == 6 {
					fmt.Fprintf(w, " ...")
				}
				continue
			}
			fmt.Fprintf(w, " %s %.0f/%.0f/%.1f", FormatElapsed(x.AtS), float64(x.PeakKB)/1024, float64(x.RSSKB)/1024, float64(x.HeapKB)/1024)
		}
		fmt.Fprintln(w)
	}
	if len(sn.Violations) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return WriteViolations(w, sn.Violations)
}

// WriteViolations writes a table of a campaign's distinct violations.
func WriteViolations(w io.Writer, vs []Violation) error {
	t := tablewriter.NewWriter(w)
	t.Header("id", "invariant", "known upstream", "hits", "found after", "by", "events", "minimized", "status")
	var known []string
	for _, v := range vs {
		if v.Upstream != "" && !slices.Contains(known, v.Upstream) {
			known = append(known, v.Upstream)
		}
		min := "-"
		if v.MinimizedEvents > 0 {
			min = fmt.Sprint(v.MinimizedEvents)
		}
		by := v.Strategy
		if by == "" {
			by = "random"
		}
		status := v.Status
		if v.Crash {
			status += " (crash)"
		}
		if err := t.Append(v.ID, v.Invariant, orDash(v.Upstream), v.Hits, FormatElapsed(v.AfterS), by, v.Events, min, status); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, id := range known {
		if b, ok := invariants.UpstreamByID(id); ok {
			fmt.Fprintf(w, "%s: a bug of %s itself, not of the target: %s\n", b.Label(), b.Of(), b.Summary)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Match returns the violation whose ID starts with prefix, and how
// many do.
func Match(vs []Violation, prefix string) (Violation, int) {
	var v Violation
	n := 0
	for _, x := range vs {
		if strings.HasPrefix(x.ID, prefix) {
			v = x
			n++
		}
	}
	return v, n
}

// Exported are the files of a violation, as Export writes them.
var Exported = []struct{ Blob, File string }{
	{BlobFirst, "first.json"}, {BlobMinimized, "minimized.json"}, {BlobReport, "report.md"},
}

// Export writes a violation's stored files into vdir and returns the names
// of those it wrote (a file the store does not hold is not written).
func Export(st *Store, id, vdir string) ([]string, error) {
	var wrote []string
	for _, f := range Exported {
		b, err := st.Blob(id, f.Blob)
		if err != nil {
			return wrote, err
		}
		if b == nil {
			continue
		}
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return wrote, err
		}
		if err := os.WriteFile(filepath.Join(vdir, f.File), b, 0o644); err != nil {
			return wrote, err
		}
		wrote = append(wrote, f.File)
	}
	return wrote, nil
}
