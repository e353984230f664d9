package cli

import (
	"bufio"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestBadInput runs the built binary on every case of
// testdata/badinput/cases.txt, in a copy of that directory, and checks what
// a user must get for bad input: exit status 2, one line on stderr, no
// panic trace anywhere, and no file created, changed or removed.
func TestBadInputCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	faultlineBinary(t) // built before the cases, not inside the first
	f, err := os.Open("testdata/badinput/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	long := strings.Repeat("x", 10000)
	module, err := filepath.Abs("..") // faultline's own module, for bisect
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, args, ok := strings.Cut(line, ": ")
		if !ok {
			name, args = strings.TrimSuffix(line, ":"), ""
		}
		n++
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("testdata/badinput")); err != nil {
				t.Fatal(err)
			}
			fifo := filepath.Join(dir, "pipe.json")
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			var argv []string
			for _, a := range strings.Fields(args) {
				a = strings.ReplaceAll(a, "{long}", long)
				a = strings.ReplaceAll(a, "{fifo}", "pipe.json")
				a = strings.ReplaceAll(a, "{module}", module)
				argv = append(argv, a)
			}
			before := tree(t, dir)
			code, stdout, stderr := runIn(t, dir, argv...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "faultline: ") {
				t.Errorf("exit %d, stderr %q; want 2 and one line", code, stderr)
			}
			if all := stdout + stderr; strings.Contains(all, "goroutine ") || strings.Contains(all, "panic:") {
				t.Errorf("a panic trace reached the user:\n%s", all)
			}
			if len(stderr) > 400 {
				t.Errorf("a %d-byte message: %.100s...", len(stderr), stderr)
			}
			if after := tree(t, dir); !equalTrees(before, after) {
				t.Errorf("files changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
	if n < 40 {
		t.Errorf("only %d cases", n)
	}
}

// tree hashes every regular file below dir (other files by their name).
func tree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			m[rel] = sha256.Sum256(data)
		} else {
			m[rel] = [32]byte{}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func equalTrees(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
