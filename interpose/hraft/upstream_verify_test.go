package hraft_test

import (
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestUpstreamVerifyLeaderAfterShutdown shows, on a plain hashicorp/raft
// node with no faultline in the way (raft's own in-memory transport and
// stores, the real clock), the mechanism of the hang that
// casestudies/testdata/found/hraft-read-index-verify-after-shutdown-never-returns.json
// records: after Shutdown, VerifyLeader's select (api.go) may still put its
// future into verifyCh, a channel with a buffer of 64 that nothing reads
// once run() has returned, and the future's Error() waits on that channel
// only (its ShutdownCh is never set). Of 200 calls, those that fill the
// buffer never return. It fails, and says so, if raft stops doing that.
func TestUpstreamVerifyLeaderAfterShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real raft node on the real clock")
	}
	conf := raft.DefaultConfig()
	conf.LocalID = "a"
	conf.LogOutput = io.Discard
	conf.HeartbeatTimeout, conf.ElectionTimeout, conf.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	_, tr := raft.NewInmemTransport("a")
	store := raft.NewInmemStore()
	r, err := raft.NewRaft(conf, raft.FSM(nopFSM{}), store, store, raft.NewInmemSnapshotStore(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{ID: "a", Address: tr.LocalAddr()}}}).Error(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.LeaderCh():
	case <-time.After(10 * time.Second):
		t.Fatal("the node did not become leader")
	}
	if err := r.Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	const calls = 200
	done := make(chan struct{}, calls)
	for range calls {
		f := r.VerifyLeader()
		go func() { f.Error(); done <- struct{}{} }()
	}
	returned := 0
	deadline := time.After(2 * time.Second)
wait:
	for returned < calls {
		select {
		case <-done:
			returned++
		case <-deadline:
			break wait
		}
	}
	hung := calls - returned
	t.Logf("VerifyLeader after Shutdown: %d of %d calls never returned", hung, calls)
	if hung != 64 {
		t.Errorf("%d of %d calls hung, want the 64 that fill verifyCh's buffer: has hashicorp/raft changed VerifyLeader or verifyCh?", hung, calls)
	}
}

type nopFSM struct{}

func (nopFSM) Apply(*raft.Log) any                 { return nil }
func (nopFSM) Snapshot() (raft.FSMSnapshot, error) { return nil, io.EOF }
func (nopFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }
