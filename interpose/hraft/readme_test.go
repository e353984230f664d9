package hraft_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExample keeps the README's example identical to
// example_service_test.go, which this package compiles and runs.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- example:begin -->\n```go\n", "```\n<!-- example:end -->"
	_, rest, ok := strings.Cut(string(readme), begin)
	block, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatal("README.md has no example block between the example markers")
	}
	src, err := os.ReadFile("example_service_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if block != string(src) {
		t.Error("README.md's example differs from interpose/hraft/example_service_test.go; copy the file into the README")
	}
}
