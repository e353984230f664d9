package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/spf13/cobra"
)

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
			sn, err := campaign.Load(dir, nil)
			if err != nil {
				return inputErr(err)
			}
			if asJSON {
				return writeJSON(a.stdout, campaign.StatusOf(dir, sn))
			}
			return campaign.WriteStatus(a.stdout, dir, sn)
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "the campaign's directory")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("dir")
	return c
}

func (a *app) campaignListCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "list --dir DIR",
		Short: "The distinct violations of a campaign",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			sn, err := campaign.Load(dir, nil)
			if err != nil {
				return inputErr(err)
			}
			if len(sn.Violations) == 0 {
				fmt.Fprintln(a.stdout, "no violation yet")
				return nil
			}
			return campaign.WriteViolations(a.stdout, sn.Violations)
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
			var (
				v        campaign.Violation
				found    int
				exported bool
				files    []string // the files of the violation written for it
			)
			sn, err := campaign.Load(dir, func(st *campaign.Store) error {
				vs, err := st.Violations()
				if err != nil {
					return err
				}
				if v, found = campaign.Match(vs, args[0]); found != 1 {
					return nil
				}
				exported = true
				files, err = campaign.Export(st, v.ID, campaign.ViolationDir(dir, v.ID))
				if err != nil {
					return fmt.Errorf("campaign %s: violation %s: %w", dir, v.ID, err)
				}
				return nil
			})
			if err != nil {
				return inputErr(err)
			}
			if found == 0 { // the campaign runs: what its status says
				v, found = campaign.Match(sn.Violations, args[0])
			}
			if found != 1 {
				return inputErr(fmt.Errorf("campaign %s: %d violations match %q (see %s campaign list --dir %s)", dir, found, args[0], a.name(), dir))
			}
			vdir := campaign.ViolationDir(dir, v.ID)
			w := a.stdout
			fmt.Fprintf(w, "%s %s\n  %s\n", v.ID, v.Invariant, v.Detail)
			fmt.Fprintf(w, "  fingerprint: %s\n", v.Fingerprint)
			if b, ok := invariants.UpstreamByID(v.Upstream); ok {
				fmt.Fprintf(w, "  %s: a bug of %s itself\n", b.Label(), b.Of())
			}
			fmt.Fprintf(w, "  hits: %d; first: run %d of seed %d (strategy %s), after %s, %d events\n",
				v.Hits, v.Run, sn.Config.Seed, orDash(v.Strategy), campaign.FormatElapsed(v.AfterS), v.Events)
			fmt.Fprintf(w, "  minimization: %s", v.Status)
			if v.MinimizedEvents > 0 {
				fmt.Fprintf(w, ", %d events in %.1f s", v.MinimizedEvents, v.MinimizeS)
			}
			if v.Note != "" {
				fmt.Fprintf(w, " (%s)", v.Note)
			}
			fmt.Fprintln(w)
			if !exported {
				// The campaign runs: its minimizer writes the files of the
				// violations it minimizes.
				for _, f := range campaign.Exported {
					if _, err := os.Stat(filepath.Join(vdir, f.File)); err == nil {
						files = append(files, f.File)
					}
				}
			}
			for _, f := range files {
				fmt.Fprintf(w, "  %-15s %s\n", f+":", filepath.Join(vdir, f))
			}
			// Replay the best schedule written, and only one written now:
			// never a file left by an earlier show.
			switch {
			case slices.Contains(files, "minimized.json"):
				fmt.Fprintf(w, "  replay:         %s replay %s\n", a.name(), filepath.Join(vdir, "minimized.json"))
			case slices.Contains(files, "first.json"):
				fmt.Fprintf(w, "  replay:         %s replay %s\n", a.name(), filepath.Join(vdir, "first.json"))
			case exported:
				fmt.Fprintf(w, "  replay:         none: the store holds no schedule of it\n")
			default:
				fmt.Fprintf(w, "  replay:         not written yet: the campaign runs; show it again once it has stopped\n")
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "the campaign's directory")
	_ = c.MarkFlagRequired("dir")
	return c
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
			for _, dir := range args[1:] {
				if sameDir(dir, args[0]) {
					return usageErr("campaign merge: %s is DST itself: merge the other shards into it", dir)
				}
			}
			// Every source is opened first, so that one that is damaged,
			// missing or in use leaves DST as it was, or uncreated. A
			// source is only read, from a copy: merging never changes a
			// shard's store.
			srcs := make([]*campaign.Store, 0, len(args)-1)
			defer func() {
				for _, src := range srcs {
					src.Close()
				}
			}()
			for _, dir := range args[1:] {
				src, err := campaign.OpenRead(dir)
				if err != nil {
					return inputErr(err)
				}
				srcs = append(srcs, src)
			}
			dst, err := campaign.Open(args[0], true)
			if err != nil {
				return inputErr(err)
			}
			defer dst.Close()
			for i, src := range srcs {
				dir := args[1+i]
				ms, err := dst.Merge(src)
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
			sn.Running = false
			if err := campaign.WriteSnapshot(args[0], sn); err != nil {
				return err
			}
			return campaign.WriteStatus(a.stdout, args[0], sn)
		},
	}
}

// sameDir reports whether two paths name one directory (through symbolic
// links, ./ and the like too), which a merge of a directory into itself
// must say, not find it "in use by another process".
func sameDir(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(fa, fb)
}
