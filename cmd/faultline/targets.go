package main

import (
	"encoding/json"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/casestudies"
)

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
			for _, s := range casestudies.All() {
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

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
