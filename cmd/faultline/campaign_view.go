package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/campaign"
)

// loadCampaign reads a campaign's state: from its store when no process
// holds it (calling use with the open store, when given), else from the
// status the running campaign writes.
func loadCampaign(dir string, use func(*campaign.Store) error) (campaign.Snapshot, error) {
	st, err := campaign.Open(dir, false)
	switch {
	case errors.Is(err, campaign.ErrLocked):
		return campaign.ReadSnapshot(dir)
	case err != nil:
		return campaign.Snapshot{}, err
	}
	defer st.Close()
	sn, err := st.Snapshot()
	if err == nil && use != nil {
		err = use(st)
	}
	return sn, err
}

// campaignStatus is `campaign status --json`.
type campaignStatus struct {
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
	Frontier int              `json:"frontier"`
	Holes    []campaign.Range `json:"holes,omitempty"`
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
}

func statusOf(dir string, sn campaign.Snapshot) campaignStatus {
	cs := campaignStatus{Dir: dir, Target: sn.Config.Target, Strategy: sn.Config.Strategy, Running: sn.Running,
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
	for _, v := range sn.Violations {
		cs.Hits += v.Hits
		switch v.Status {
		case campaign.Minimized:
			cs.Minimized++
		case campaign.Pending:
			cs.Pending++
		}
	}
	return cs
}

func (a *app) campaignStatusCmd() *cobra.Command {
	var (
		dir    string
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "status --dir DIR",
		Short: "What a campaign has done: runs, events/s, distinct violations, minimizations",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			sn, err := loadCampaign(dir, nil)
			if err != nil {
				return inputErr(err)
			}
			cs := statusOf(dir, sn)
			if asJSON {
				return writeJSON(a.stdout, cs)
			}
			return a.printCampaign(sn, a.stdout, dir)
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "the campaign's directory")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("dir")
	return c
}

// printCampaign prints a campaign's status line and its violations table.
func (a *app) printCampaign(sn campaign.Snapshot, w io.Writer, dir ...string) error {
	cs := statusOf(strings.Join(dir, ""), sn)
	state := "stopped"
	if cs.Running {
		state = "running"
	}
	fmt.Fprintf(w, "campaign %s (%s, strategy %s", sn.Config.Target, state, cs.Strategy)
	if cs.Shard != "" {
		fmt.Fprintf(w, ", shard %s", cs.Shard)
	}
	fmt.Fprintf(w, "): %s, %d runs, %d events (%.0f events/s), %d distinct violations, %d hits, %d minimized\n",
		fmtElapsed(cs.ElapsedS), cs.Runs, cs.Events, cs.EventsPerS, cs.Violations, cs.Hits, cs.Minimized)
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
	if m := sn.Stats.Memory; len(m) > 1 {
		fmt.Fprintf(w, "workers' memory, a sample a minute (peak RSS / RSS / live heap, MiB):")
		for i, x := range m {
			if len(m) > 12 && i > 5 && i < len(m)-6 {
				if i == 6 {
					fmt.Fprintf(w, " ...")
				}
				continue
			}
			fmt.Fprintf(w, " %s %.0f/%.0f/%.1f", fmtElapsed(x.AtS), float64(x.PeakKB)/1024, float64(x.RSSKB)/1024, float64(x.HeapKB)/1024)
		}
		fmt.Fprintln(w)
	}
	if len(sn.Violations) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return violationTable(w, sn.Violations)
}

func violationTable(w io.Writer, vs []campaign.Violation) error {
	t := tablewriter.NewWriter(w)
	t.Header("id", "invariant", "hits", "found after", "by", "events", "minimized", "status")
	for _, v := range vs {
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
		if err := t.Append(v.ID, v.Invariant, v.Hits, fmtElapsed(v.AfterS), by, v.Events, min, status); err != nil {
			return err
		}
	}
	return t.Render()
}

func (a *app) campaignListCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "list --dir DIR",
		Short: "The distinct violations of a campaign",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			sn, err := loadCampaign(dir, nil)
			if err != nil {
				return inputErr(err)
			}
			if len(sn.Violations) == 0 {
				fmt.Fprintln(a.stdout, "no violation yet")
				return nil
			}
			return violationTable(a.stdout, sn.Violations)
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "the campaign's directory")
	_ = c.MarkFlagRequired("dir")
	return c
}

