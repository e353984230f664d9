package hraft

import (
	"flag"
	"testing"
)

// UnderTest runs fn under a *testing.T from inside a test binary, for callers
// that hold a *testing.B (a benchmark) and need a *testing.T for
// testing/synctest. It reports whether fn passed. It works only in a binary
// built by `go test`, after flag parsing; a command uses testing.Main instead.
// fn runs once, whatever -test.count says (the benchmark around it runs
// that many times already).
func UnderTest(name string, fn func(t *testing.T)) bool {
	if f := flag.Lookup("test.count"); f != nil {
		old := f.Value.String()
		if err := f.Value.Set("1"); err == nil {
			defer f.Value.Set(old)
		}
	}
	return testing.RunTests(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: name, F: fn}})
}
