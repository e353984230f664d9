package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/campaign"
)

// runBin runs the faultline binary and returns its exit code and output.
func runBin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, "", args...)
}

// runIn runs the faultline binary in dir.
func runIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(faultlineBinary(t), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// storeState reads a stopped campaign's store.
func storeState(t *testing.T, dir string) ([]campaign.Piece, []campaign.Violation, campaign.Stats) {
	t.Helper()
	st, err := campaign.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, err := st.Pieces()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := st.Violations()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := st.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return ps, vs, stats
}

// checkConsistent checks that no run is recorded twice and that each
// violation's hits are the sum of its pieces' hits.
func checkConsistent(t *testing.T, ps []campaign.Piece, vs []campaign.Violation, stats campaign.Stats) {
	t.Helper()
	runs, hits := 0, map[string]int{}
	for i, p := range ps {
		if i > 0 && ps[i-1].First+ps[i-1].Count > p.First {
			t.Errorf("pieces overlap: %+v and %+v", ps[i-1], p)
		}
		runs += p.Count
		for _, h := range p.Hits {
			hits[h.ID] += h.Count
		}
	}
	if runs != stats.Runs {
		t.Errorf("stats count %d runs, the pieces %d", stats.Runs, runs)
	}
	seen := map[string]bool{}
	for _, v := range vs {
		if seen[v.Fingerprint] {
			t.Errorf("violation %s recorded twice", v.Fingerprint)
		}
		seen[v.Fingerprint] = true
		if v.Hits != hits[v.ID] {
			t.Errorf("violation %s: %d hits, its pieces say %d", v.ID, v.Hits, hits[v.ID])
		}
	}
}

// TestCampaignKillResume kills a running campaign with SIGKILL, resumes it,
// and checks that nothing recorded was lost or counted twice and that the
// runs went on from where they stopped.
func TestCampaignKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs campaigns")
	}
	dir := filepath.Join(t.TempDir(), "c")
	cmd := exec.Command(faultlineBinary(t), "campaign", "start", "--target", "raft-45", "--dir", dir,
		"--workers", "2", "--chunk", "5", "--minimize-budget", "5s")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	var before campaign.Snapshot
	for {
		time.Sleep(200 * time.Millisecond)
		sn, err := campaign.ReadSnapshot(dir)
		if err == nil && sn.Stats.Runs >= 60 && len(sn.Violations) > 0 {
			before = sn
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no violation after 90 s: %+v\n%s", sn.Stats, errb.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ps0, vs0, st0 := storeState(t, dir)
	checkConsistent(t, ps0, vs0, st0)
	if st0.Runs < before.Stats.Runs {
		t.Errorf("store has %d runs, fewer than the %d of the last status", st0.Runs, before.Stats.Runs)
	}
	hits0 := map[string]int{}
	for _, v := range vs0 {
		hits0[v.Fingerprint] = v.Hits
	}
	for _, v := range before.Violations {
		if hits0[v.Fingerprint] < v.Hits {
			t.Errorf("violation %s lost hits in the kill: %d, was %d", v.ID, hits0[v.Fingerprint], v.Hits)
		}
	}

	code, out, stderr := runBin(t, "campaign", "resume", "--dir", dir, "--workers", "2", "--time", "3s", "--wait-minimize")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, stderr)
	}
	ps1, vs1, st1 := storeState(t, dir)
	checkConsistent(t, ps1, vs1, st1)
	// Every piece recorded before the kill is still there, unchanged.
	have := map[int]campaign.Piece{}
	for _, p := range ps1 {
		have[p.First] = p
	}
	for _, p := range ps0 {
		if q, ok := have[p.First]; !ok || q.Count != p.Count || q.Events != p.Events {
			t.Errorf("piece %+v changed to %+v", p, q)
		}
	}
	// The holes the kill left are filled: every run up to the furthest one
	// recorded before the kill is done.
	last := ps0[len(ps0)-1]
	covered := 0
	for _, p := range ps1 {
		if p.First != covered {
			break
		}
		covered += p.Count
	}
	if covered < last.First+last.Count || st1.Runs <= st0.Runs {
		t.Errorf("resume: runs 0-%d contiguous, before the kill up to %d; runs %d -> %d",
			covered, last.First+last.Count, st0.Runs, st1.Runs)
	}
	for _, v := range vs0 {
		found := false
		for _, w := range vs1 {
			if w.Fingerprint == v.Fingerprint {
				found = true
				if w.Hits < v.Hits {
					t.Errorf("violation %s: %d hits after resume, %d before", v.ID, w.Hits, v.Hits)
				}
				if w.Status != campaign.Minimized || !w.HasReport {
					t.Errorf("violation %s not minimized with a report after resume: %+v", v.ID, w)
				}
			}
		}
		if !found {
			t.Errorf("violation %s lost", v.ID)
		}
	}
	if st1.Sessions != 2 {
		t.Errorf("%d sessions, want 2", st1.Sessions)
	}

	// status, list and show on the stopped campaign.
	code, out, _ = runBin(t, "campaign", "status", "--dir", dir, "--json")
	var cs campaign.Status
	if code != 0 || json.Unmarshal([]byte(out), &cs) != nil || cs.Runs != st1.Runs || cs.Violations != len(vs1) || cs.Minimized < 1 {
		t.Errorf("status --json: exit %d, %s", code, out)
	}
	id := vs1[0].ID
	code, out, _ = runBin(t, "campaign", "show", "--dir", dir, id[:6])
	report := filepath.Join(dir, "violations", id, "report.md")
	if code != 0 || !strings.Contains(out, "faultline replay "+filepath.Join(dir, "violations", id, "minimized.json")) {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	if md, err := os.ReadFile(report); err != nil || !strings.HasPrefix(string(md), "# ") {
		t.Errorf("report %s: %v", report, err)
	}
	if code, out, _ = runBin(t, "replay", filepath.Join(dir, "violations", id, "minimized.json"), "--repeat", "3"); code != 0 {
		t.Errorf("the minimized schedule does not replay:\n%s", out)
	}
}

