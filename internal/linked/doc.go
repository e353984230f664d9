// Package linked says which version of a module is linked into the running
// binary, for what faultline records about the code under test (the
// hashicorp/raft of a schedule, the faultline of a report).
//
// The build information (runtime/debug.ReadBuildInfo) lists a binary's
// modules with their versions and replacements, but a test binary's lists
// none (golang/go#76926: Deps is empty under `go test`, which is where
// faultlinetest runs). Lookup then falls back on the path of a source file
// of the module compiled into the binary: a module from the module cache
// (or built with -trimpath) has "module@version/" in it.
//
// Nothing here reads the environment or the file system: only what the
// binary carries about itself.
package linked
