package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.md")
	code, stdout, stderr := cli(t, "report", "testdata/forgetful.json", "--out", out)
	if code != 0 || !strings.Contains(stdout, out) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(data), "# Two leaders in one term (ElectionSafety)") || !strings.Contains(string(data), "```mermaid") {
		t.Fatalf("report: %v\n%.200s", err, data)
	}
	_, text, _ := cli(t, "report", "testdata/forgetful.json", "--format", "text")
	_, shown, _ := cli(t, "show", "testdata/forgetful.json")
	if text != shown {
		t.Error("--format text differs from faultline show")
	}
	for _, args := range [][]string{
		{"report", "testdata/forgetful.json", "--format", "pdf"},
		{"report", "missing.json"},
	} {
		if code, _, stderr := cli(t, args...); code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
