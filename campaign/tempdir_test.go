package campaign

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRemoveStale: a temporary directory whose owner is gone is removed;
// one whose owner runs, or that names no owner, or is not faultline's, is
// kept.
func TestRemoveStale(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	cases := []struct {
		name, dir string
		owner     string // the pid file ("": none)
		kept      bool
	}{
		{"owner gone", "faultline-worker-1", fmt.Sprintf("%d\n", dead.Process.Pid), false},
		{"owner gone, with its start time", "faultline-read-1", fmt.Sprintf("%d 12345\n", dead.Process.Pid), false},
		{"owner runs", "faultline-worker-2", owner(self, processStart(self)), true},
		{"owner runs, start time unknown", "faultline-minimize-1", fmt.Sprintf("%d\n", self), true},
		{"PID reused by a later process", "faultline-worker-3", fmt.Sprintf("%d 1\n", self), processStart(self) == ""},
		{"no owner", "faultline-worker-4", "", true},
		{"not faultline's", "other-worker-1", fmt.Sprintf("%d\n", dead.Process.Pid), true},
	}
	for _, c := range cases {
		dir := filepath.Join(tmp, c.dir)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if c.owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(c.owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	mine, err := MkdirTemp("faultline-worker-")
	if err != nil {
		t.Fatal(err)
	}
	n, err := RemoveStale()
	if err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, c := range cases {
		_, err := os.Stat(filepath.Join(tmp, c.dir))
		if kept := err == nil; kept != c.kept {
			t.Errorf("%s: kept %v, want %v", c.name, kept, c.kept)
		}
		if !c.kept {
			removed++
		}
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("MkdirTemp's directory of this process was removed: %v", err)
	}
	if n != removed {
		t.Errorf("RemoveStale says %d removed, want %d", n, removed)
	}
}
