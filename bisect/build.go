package bisect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/faultline-dev/faultline/interpose/hraft"
)

// builder builds a module's main package against releases of
// hashicorp/raft, each in a directory of its own under work.
type builder struct {
	goBin  string // the go command
	module string // the module's directory
	main   string // the main package, as go build takes it
	work   string
}

// goCmd runs the go command in the module's directory and returns its
// standard output; an error carries the last line it wrote to stderr.
func (b *builder) goCmd(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, b.goBin, args...)
	cmd.Dir = b.module
	// The module file is ours: a workspace or GOFLAGS of the caller's
	// (-mod=vendor) would build something else.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("go %s: %w: %s", args[0], err, lastLines(stderr.String(), 3))
	}
	return out, nil
}

// download fetches a release of hashicorp/raft into the module cache and
// returns the path of its go.mod.
func (b *builder) download(ctx context.Context, version string) (string, error) {
	out, err := b.goCmd(ctx, "mod", "download", "-json", RaftModule+"@"+version)
	var m struct{ GoMod, Error string }
	if jerr := json.Unmarshal(out, &m); jerr == nil && m.Error != "" {
		return "", errors.New(lastLines(m.Error, 1))
	}
	if err != nil {
		return "", err
	}
	return m.GoMod, nil
}

// build builds the main package against version, with the build tag of its
// API generation, and returns the binary. A release that cannot be fetched
// or built is an error saying which.
func (b *builder) build(ctx context.Context, version string) (string, error) {
	gen, err := hraft.GenerationOf(version)
	if err != nil {
		return "", err
	}
	gomod, err := b.download(ctx, version)
	if err != nil {
		return "", fmt.Errorf("cannot be fetched: %w", err)
	}
	dir := filepath.Join(b.work, "raft@"+version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	mod := filepath.Join(dir, "go.mod")
	if err := copyFile(filepath.Join(b.module, "go.mod"), mod); err != nil {
		return "", err
	}
	if err := copyFile(filepath.Join(b.module, "go.sum"), filepath.Join(dir, "go.sum")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	replaces := []string{"-replace=" + RaftModule + "=" + RaftModule + "@" + version}
	pins, err := pinned(gomod)
	if err != nil {
		return "", err
	}
	for _, p := range pins {
		replaces = append(replaces, "-replace="+p)
	}
	if _, err := b.goCmd(ctx, append([]string{"mod", "edit", "-modfile=" + mod}, replaces...)...); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "faultline")
	args := []string{"build", "-mod=mod", "-modfile=" + mod, "-o", bin}
	if gen.Tag != "" {
		args = append(args, "-tags", gen.Tag)
	}
	if _, err := b.goCmd(ctx, append(args, b.main)...); err != nil {
		return "", fmt.Errorf("did not build: %w", err)
	}
	return bin, nil
}

// pinnedModules are the requirements of a hashicorp/raft release that must
// stay at the version it asks for: github.com/hashicorp/go-metrics v0.7.0
// (which v1.8.0 requires) dropped the compat package v1.7.2 and v1.7.3
// import.
var pinnedModules = []string{"github.com/hashicorp/go-metrics"}

// pinned returns the replace directives (path=path@version) that hold the
// release's own versions of pinnedModules.
func pinned(gomod string) ([]string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return nil, err
	}
	f, err := modfile.ParseLax(gomod, data, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gomod, err)
	}
	var out []string
	for _, r := range f.Require {
		for _, p := range pinnedModules {
			if r.Mod.Path == p {
				out = append(out, p+"="+p+"@"+r.Mod.Version)
			}
		}
	}
	return out, nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

// lastLines returns the last n non-empty lines of s, joined by "; ".
func lastLines(s string, n int) string {
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	lines = lines[max(0, len(lines)-n):]
	return strings.Join(lines, "; ")
}
