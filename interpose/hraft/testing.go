package hraft

import "testing"

// UnderTest runs fn under a *testing.T from inside a test binary, for callers
// that hold a *testing.B (a benchmark) and need a *testing.T for
// testing/synctest. It reports whether fn passed. It works only in a binary
// built by `go test`, after flag parsing; a command uses testing.Main instead.
func UnderTest(name string, fn func(t *testing.T)) bool {
	return testing.RunTests(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: name, F: fn}})
}
