package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/etcdraft"
)

// amnesiac is a user's etcd raft storage that forgets its term and vote at
// a crash (an etcdraft.Crasher), keeping its log and commit index.
type amnesiac struct{ *raft.MemoryStorage }

func (s amnesiac) Crash() {
	hs, _, _ := s.InitialState()
	_ = s.SetHardState(&pb.HardState{Commit: proto.Uint64(hs.GetCommit())})
}

// TestUserEtcdTarget: a service of one's own on etcd raft, its storage its
// own, given to the command line as cli.Main takes it, gets the commands a
// built-in target gets: fuzz finds what its storage loses, replay
// reproduces the schedule, minimize shrinks it.
func TestUserEtcdTarget(t *testing.T) {
	own := etcdraft.NewTarget("own-etcd", "", etcdraft.Options{
		NewStorage: func(int) etcdraft.Storage { return amnesiac{raft.NewMemoryStorage()} }})
	cat, err := newCatalog([]interpose.Target{own})
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		a := &app{stdout: &out, stderr: &errb, catalog: cat,
			withT: func(fn func(*testing.T) error) error { return fn(t) }, argv: append([]string{"own"}, args...)}
		return a.run(args), out.String(), errb.String()
	}
	dir := t.TempDir()
	code, out, stderr := run("fuzz", "--target", "own-etcd", "--runs", "2000", "--liveness=false", "--json", "--out", dir)
	var res fuzzJSON
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || len(res.Violations) == 0 {
		t.Fatalf("fuzz: exit %d, %s %s", code, out, stderr)
	}
	v := res.Violations[0]
	if v.Schedule == "" || !strings.Contains(v.Fingerprint, "Safety") && !strings.Contains(v.Fingerprint, "Leader") {
		t.Fatalf("fuzz found %+v", v)
	}
	if code, out, stderr = run("replay", v.Schedule, "--repeat", "5"); code != 0 || !strings.Contains(out, "reproduced 5/5") {
		t.Fatalf("replay: exit %d, %s %s", code, out, stderr)
	}
	min := filepath.Join(dir, "min.json")
	if code, out, stderr = run("minimize", v.Schedule, "--budget", "20s", "--out", min); code != 0 || !strings.Contains(out, "reproduced 20/20") {
		t.Fatalf("minimize: exit %d, %s %s", code, out, stderr)
	}
	for line := range strings.Lines(out) {
		if strings.Contains(line, " -> ") {
			t.Log(strings.TrimSpace(line))
		}
	}
}
