package report

import (
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/faultline-dev/faultline/internal/linked"
	"github.com/faultline-dev/faultline/invariants"
)

// Module is faultline's module path, looked for in the build information.
const Module = "github.com/faultline-dev/faultline"

// Env is what a report says around the schedule: the tools that made it and
// how to replay it.
type Env struct {
	// Faultline is faultline's version; Go the Go version.
	Faultline, Go string
	// Replay is the command that replays the schedule ("": `faultline
	// replay` with the file's name, which knows only faultline's built-in
	// targets; a test of your own target gives its `go test` line).
	Replay string
	// Model is the model a history of the service's own operations is
	// checked against (hraft.Options.Model), to draw it; nil for the
	// built-in key-value store's, or when the target has none (no
	// drawing then).
	Model *invariants.Model
}

// CurrentEnv describes this binary: faultline's module version (or the VCS
// revision of a build from source) and the Go version. In a binary of
// another module (a test that imports faultline), the version is that of
// faultline among its dependencies, its replacement's when go.mod replaces
// it; a test binary lists no dependencies (golang/go#76926), so the version
// then comes from the path faultline's sources were compiled from (package
// linked), and is "(unknown version)" when that does not say either. It is
// computed once: the binary does not change.
func CurrentEnv() Env { return currentEnv() }

var currentEnv = sync.OnceValue(func() Env {
	bi, ok := debug.ReadBuildInfo()
	return envOf(bi, ok, linked.FileOf(envOf))
})

// envOf is CurrentEnv from given build information and the source file of
// a function of faultline's.
func envOf(bi *debug.BuildInfo, ok bool, file string) Env {
	env := Env{Faultline: "(devel)", Go: runtime.Version()}
	if !ok {
		return env
	}
	if bi.Main.Path != Module {
		env.Faultline = linked.From(bi, ok, Module, file).String()
		if env.Faultline == "" {
			env.Faultline = "(unknown version)"
		}
		return env
	}
	env.Faultline = bi.Main.Version
	for _, st := range bi.Settings {
		if st.Key == "vcs.revision" && len(st.Value) >= 12 {
			env.Faultline += " " + st.Value[:12]
		}
	}
	return env
}
