package hraft

import (
	"os"
	"regexp"
	"testing"
)

// TestRaftVersionIsGoMods: the version schedules record is the one the
// module's go.mod requires, read from this test binary (whose build
// information lists no dependencies: package linked's fallback is what
// answers here).
func TestRaftVersionIsGoMods(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/hashicorp/raft (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod requires no github.com/hashicorp/raft")
	}
	want := "hashicorp/raft " + string(m[1])
	if got := RaftVersion(); got != want {
		t.Errorf("RaftVersion() = %q, want %q (go.mod)", got, want)
	}
	if got := NewTarget("x", "", Options{}).Spec(3, 1).Config["raft"]; got != want {
		t.Errorf(`Spec's Config["raft"] = %q, want %q`, got, want)
	}
}
