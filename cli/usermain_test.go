package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUserMain is what a user of cli.Main does: it builds a command line of
// their own (testdata/mysvc: a bank service with an injected bug, and a
// ten-line main over cli.Main) in a module of its own whose go.mod replaces
// faultline with this repository, runs a short campaign on the bank, whose
// workers re-execute that binary, and checks that campaign list shows the
// violation minimized, with its report naming the binary's replay command.
func TestUserMain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	if err := os.CopyFS(mod, os.DirFS("testdata/mysvc")); err != nil {
		t.Fatal(err)
	}
	// The repository's own requirements, so that nothing new is fetched.
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	own := strings.Replace(string(gomod), "module github.com/faultline-dev/faultline", "module example.com/mysvc", 1) +
		"\nrequire github.com/faultline-dev/faultline v0.0.0-00010101000000-000000000000\n" +
		"\nreplace github.com/faultline-dev/faultline => " + root + "\n"
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "mysvc-faultline")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mysvc-faultline")
	build.Dir = mod
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	run := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String(), errb.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, out.String(), errb.String()
	}

	if code, out, stderr := run("targets"); code != 0 || !strings.Contains(out, "bank") || !strings.Contains(out, "hraft-forgetful") {
		t.Fatalf("targets: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr := run("campaign", "start", "--target", "bank", "--dir", "nightly", "--workers", "1", "--time", "2m",
		"--stop-at", "1", "--minimize-budget", "1m")
	if code != 0 || strings.Contains(stderr, "goroutine ") {
		t.Fatalf("campaign start: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = run("campaign", "list", "--dir", "nightly")
	if code != 0 {
		t.Fatalf("campaign list: exit %d\n%s", code, stderr)
	}
	t.Logf("campaign list:\n%s", out)
	row := regexp.MustCompile(`(?m)^\s*│?\s*([0-9a-f]{10})\s*│\s*MoneyIsConserved\s*│.*│\s*(\d+)\s*│\s*minimized\s*│?$`).FindStringSubmatch(out)
	if row == nil {
		t.Fatalf("campaign list shows no minimized MoneyIsConserved:\n%s", out)
	}
	code, out, stderr = run("campaign", "show", "--dir", "nightly", row[1])
	if code != 0 {
		t.Fatalf("campaign show: exit %d\n%s", code, stderr)
	}
	vdir := filepath.Join(work, "nightly", "violations", row[1])
	md, err := os.ReadFile(filepath.Join(vdir, "report.md"))
	if err != nil || !strings.Contains(string(md), "# Invariant MoneyIsConserved broken") ||
		!strings.Contains(string(md), "mysvc-faultline replay ") || !strings.Contains(out, "mysvc-faultline replay ") {
		t.Fatalf("report: %v\n%.400s\nshow:\n%s", err, md, out)
	}
	minimized := filepath.Join(vdir, "minimized.json")
	if code, out, stderr := run("replay", minimized, "--repeat", "3"); code != 0 || !strings.Contains(out, "reproduced 3/3") {
		t.Fatalf("replay: exit %d\n%s\n%s", code, out, stderr)
	}
	// Where the bank's walk spends its time, as for a built-in target.
	code, out, stderr = run("measure", "cost", "--target", "bank", "--runs", "300", "--json")
	var cost struct {
		Runs  int
		Parts []struct {
			Part  string
			Share float64
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &cost) != nil || cost.Runs == 0 || len(cost.Parts) != 5 {
		t.Fatalf("measure cost: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, p := range cost.Parts {
		if p.Part != "called" && p.Share == 0 {
			t.Errorf("measure cost of the bank: no time in %q: %+v", p.Part, cost.Parts)
		}
	}
	t.Logf("measure cost of the bank: %+v", cost.Parts)
	if code, out, stderr := run("report", minimized, "--format", "svg", "--out", "r.svg"); code != 0 {
		t.Fatalf("report --format svg: exit %d\n%s\n%s", code, out, stderr)
	}
	// bisect rebuilds the user's own command against another release.
	code, out, stderr = run("bisect", minimized, "--releases", "v1.7.3..v1.8.0", "--repeat", "2", "--module", mod, "--json")
	if code != 0 {
		t.Fatalf("bisect: exit %d\n%s\n%s", code, out, stderr)
	}
	var rep struct {
		Target string
		Rows   []struct {
			Release string
			Tested  bool
			Error   string
			Shows   bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bisect --json: %v\n%s", err, out)
	}
	if rep.Target != "bank" || len(rep.Rows) != 2 || rep.Rows[0].Release != "v1.8.0" || !rep.Rows[0].Shows ||
		rep.Rows[1].Release != "v1.7.3" || !rep.Rows[1].Tested || rep.Rows[1].Error != "" {
		t.Fatalf("bisect of the bank on v1.7.3..v1.8.0: %+v\n%s", rep, stderr)
	}
	t.Logf("bisect: %+v", rep.Rows)
}
