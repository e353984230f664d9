package report

import (
	"runtime"
	"runtime/debug"
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
}

// CurrentEnv describes this binary: faultline's module version (or the VCS
// revision of a build from source) and the Go version. In a binary of
// another module (a test that imports faultline), the version is that of
// faultline among its dependencies.
func CurrentEnv() Env {
	env := Env{Faultline: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return env
	}
	if bi.Main.Path != Module {
		for _, d := range bi.Deps {
			if d.Path == Module {
				env.Faultline = d.Version
				break
			}
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
