package report

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestEnvOf: the faultline version a report prints, in faultline's own
// binary and in binaries of modules that import it (a user's test binary
// lists no dependencies, so the source path answers).
func TestEnvOf(t *testing.T) {
	info := func(text string) *debug.BuildInfo {
		bi, err := debug.ParseBuildInfo(text)
		if err != nil {
			t.Fatal(err)
		}
		return bi
	}
	const user = "go\tgo1.26.8\npath\texample.com/bank\nmod\texample.com/bank\t(devel)\t\n"
	const cached = "/root/go/pkg/mod/github.com/faultline-dev/faultline@v0.4.0/report/env.go"
	const own = "go\tgo1.26.8\npath\tgithub.com/faultline-dev/faultline/cmd/faultline\nmod\tgithub.com/faultline-dev/faultline\t(devel)\t\n"
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		file string
		want string
	}{
		{"faultline's command", info(own + "build\tvcs.revision=eda0c32f0123456789abcdef\n"), true, "/src/faultline/report/env.go", "(devel) eda0c32f0123"},
		{"a user's binary", info(user + "dep\tgithub.com/faultline-dev/faultline\tv0.4.0\th1:x=\n"), true, cached, "v0.4.0"},
		{"a user's binary, faultline replaced", info(user + "dep\tgithub.com/faultline-dev/faultline\tv0.4.0\t\n=>\t../faultline\t\t\n"), true, "/src/faultline/report/env.go", "(replaced by ../faultline)"},
		{"a user's test binary", info(user), true, cached, "v0.4.0"},
		{"a user's test binary, faultline from a directory", info(user), true, "/src/faultline/report/env.go", "(unknown version)"},
		{"no build information", nil, false, cached, "(devel)"},
	} {
		if got := envOf(c.bi, c.ok, c.file); got.Faultline != c.want || got.Go != runtime.Version() {
			t.Errorf("%s: %+v, want Faultline %q", c.name, got, c.want)
		}
	}
}
