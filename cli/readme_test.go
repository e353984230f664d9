package cli

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeUserMain keeps the README's main over cli.Main identical to
// testdata/mysvc/cmd/mysvc-faultline/main.go, which TestUserMain builds and
// runs.
func TestReadmeUserMain(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- usermain:begin -->\n```go\n", "```\n<!-- usermain:end -->"
	_, rest, ok := strings.Cut(string(readme), begin)
	block, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatal("README.md has no main between the usermain markers")
	}
	src, err := os.ReadFile("testdata/mysvc/cmd/mysvc-faultline/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if block != string(src) {
		t.Error("README.md's main differs from cli/testdata/mysvc/cmd/mysvc-faultline/main.go; copy the file into the README")
	}
}
