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
	"github.com/faultline-dev/faultline/interpose"
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

// TestMarkdownKnownUpstream: a violation that is a known hashicorp/raft bug
// by the table gets a line naming the issue right under it; others get
// none (hraft-forgetful's ElectionSafety is its injected store's).
func TestMarkdownKnownUpstream(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"../casestudies/testdata/hraft.min.json", "n2 and n1 hold different entries at index 3, term 3, after event 18 of 18.\n\n" +
			"Known upstream: [hashicorp/raft#695](https://github.com/hashicorp/raft/issues/695) — a heartbeat handled on"},
		{"../casestudies/testdata/found/hraft-serial-stale-snapshot.json", "\n\nKnown upstream: [hashicorp/raft#85](https://github.com/hashicorp/raft/issues/85) — "},
		{"../casestudies/testdata/hraft-forgetful.min.json", ""},
		{"../casestudies/testdata/found/hraft-serial-stale-entries-below-snapshot.json", ""},
	} {
		s, err := interpose.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := report.Markdown(&b, c.file, s, report.Env{}); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		if c.want == "" {
			if strings.Contains(got, "Known upstream") {
				t.Errorf("%s: labelled known upstream:\n%.400s", c.file, got)
			}
			continue
		}
		if !strings.Contains(got, c.want) || strings.Count(got, "Known upstream") != 1 ||
			strings.Index(got, "Known upstream") > strings.Index(got, "## Environment") {
			t.Errorf("%s: no %q under the violation:\n%.600s", c.file, c.want, got)
		}
	}
}

// TestHistoryBesideReport: the report of a Linearizability violation links
// porcupine's drawing of its client history, written beside it.
func TestHistoryBesideReport(t *testing.T) {
	data, err := os.ReadFile("../results/report/hraft-stale-reads.min.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stale.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	md, err := report.WriteMarkdown(path, report.Env{})
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(text), "drawn by porcupine: [stale.history.html](stale.history.html)") {
		t.Fatalf("report %s: %v\n%s", md, err, text)
	}
	html, err := os.ReadFile(filepath.Join(filepath.Dir(path), "stale.history.html"))
	if err != nil || !strings.Contains(string(html), `write \"7\"`) {
		t.Errorf("history drawing: %v, %d bytes", err, len(html))
	}
}
