package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/campaign"
)

// process is a running process of the faultline binary.
type process struct {
	pid  int
	args []string
}

// binaryProcesses lists the running processes of the faultline binary
// whose command line mentions one of paths (the campaign's directory, the
// temporary directory it was given), so that another test's processes do
// not count.
func binaryProcesses(t *testing.T, paths ...string) []process {
	t.Helper()
	bin := faultlineBinary(t)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var ps []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || strings.TrimSuffix(exe, " (deleted)") != bin {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		line := string(data)
		for _, p := range paths {
			if strings.Contains(line, p) {
				ps = append(ps, process{pid: pid, args: strings.Split(strings.TrimSuffix(line, "\x00"), "\x00")})
				break
			}
		}
	}
	return ps
}

// startBin starts the faultline binary with TMPDIR set to tmp.
func startBin(t *testing.T, tmp string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(faultlineBinary(t), args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &errb
}

// TestCampaignKillLeavesNoProcess kills a campaign with SIGKILL while its
// background minimizer runs a worker process, and checks that no process of
// the campaign (workers, minimizer workers) outlives it by 2 s: each dies
// with it (Pdeathsig, set from a thread that lives as long as the
// campaign). The next campaign started removes the minimizer's temporary
// directory the kill left, and not one of a process that runs.
func TestCampaignKillLeavesNoProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs campaigns")
	}
	tmp := t.TempDir()
	dir := filepath.Join(t.TempDir(), "c")
	cmd, out := startBin(t, tmp, "campaign", "start", "--target", "hraft-forgetful", "--dir", dir, "--workers", "2",
		"--minimize-budget", "2m")
	defer cmd.Process.Kill()
	// Wait for a worker of the background minimizer: a worker whose job
	// is a minimization.
	deadline := time.Now().Add(60 * time.Second)
	var minimizer process
	for minimizer.pid == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no minimization started in 60 s:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
		for _, p := range binaryProcesses(t, dir, tmp) {
			if len(p.args) == 3 && p.args[1] == workerCommand {
				if job, err := campaign.ReadJob(p.args[2]); err == nil && job.Kind == campaign.JobMinimize {
					minimizer = p
				}
			}
		}
	}
	before := binaryProcesses(t, dir, tmp)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	time.Sleep(2 * time.Second)
	if left := binaryProcesses(t, dir, tmp); len(left) > 0 {
		t.Fatalf("%d of the campaign's %d processes outlived it by 2 s: %v", len(left), len(before), left)
	}
	if len(before) < 3 {
		t.Errorf("only %d processes before the kill (%v): want the campaign, its workers and the minimizer's", len(before), before)
	}
	stale, _ := filepath.Glob(filepath.Join(tmp, "faultline-worker-*"))
	if len(stale) == 0 {
		t.Fatalf("the minimizer's directory %s is not in TMPDIR", filepath.Dir(minimizer.args[2]))
	}
	// The next session removes what the kill left, and only that.
	live, err := os.MkdirTemp(tmp, "faultline-worker-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(live, "pid"), fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
		t.Fatal(err)
	}
	next, nout := startBin(t, tmp, "campaign", "start", "--target", "hraft-serial", "--dir", filepath.Join(t.TempDir(), "next"),
		"--workers", "1", "--time", "1s", "--minimize-budget", "0")
	if err := next.Wait(); err != nil {
		t.Fatalf("the next campaign: %v\n%s", err, nout)
	}
	for _, d := range stale {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s, left by the killed campaign, is still there", d)
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the directory of a running process was removed: %v", err)
	}
}

// TestCampaignWindDown: a campaign whose time is up finishes the
// minimization in progress and leaves the other violations pending, so it
// returns within its time and one minimization budget (it used to minimize
// them all: 402 s for --time 60s), and says so. (TestCampaignKillResume
// resumes pending violations with --wait-minimize.)
func TestCampaignWindDown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs campaigns")
	}
	const (
		limit  = 6 * time.Second
		budget = 10 * time.Second
		slack  = 10 * time.Second // start, runs in flight, the final replays and report
	)
	dir := filepath.Join(t.TempDir(), "c")
	start := time.Now()
	code, out, stderr := runBin(t, "campaign", "start", "--target", "hraft-forgetful", "--dir", dir, "--workers", "2",
		"--time", limit.String(), "--minimize-budget", budget.String())
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if took > limit+budget+slack {
		t.Errorf("took %s, more than its time (%s) and one minimization budget (%s)", took.Round(time.Second), limit, budget)
	}
	_, vs, _ := storeState(t, dir)
	pending := 0
	for _, v := range vs {
		if v.Status == campaign.Pending {
			pending++
		}
	}
	if len(vs) < 2 || pending == 0 {
		t.Fatalf("%d violations, %d pending: want several found and some left pending\n%s", len(vs), pending, stderr)
	}
	want := regexp.MustCompile(fmt.Sprintf("campaign: %d violation\\(s\\) left pending; `faultline campaign resume --dir %s` minimizes them",
		pending, regexp.QuoteMeta(dir)))
	if !want.MatchString(stderr) {
		t.Errorf("stderr does not say what stays pending (%d):\n%s", pending, stderr)
	}
	code, out, _ = runBin(t, "campaign", "status", "--dir", dir, "--json")
	var cs campaign.Status
	if code != 0 || json.Unmarshal([]byte(out), &cs) != nil || cs.Pending != pending {
		t.Errorf("status --json: exit %d, %d pending, want %d", code, cs.Pending, pending)
	}
}
