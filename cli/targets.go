package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// catalog is the targets this program knows: the built-in studies and the
// ones its main gave Main.
type catalog struct {
	studies []casestudies.Study
}

// newCatalog adds the given targets to the built-in ones; a name taken
// twice is an error.
func newCatalog(targets []interpose.Target) (*catalog, error) {
	c := &catalog{studies: casestudies.All()}
	seen := map[string]bool{}
	for _, s := range c.studies {
		seen[s.Name] = true
	}
	for _, t := range targets {
		if t == nil {
			return nil, fmt.Errorf("cli.Main: a nil target")
		}
		name := t.Name()
		if name == "" || strings.ContainsAny(name, " \t\n/") {
			return nil, fmt.Errorf("cli.Main: target name %q: want a word without spaces or slashes", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("cli.Main: two targets are called %q (the built-in ones: faultline targets)", name)
		}
		seen[name] = true
		c.studies = append(c.studies, casestudies.Study{Name: name, Summary: "a target of this program",
			Nodes: t.Spec(0, 0).Nodes, Target: t, Workload: fuzz.WorkloadOf(t)})
	}
	return c, nil
}

// lookup returns the study called name, or an error that names the known
// ones like it (casestudies.Unknown).
func (c *catalog) lookup(name string) (casestudies.Study, error) {
	names := make([]string, 0, len(c.studies))
	for _, s := range c.studies {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return casestudies.Study{}, casestudies.Unknown(cut(name), names)
}

// target resolves a target by name, for worker processes.
func (c *catalog) target(name string) (interpose.Target, error) {
	s, err := c.lookup(name)
	return s.Target, err
}

func (a *app) targetsCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "targets",
		Short: "List the targets faultline can fuzz and replay",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			type row struct {
				casestudies.Study
				// MinimalEvents is the length of the hand-made minimal
				// reproduction (0: none).
				MinimalEvents int `json:"minimal_events"`
			}
			var rows []row
			for _, s := range a.catalog.studies {
				r := row{Study: s}
				if m, err := casestudies.Minimal(s.Name); err == nil {
					r.MinimalEvents = len(m.Events)
				}
				rows = append(rows, r)
			}
			if asJSON {
				return writeJSON(a.stdout, rows)
			}
			t := tablewriter.NewWriter(a.stdout)
			t.Header("target", "nodes", "bug", "expect", "minimal", "summary")
			for _, r := range rows {
				minimal := "-"
				if r.MinimalEvents > 0 {
					minimal = strconv.Itoa(r.MinimalEvents) + " events"
				}
				if err := t.Append(r.Name, strconv.Itoa(r.Nodes), orDash(r.Bug), orDash(r.Expect), minimal, r.Summary); err != nil {
					return err
				}
			}
			return t.Render()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