func (a *app) campaignShowCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "show --dir DIR ID",
		Short: "One violation of a campaign: where it was found, its minimization and its report",
		Long: `show prints a violation (an ID prefix is enough) and writes its schedules and
report into DIR/violations/ID/ (first.json, minimized.json, report.md), where
faultline replay, show and report read them. With the campaign running it
prints what the campaign's last status says.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var v campaign.Violation
			found := 0
			sn, err := loadCampaign(dir, func(st *campaign.Store) error {
				vs, err := st.Violations()
				if err != nil {
					return err
				}
				if v, found = matchViolation(vs, args[0]); found != 1 {
					return nil
				}
				return exportViolation(st, v.ID, violationDir(dir, v.ID))
			})
			if err != nil {
				return inputErr(err)
			}
			if found == 0 { // the campaign runs: what its status says
				v, found = matchViolation(sn.Violations, args[0])
			}
			if found != 1 {
				return inputErr(fmt.Errorf("campaign %s: %d violations match %q (see faultline campaign list --dir %s)", dir, found, args[0], dir))
			}
			vdir := violationDir(dir, v.ID)
			w := a.stdout
			fmt.Fprintf(w, "%s %s\n  %s\n", v.ID, v.Invariant, v.Detail)
			fmt.Fprintf(w, "  fingerprint: %s\n", v.Fingerprint)
			fmt.Fprintf(w, "  hits: %d; first: run %d of seed %d (strategy %s), after %s, %d events\n",
				v.Hits, v.Run, sn.Config.Seed, orDash(v.Strategy), fmtElapsed(v.AfterS), v.Events)
			fmt.Fprintf(w, "  minimization: %s", v.Status)
			if v.MinimizedEvents > 0 {
				fmt.Fprintf(w, ", %d events in %.1f s", v.MinimizedEvents, v.MinimizeS)
			}
			if v.Note != "" {
				fmt.Fprintf(w, " (%s)", v.Note)
			}
			fmt.Fprintln(w)
			for _, f := range []string{"first.json", "minimized.json", "report.md"} {
				p := filepath.Join(vdir, f)
				if _, err := os.Stat(p); err == nil {
					fmt.Fprintf(w, "  %-15s %s\n", f+":", p)
				}
			}
			best := filepath.Join(vdir, "minimized.json")
			if _, err := os.Stat(best); err != nil {
				best = filepath.Join(vdir, "first.json")
			}
			fmt.Fprintf(w, "  replay:         faultline replay %s\n", best)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "the campaign's directory")
	_ = c.MarkFlagRequired("dir")
	return c
}

// matchViolation returns the violation whose ID starts with prefix, and how
// many do.
func matchViolation(vs []campaign.Violation, prefix string) (campaign.Violation, int) {
	var v campaign.Violation
	n := 0
	for _, x := range vs {
		if strings.HasPrefix(x.ID, prefix) {
			v = x
			n++
		}
	}
	return v, n
}

// exportViolation writes a violation's stored files into vdir.
func exportViolation(st *campaign.Store, id, vdir string) error {
	files := map[string]string{campaign.BlobFirst: "first.json", campaign.BlobMinimized: "minimized.json",
		campaign.BlobReport: "report.md"}
	for blob, name := range files {
		b, err := st.Blob(id, blob)
		if err != nil {
			return err
		}
		if b == nil {
			continue
		}
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(vdir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) campaignMergeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "merge DST SRC...",
		Short: "Merge the stores of a campaign's shards into DST, without duplicates",
		Long: `merge copies into DST (a campaign directory, created when absent) the runs and
violations of each SRC that DST lacks. Runs already in DST are skipped, so
merging twice counts nothing twice. DST becomes the whole campaign: resuming
it runs what no shard ran.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			dst, err := campaign.Open(args[0], true)
			if err != nil {
				return inputErr(err)
			}
			defer dst.Close()
			for _, dir := range args[1:] {
				src, err := campaign.Open(dir, false)
				if err != nil {
					return inputErr(err)
				}
				ms, err := dst.Merge(src)
				src.Close()
				if err != nil {
					return inputErr(err)
				}
				fmt.Fprintf(a.stdout, "%s: %d pieces (%d runs) added, %d already there, %d new violations\n",
					dir, ms.Pieces, ms.Runs, ms.Skipped, ms.Violations)
			}
			sn, err := dst.Snapshot()
			if err != nil {
				return err
			}
			if err := writeSnapshotFinal(args[0], sn); err != nil {
				return err
			}
			return a.printCampaign(sn, a.stdout, args[0])
		},
	}
}
