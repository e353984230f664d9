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
			all := casestudies.All()
			if asJSON {
				return writeJSON(a.stdout, all)
			}
			t := tablewriter.NewWriter(a.stdout)
			t.Header("target", "nodes", "bug", "expect", "summary")
			for _, s := range all {
				bug, expect := orDash(s.Bug), orDash(s.Expect)
				if err := t.Append(s.Name, strconv.Itoa(s.Nodes), bug, expect, s.Summary); err != nil {
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
