package campaign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ownerFile names, in each temporary directory faultline makes, the
// process that owns it: its PID and when it started.
const ownerFile = "pid"

// tempPrefix starts the name of every temporary directory MkdirTemp makes.
const tempPrefix = "faultline-"

// MkdirTemp makes a temporary directory (os.MkdirTemp's, pattern starting
// with "faultline-") and writes its owner, this process, into it, so that
// RemoveStale can tell a directory left by a process that was killed from
// one in use. The caller removes it when done.
func MkdirTemp(pattern string) (string, error) {
	if !strings.HasPrefix(pattern, tempPrefix) {
		return "", fmt.Errorf("campaign: temporary directory %q: want a name starting with %s", pattern, tempPrefix)
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("campaign: %w", err)
	}
	self := os.Getpid()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner(self, processStart(self))), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("campaign: %w", err)
	}
	return dir, nil
}

func owner(pid int, start string) string { return fmt.Sprintf("%d %s\n", pid, start) }

// RemoveStale removes the temporary directories MkdirTemp made (in
// os.TempDir()) whose owner is gone: those of processes killed before they
// could remove them (kill -9, a panic in another goroutine). A directory
// without an owner file, or whose owner still runs, is left alone. It
// returns how many it removed.
func RemoveStale() (int, error) {
	root := os.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, fmt.Errorf("campaign: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or being made
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil || pid <= 0 {
			continue
		}
		start := ""
		if len(f) > 1 {
			start = f[1]
		}
		if alive(pid, start) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// alive reports whether process pid, which started at start ("": not
// known), still runs. When it cannot tell, it says yes: a directory in
// use must never be removed.
func alive(pid int, start string) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	if err := p.Signal(syscall.Signal(0)); errors.Is(err, os.ErrProcessDone) {
		return false
	}
	// The PID may have been reused by a process that started later.
	now := processStart(pid)
	return start == "" || now == "" || now == start
}
