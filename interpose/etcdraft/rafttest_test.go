package etcdraft_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/rafttest"
)

// TestRafttestScripts runs the scripts in testdata/rafttest with etcd
// raft's own interaction harness (go.etcd.io/raft/v3/rafttest, the
// datadriven tests of etcd-io/raft's testdata), so that a finding can be
// handed upstream in the form its tests take. The harness has no command
// for a crash ("TODO(tbg): Allow simulating crashes here" in its
// ProcessReady); the scripts use one more, restart, which this test adds:
//
//	restart <id>
//
// The node's RawNode goes, and with it the writes its append and apply
// threads had not done (AppendWork, ApplyWork); a new RawNode starts from
// its storage, as after a crash of the process. Run with -rewrite to
// rewrite the scripts' expected output after a change of etcd raft.
func TestRafttestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/rafttest", func(t *testing.T, path string) {
		env := rafttest.NewInteractionEnv(nil)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "restart" {
				return restart(t, env, d)
			}
			return env.Handle(t, *d)
		})
	})
}

// restart crashes and restarts a node of env: what a proposal for
// upstream's harness would add as a command.
func restart(t *testing.T, env *rafttest.InteractionEnv, d *datadriven.TestData) string {
	if len(d.CmdArgs) != 1 {
		t.Fatalf("restart <id>: %v", d.CmdArgs)
	}
	id, err := strconv.Atoi(d.CmdArgs[0].Key)
	if err != nil || id < 1 || id > len(env.Nodes) {
		t.Fatalf("restart: no node %q", d.CmdArgs[0].Key)
	}
	n := &env.Nodes[id-1]
	lost := fmt.Sprintf("lost %d append and %d apply thread writes", len(n.AppendWork), len(n.ApplyWork))
	cfg := *n.Config
	// The state machine is the storage's latest snapshot; raft hands the
	// committed entries after it again.
	snap, err := n.Storage.Snapshot()
	if err != nil {
		return err.Error()
	}
	cfg.Applied = snap.GetMetadata().GetIndex()
	rn, err := raft.NewRawNode(&cfg)
	if err != nil {
		return err.Error()
	}
	n.RawNode, n.Config, n.AppendWork, n.ApplyWork = rn, &cfg, nil, nil
	st := rn.BasicStatus()
	return fmt.Sprintf("%s; restarted at term %d, vote %d, commit %d, last index %d\n", lost,
		st.HardState.GetTerm(), st.HardState.GetVote(), st.HardState.GetCommit(), lastIndex(n.Storage))
}

func lastIndex(s rafttest.Storage) uint64 {
	i, _ := s.LastIndex()
	return i
}
