package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

var update = flag.Bool("update", false, "rewrite golden files")

// cli runs the command in this process, under the test's own *testing.T.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdout: &out,
		stderr: &errb,
		withT:  func(fn func(*testing.T) error) error { return fn(t) },
		argv:   append([]string{"faultline"}, args...),
	}
	code = a.run(args)
	return code, out.String(), errb.String()
}

func TestTargets(t *testing.T) {
	code, out, _ := cli(t, "targets")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, name := range []string{"hraft", "hraft-serial", "hraft-forgetful"} {
		if !strings.Contains(out, name) {
			t.Errorf("targets does not list %s:\n%s", name, out)
		}
	}
	code, out, _ = cli(t, "targets", "--json")
	var list []struct{ Name string }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) < 3 {
		t.Fatalf("targets --json: exit %d, %q", code, out)
	}
}

type fuzzJSON struct {
	Target     string   `json:"target"`
	Runs       *int     `json:"runs"`
	Events     *int     `json:"events"`
	ElapsedS   *float64 `json:"elapsed_s"`
	EventsPerS *float64 `json:"events_per_s"`
	Violations []struct {
		Invariant   string `json:"invariant"`
		Fingerprint string `json:"fingerprint"`
		Schedule    string `json:"schedule"`
		Events      int    `json:"events"`
	} `json:"violations"`
}

func TestFuzzFindsSavesAndReplays(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := cli(t, "fuzz", "--target", "hraft-forgetful", "--out", dir, "--json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (violation found); stderr %q", code, stderr)
	}
	var res fuzzJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if res.Target != "hraft-forgetful" || res.Runs == nil || res.Events == nil || res.ElapsedS == nil || res.EventsPerS == nil {
		t.Fatalf("missing fields: %s", out)
	}
	if len(res.Violations) != 1 || res.Violations[0].Invariant == "" || res.Violations[0].Fingerprint == "" || res.Violations[0].Events == 0 {
		t.Fatalf("violations: %+v", res.Violations)
	}
	file := res.Violations[0].Schedule
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}

	code, out, _ = cli(t, "replay", file, "--repeat", "3", "--json")
	var rep struct {
		Runs, Reproduced int
		Fingerprint      string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("replay: exit %d, %v\n%s", code, err, out)
	}
	if rep.Runs != 3 || rep.Reproduced != 3 || rep.Fingerprint != res.Violations[0].Fingerprint {
		t.Fatalf("replay: %+v", rep)
	}

	code, out, _ = cli(t, "show", file)
	if code != 0 || !strings.Contains(out, "violation: "+res.Violations[0].Invariant) || !strings.Contains(out, "final state") {
		t.Fatalf("show: exit %d\n%s", code, out)
	}
}

func TestFuzzCleanTargetExitsZero(t *testing.T) {
	code, out, _ := cli(t, "fuzz", "--target", "hraft-serial", "--runs", "20", "--out", t.TempDir())
	if code != 0 || !strings.Contains(out, "no violation found") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := os.ReadFile("testdata/forgetful.json")
	if err != nil {
		t.Fatal(err)
	}
	truncated := write("truncated.json", string(good[:len(good)/2]))
	notJSON := write("notjson.json", "this is not a schedule\n")
	v9 := write("v9.json", strings.Replace(string(good), `"version": 1`, `"version": 9`, 1))
	unknownTarget := write("unknown.json", strings.Replace(string(good), `"name": "hraft-forgetful"`, `"name": "etcd"`, 1))
	gs, err := interpose.ReadFile("testdata/forgetful.json")
	if err != nil {
		t.Fatal(err)
	}
	gs.Violation = nil
	noViolation := filepath.Join(dir, "none.json")
	if err := gs.WriteFile(noViolation); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"replay", filepath.Join(dir, "nope.json")}, "no such file"},
		{"truncated", []string{"replay", truncated}, "damaged schedule"},
		{"not JSON", []string{"show", notJSON}, "damaged schedule"},
		{"version 9", []string{"replay", v9}, "unsupported schedule version 9"},
		{"unknown target in file", []string{"replay", unknownTarget}, `unknown target "etcd"`},
		{"unknown target", []string{"fuzz", "--target", "etcd"}, `unknown target "etcd"`},
		{"no target", []string{"fuzz"}, `"target" not set`},
		{"unknown flag", []string{"fuzz", "--target", "hraft", "--frobnicate"}, "unknown flag: --frobnicate"},
		{"bad flag value", []string{"fuzz", "--target", "hraft", "--runs", "many"}, "invalid argument"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad repeat", []string{"replay", "x.json", "--repeat", "0"}, "--repeat 0"},
		{"replay without file", []string{"replay"}, "accepts 1 arg"},
		{"minimize missing file", []string{"minimize", filepath.Join(dir, "nope.json")}, "no such file"},
		{"minimize no violation", []string{"minimize", noViolation}, "shows no violation"},
		{"minimize bad replays", []string{"minimize", "x.json", "--replays", "0"}, "--replays 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := cli(t, c.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stdout %q", code, out)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "faultline: ") || !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q; want one line naming %q", stderr, c.want)
			}
		})
	}
}

