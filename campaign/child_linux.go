package campaign

import (
	"os/exec"
	"syscall"
)

// childOfCampaign makes cmd die with the campaign: a campaign killed with
// kill -9 leaves no worker or minimizer running.
func childOfCampaign(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
