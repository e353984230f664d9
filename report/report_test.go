package report_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/report"
)

// TestMarkdownReplayCommand: the replay section names Env.Replay when it is
// set, faultline replay with the file's base name otherwise. (The command's
// golden files check every byte of the renderings.)
func TestMarkdownReplayCommand(t *testing.T) {
	s, err := casestudies.Minimal("raft-45")
	if err != nil {
		t.Fatal(err)
	}
	env := report.Env{Faultline: "v0.0.0-test", Go: "go1.26"}
	for _, c := range []struct{ replay, want string }{
		{"", "```sh\nfaultline replay raft-45.min.json\n```"},
		{"go test -run '^TestFuzzBank$' ./bank", "```sh\ngo test -run '^TestFuzzBank$' ./bank\n```"},
	} {
		env.Replay = c.replay
		var b bytes.Buffer
		if err := report.Markdown(&b, "some/dir/raft-45.min.json", s, env); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "## Replay\n\n"+c.want) {
			t.Errorf("Replay %q: the report's replay section is not %q:\n%s", c.replay, c.want, b.String())
		}
	}
}

// TestWriteMarkdown writes the report next to a schedule file and refuses,
// with a wrapped error, a file that is not there.
func TestWriteMarkdown(t *testing.T) {
	s, err := casestudies.Minimal("raft-46")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.json")
	if err := s.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	md, err := report.WriteMarkdown(path, report.Env{})
	if err != nil || md != strings.TrimSuffix(path, ".json")+".md" {
		t.Fatalf("WriteMarkdown: %q, %v", md, err)
	}
	data, err := os.ReadFile(md)
	if err != nil || !strings.HasPrefix(string(data), "# "+report.Title(s.Violation)) {
		t.Fatalf("report: %v\n%.200s", err, data)
	}
	if _, err := report.WriteMarkdown(filepath.Join(t.TempDir(), "missing.json"), report.Env{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCurrentEnv(t *testing.T) {
	env := report.CurrentEnv()
	if env.Go != runtime.Version() || env.Faultline == "" || env.Replay != "" {
		t.Errorf("%+v", env)
	}
}
