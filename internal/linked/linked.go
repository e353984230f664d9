package linked

import (
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
)

// Module is what a binary says of one of its modules.
type Module struct {
	// Version is the version linked ("" when the binary does not say); for
	// a module replaced by another module, the replacement's version.
	Version string
	// Replacement is the path of the module or directory that go.mod's
	// replace directive put in its place ("" when it is not replaced, or
	// replaced by another release of itself, as faultline bisect does).
	Replacement string
}

// String is the version followed by the replacement, as faultline prints
// them: "v1.8.0", "v1.8.1-fix (replaced by github.com/me/raft)",
// "(replaced by ../raft)"; "" when nothing is known.
func (m Module) String() string {
	switch {
	case m.Replacement == "":
		return m.Version
	case m.Version == "":
		return "(replaced by " + m.Replacement + ")"
	}
	return m.Version + " (replaced by " + m.Replacement + ")"
}

// Lookup returns what this binary says of module path. fn is a function of
// that module (raft.NewRaft, say): its source file's path is read when the
// build information lists no modules.
func Lookup(path string, fn any) Module {
	bi, ok := debug.ReadBuildInfo()
	return From(bi, ok, path, FileOf(fn))
}

// From is Lookup's rule on given build information and source file path:
// the module among bi's dependencies (its replacement, when it has one),
// else the version in file's "path@version/" part, else nothing. bi may be
// nil when ok is false.
func From(bi *debug.BuildInfo, ok bool, path, file string) Module {
	if ok && bi != nil {
		for _, d := range bi.Deps {
			if d.Path != path {
				continue
			}
			if r := d.Replace; r != nil && r.Path == path {
				// Another release of the same module (faultline bisect).
				return Module{Version: r.Version}
			}
			if r := d.Replace; r != nil {
				return Module{Version: r.Version, Replacement: r.Path}
			}
			return Module{Version: d.Version}
		}
	}
	_, rest, found := strings.Cut(file, path+"@")
	if !found {
		return Module{}
	}
	version, _, found := strings.Cut(rest, "/")
	if !found || version == "" {
		return Module{}
	}
	return Module{Version: unescape(version)}
}

// FileOf is the source file of function fn in this binary ("" when fn is
// not a function).
func FileOf(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return ""
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return ""
	}
	file, _ := f.FileLine(f.Entry())
	return file
}

// unescape undoes the module cache's escaping of upper-case letters in a
// version ("!r!c1" for "RC1").
func unescape(s string) string {
	if !strings.Contains(s, "!") {
		return s
	}
	var b strings.Builder
	up := false
	for _, r := range s {
		switch {
		case r == '!':
			up = true
			continue
		case up && r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}