func TestMinimize(t *testing.T) {
	out := filepath.Join(t.TempDir(), "min.json")
	code, stdout, stderr := cli(t, "minimize", "testdata/forgetful.json", "--out", out, "--budget", "1m")
	if code != 0 || !strings.Contains(stdout, "reproduced 20/20") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	md := strings.TrimSuffix(out, ".json") + ".md"
	if !strings.Contains(stdout, "report:   "+md) {
		t.Errorf("no report path printed:\n%s", stdout)
	}
	if data, err := os.ReadFile(md); err != nil || !strings.Contains(string(data), "```mermaid") {
		t.Errorf("report %s: %v", md, err)
	}
	in, err := interpose.ReadFile("testdata/forgetful.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := interpose.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) >= len(in.Events) || got.Violation.Fingerprint != in.Violation.Fingerprint {
		t.Fatalf("%d -> %d events, %s", len(in.Events), len(got.Events), got.Violation.Fingerprint)
	}
	if got.Origin.Parent != in.Hash() || got.Minimization == nil || got.Minimization.Reproduced != 20 {
		t.Fatalf("origin %+v, minimization %+v", got.Origin, got.Minimization)
	}
	for _, phase := range []string{"term clusters", "internals", "externals", "nodes"} {
		if !strings.Contains(stdout, phase) {
			t.Errorf("the phase table lacks %q:\n%s", phase, stdout)
		}
	}
}

// TestMinimizeCrashTime: a crash is minimized across worker processes, each
// candidate that crashes one resumed by the next; the schedule written and
// the report say the time of them all, as the result does, not the last
// worker's alone.
func TestMinimizeCrashTime(t *testing.T) {
	if testing.Short() {
		t.Skip("minimizes in worker processes")
	}
	out := filepath.Join(t.TempDir(), "min.json")
	in, err := filepath.Abs("../results/found/hraft-fulldisk-NoPanic.json")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBin(t, "minimize", in, "--out", out, "--budget", "6s", "--json")
	if code > 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res struct {
		ElapsedS float64 `json:"elapsed_s"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	got, err := interpose.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Minimization == nil || math.Abs(got.Minimization.ElapsedS-res.ElapsedS) > 1e-6 {
		t.Fatalf("the schedule says %+v, the result %.3f s", got.Minimization, res.ElapsedS)
	}
}

func TestShowGolden(t *testing.T) {
	code, out, _ := cli(t, "show", "testdata/forgetful.json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	golden := "testdata/forgetful.show"
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("show output differs from %s (rerun with -update to accept):\n%s", golden, out)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
)

// faultlineBinary builds the command once per test process.
func faultlineBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "faultline-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "faultline")
		if out, err := exec.Command("go", "build", "-o", binPath, "../cmd/faultline").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// TestBinary runs the real command, through testing.Main, as a user does.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) { return runIn(t, dir, args...) }
	code, out, stderr := run("fuzz", "--target", "hraft-forgetful")
	if code != 1 || !strings.Contains(out, "replay:   faultline replay faultline-out/") {
		t.Fatalf("fuzz: exit %d\n%s\n%s", code, out, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "faultline-out", "*.json"))
	if len(files) != 1 {
		t.Fatalf("files: %v", files)
	}
	if code, out, stderr := run("replay", files[0], "--repeat", "5"); code != 0 || !strings.Contains(out, "reproduced 5/5") {
		t.Fatalf("replay: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr := run("replay", "missing.json"); code != 2 || strings.Contains(stderr, "goroutine") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("replay missing: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := run("fuzz", "--target", "nope"); code != 2 || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("unknown target: exit %d, stderr %q", code, stderr)
	}

	// A panic in raft's own goroutine ends a worker, not the campaign: it
	// is a violation with its schedule, and it replays (in workers too).
	code, out, stderr = run("fuzz", "--target", "hraft-fulldisk", "--runs", "5", "--keep-going", "--json", "--out", "crash")
	var res fuzzJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 {
		t.Fatalf("fuzz hraft-fulldisk: exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	if strings.Contains(stderr, "goroutine ") {
		t.Errorf("a panic trace reached the user:\n%s", stderr)
	}
	var crashFile string
	for _, v := range res.Violations {
		if strings.HasPrefix(v.Fingerprint, "NoPanic: failed to save current term") {
			crashFile = v.Schedule
		}
	}
	if crashFile == "" || *res.Runs != 5 {
		t.Fatalf("runs %d, violations %+v; want the crash of raft's setCurrentTerm", *res.Runs, res.Violations)
	}
	code, out, stderr = run("replay", crashFile, "--repeat", "3")
	if code != 0 || !strings.Contains(out, "reproduced 3/3") || strings.Contains(stderr, "goroutine ") {
		t.Fatalf("replay of a crash: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
