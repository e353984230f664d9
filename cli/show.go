package cli

import (
	"github.com/spf13/cobra"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/report"
)

func (a *app) showCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE",
		Short: "Print a schedule for people: one line per event, the final state, the violation",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			s, err := interpose.ReadFile(args[0])
			if err != nil {
				return inputErr(err)
			}
			return report.Text(a.stdout, args[0], s)
		},
	}
}
