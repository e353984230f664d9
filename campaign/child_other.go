//go:build !linux

package campaign

import "os/exec"

// childOfCampaign: elsewhere than Linux a worker ends when its input closes,
// after the range in flight.
func childOfCampaign(*exec.Cmd) {}

// startChild starts cmd.
func startChild(cmd *exec.Cmd) error { return cmd.Start() }