// TestCampaignCrashedRun: a run that kills its worker (raft panics in its
// own goroutine) is a finding with its schedule, and the campaign goes on.
func TestCampaignCrashedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs campaigns")
	}
	dir := filepath.Join(t.TempDir(), "c")
	code, out, stderr := runBin(t, "campaign", "start", "--target", "hraft-fulldisk", "--dir", dir,
		"--workers", "1", "--chunk", "4", "--time", "4s", "--minimize-budget", "5s", "--wait-minimize")
	if code != 0 || strings.Contains(stderr, "goroutine ") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	ps, vs, st := storeState(t, dir)
	checkConsistent(t, ps, vs, st)
	var crash *campaign.Violation
	for i, v := range vs {
		if v.Crash && strings.HasPrefix(v.Fingerprint, "NoPanic: failed to save current term") {
			crash = &vs[i]
		}
	}
	if crash == nil {
		t.Fatalf("no crash recorded: %+v", vs)
	}
	if st.Runs <= crash.Run+1 {
		t.Errorf("the campaign stopped at the crash: %d runs, crash at run %d", st.Runs, crash.Run)
	}
	// A crash is minimized too, in worker processes: a candidate that
	// crashes them the same way reproduces.
	if crash.Status != campaign.Minimized || !crash.HasReport || crash.MinimizedEvents == 0 ||
		crash.MinimizedEvents >= crash.Events {
		t.Errorf("crash not minimized: %+v", crash)
	}
}

// TestCampaignShardsMerge runs two shards of one campaign and merges them.
func TestCampaignShardsMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs campaigns")
	}
	base := t.TempDir()
	var dirs []string
	for _, shard := range []string{"0/2", "1/2"} {
		dir := filepath.Join(base, strings.ReplaceAll(shard, "/", "of"))
		dirs = append(dirs, dir)
		code, out, stderr := runBin(t, "campaign", "start", "--target", "raft-45", "--dir", dir, "--workers", "1",
			"--chunk", "5", "--time", "2s", "--shard", shard, "--minimize-budget", "1s")
		if code != 0 {
			t.Fatalf("shard %s: exit %d\n%s\n%s", shard, code, out, stderr)
		}
	}
	merged := filepath.Join(base, "all")
	for range 2 { // the second merge adds nothing
		if code, out, stderr := runBin(t, append([]string{"campaign", "merge", merged}, dirs...)...); code != 0 {
			t.Fatalf("merge: exit %d\n%s\n%s", code, out, stderr)
		}
	}
	ps, vs, st := storeState(t, merged)
	checkConsistent(t, ps, vs, st)
	total := 0
	for _, d := range dirs {
		ps, _, _ := storeState(t, d)
		for _, p := range ps {
			if d == dirs[0] && p.First/5%2 != 0 || d == dirs[1] && p.First/5%2 != 1 {
				t.Errorf("%s ran a chunk of the other shard: %+v", d, p)
			}
			total += p.Count
		}
	}
	if st.Runs != total {
		t.Errorf("merged %d runs, the shards ran %d", st.Runs, total)
	}
}

func TestCampaignBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	empty := t.TempDir()
	cases := [][]string{
		{"campaign", "status", "--dir", empty},
		{"campaign", "resume", "--dir", empty},
		{"campaign", "show", "--dir", empty, "abc"},
		{"campaign", "start", "--target", "nope", "--dir", empty},
		{"campaign", "start", "--target", "raft-45", "--dir", empty, "--shard", "2/2"},
		{"campaign", "start", "--target", "raft-45", "--dir", empty, "--strategy", "dfs"},
		{"campaign", "start", "--target", "raft-45", "--dir", empty, "--workers", "0"},
	}
	for _, args := range cases {
		code, _, stderr := runBin(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestCampaignMonitorCoverage: a campaign with --liveness keeps, in its
// store, in how many runs each monitor turned hot, and its status says so;
// a monitor that never did is listed as having checked nothing.
func TestCampaignMonitorCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a campaign")
	}
	dir := t.TempDir()
	code, out, stderr := runBin(t, "campaign", "start", "--target", "raft", "--dir", dir, "--workers", "1",
		"--events", "300", "--time", "2s", "--liveness", "--minimize-budget", "0")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	_, _, st := storeState(t, dir)
	if st.Monitors["Commit"] == 0 || st.Monitors["Commit"] > st.Runs || len(st.Monitors) != 3 {
		t.Errorf("monitors %v over %d runs", st.Monitors, st.Runs)
	}
	if !strings.Contains(out, "liveness monitors: Accepts ") {
		t.Errorf("the status does not say the monitors' coverage:\n%s", out)
	}
	// The actor Raft's workload draws no fault, and acknowledges no write:
	// the campaign says so, and counts what its properties compared.
	if !strings.Contains(out, "warning: faults that never fired: drop, duplicate, crash") || st.Checks["ElectionSafety"] == 0 {
		t.Errorf("coverage: checks %v\n%s", st.Checks, out)
	}
}

// TestBaselineSurvivesACrash: on hraft-fulldisk, raft panics in one of its
// own goroutines on the real clock, which kills a test process; `measure
// baseline` runs the baseline in a worker process, counts that crash, and
// prints its table, with no panic trace (eight clusters: the first to
// crash ends the run; one alone may lose its nodes to restarts that panic
// first and never crash).
func TestBaselineSurvivesACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("real clock")
	}
	code, stdout, stderr := runBin(t, "measure", "baseline", "--target", "hraft-fulldisk", "--invariant", "ElectionSafety",
		"--seeds", "1", "--timers", "test", "--clusters", "8", "--time", "30s", "--weights", "", "--weights", "crash=15,recover=30")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if all := stdout + stderr; strings.Contains(all, "goroutine ") {
		t.Fatalf("a panic trace reached the user:\n%s", all)
	}
	var row string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "| real-clock chaos") {
			row = l
		}
	}
	cells := strings.Split(row, "|")
	if len(cells) < 10 || strings.TrimSpace(cells[len(cells)-2]) != "1" {
		t.Fatalf("want the baseline's row to count one crashed process:\n%s", stdout)
	}
	// A row of faultline's (swarm, the default) for each --weights, the
	// target's own ("") first.
	for _, want := range []string{"| faultline fuzz --want ElectionSafety --strategy swarm (one core)",
		"| faultline fuzz --want ElectionSafety --strategy swarm --weights crash=15,recover=30 (one core)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no row %q:\n%s", want, stdout)
		}
	}
}

// TestMeasureReplaySurvivesACrash: on hraft-fulldisk most runs end with raft
// panicking in its own goroutine, which kills the process that walks or
// replays them; `measure replay` goes on in a fresh worker, replays such a
// run in a process of its own each time, and prints its table with those
// rows marked and no panic trace.
func TestMeasureReplaySurvivesACrash(t *testing.T) {
	code, stdout, stderr := runBin(t, "measure", "replay", "--target", "hraft-fulldisk", "--schedules", "4", "--repeat", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if all := stdout + stderr; strings.Contains(all, "goroutine ") {
		t.Fatalf("a panic trace reached the user:\n%s", all)
	}
	if !strings.Contains(stdout, "(killed its process; 2 replays)") || !strings.Contains(stdout, "hraft-fulldisk: 4 schedules (from 4 runs), 8 replays") {
		t.Fatalf("want 4 schedules of 2 replays, one at least marked as having killed its process:\n%s", stdout)
	}
}

// TestMeasureCostSurvivesACrash: on hraft-serial, runs 140 and 147 of seed
// 1 end with raft panicking in its own goroutine, which kills the worker
// that profiles them; `measure cost` goes on in a fresh worker, prints its
// table with those runs named, and no panic trace. On hraft-fulldisk,
// where nearly every run panics, it says so on one line.
func TestMeasureCostSurvivesACrash(t *testing.T) {
	code, stdout, stderr := runBin(t, "measure", "cost", "--target", "hraft-serial", "--runs", "200")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if all := stdout + stderr; strings.Contains(all, "goroutine ") {
		t.Fatalf("a panic trace reached the user:\n%s", all)
	}
	for _, want := range []string{"│ reseed ", "│ system ", "hraft-serial: ", "not profiled: runs 140, 147 ended their worker"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = runBin(t, "measure", "cost", "--target", "hraft-fulldisk", "--runs", "20")
	if code == 0 || strings.Contains(stdout+stderr, "goroutine ") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 ||
		!strings.Contains(stderr, "workers died") {
		t.Fatalf("want one line saying the workers died, exit non-zero: exit %d\n%s%s", code, stdout, stderr)
	}
}
