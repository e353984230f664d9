package hraft

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"
)

// errDropped is what a caller gets when the controller drops its request or
// the response to it.
var errDropped = errors.New("faultline: message dropped")

// errReset answers a request whose callee crashed before answering.
var errReset = errors.New("faultline: connection reset (the node crashed)")

// transport is one incarnation of a node's raft.Transport. Every call becomes
// a pending message in the cluster's network; the calling goroutine blocks on
// a channel of its own bubble until the controller delivers the response or
// drops a message. It lives entirely inside the node's bubble.
type transport struct {
	n   *node
	inc int

	consumer chan raft.RPC
	closed   chan struct{}
	once     sync.Once

	hbMu sync.Mutex
	hb   func(raft.RPC)
}

var (
	_ raft.Transport = (*transport)(nil)
	_ raft.WithClose = (*transport)(nil)
)

func newTransport(n *node, inc int) *transport {
	return &transport{n: n, inc: inc, consumer: make(chan raft.RPC), closed: make(chan struct{})}
}

func (t *transport) Consumer() <-chan raft.RPC     { return t.consumer }
func (t *transport) LocalAddr() raft.ServerAddress { return serverAddr(t.n.id) }

// AppendEntriesPipeline declines pipelining, so raft replicates one
// AppendEntries at a time, each answered before the next. NetworkTransport
// pipelines; see the README.
func (t *transport) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}

func (t *transport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	return callInto(t, target, args, nil, resp)
}

func (t *transport) RequestVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	return callInto(t, target, args, nil, resp)
}

func (t *transport) InstallSnapshot(id raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	buf, err := io.ReadAll(io.LimitReader(data, args.Size))
	if err != nil {
		return fmt.Errorf("faultline: reading snapshot: %w", err)
	}
	return callInto(t, target, args, buf, resp)
}

func (t *transport) TimeoutNow(id raft.ServerID, target raft.ServerAddress, args *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	return callInto(t, target, args, nil, resp)
}

// callInto makes the call and copies the answer into raft's response.
func callInto[R any](t *transport, target raft.ServerAddress, args any, data []byte, resp *R) error {
	r, err := t.call(target, args, data)
	if err != nil {
		return err
	}
	*resp = *r.(*R)
	return nil
}

func (t *transport) EncodePeer(id raft.ServerID, addr raft.ServerAddress) []byte {
	return []byte(addr)
}

func (t *transport) DecodePeer(buf []byte) raft.ServerAddress { return raft.ServerAddress(buf) }

func (t *transport) SetHeartbeatHandler(cb func(rpc raft.RPC)) {
	t.hbMu.Lock()
	t.hb = cb
	t.hbMu.Unlock()
}

func (t *transport) heartbeatHandler() func(raft.RPC) {
	t.hbMu.Lock()
	defer t.hbMu.Unlock()
	return t.hb
}

// Close releases every goroutine blocked in this transport with
// raft.ErrTransportShutdown. Raft calls it after its own shutdown; a crash
// calls it first, because raft waits for goroutines parked here.
func (t *transport) Close() error {
	t.once.Do(func() { close(t.closed) })
	return nil
}

func (t *transport) isClosed() bool {
	select {
	case <-t.closed:
		return true
	default:
		return false
	}
}

// call posts a request and blocks until the controller resolves it.
func (t *transport) call(target raft.ServerAddress, req any, data []byte) (any, error) {
	to, ok := nodeOf(string(target))
	if !ok || to > len(t.n.c.nodes) {
		return nil, fmt.Errorf("faultline: unknown peer %q", target)
	}
	if t.isClosed() {
		return nil, raft.ErrTransportShutdown
	}
	w := make(chan reply, 1)
	t.n.c.postRequest(t.n.id, to, req, data, w, t.inc)
	t.n.notifySent()
	select {
	case r := <-w:
		return r.resp, r.err
	case <-t.closed:
		return nil, raft.ErrTransportShutdown
	}
}

// receive hands a delivered request to raft, in the receiver's bubble: a
// heartbeat to the handler raft registered with SetHeartbeatHandler, as
// NetworkTransport does, anything else to Consumer(). raft's answer becomes a
// pending response.
func (t *transport) receive(m *message) {
	respCh := make(chan raft.RPCResponse, 1)
	rpc := raft.RPC{Command: m.req, RespChan: respCh}
	if m.data != nil {
		rpc.Reader = bytes.NewReader(m.data)
	}
	go func() {
		fn := t.heartbeatHandler()
		if m.heartbeat && fn != nil && !t.n.c.opts.SerialHeartbeats {
			t.n.c.mu.Lock()
			t.n.c.stats.FastPath++
			t.n.c.mu.Unlock()
			fn(rpc)
		} else {
			select {
			case t.consumer <- rpc:
			case <-t.closed:
				t.n.c.reset(m)
				return
			}
		}
		select {
		case resp := <-respCh:
			if t.isClosed() {
				// Closed (a crash, a tear) while the answer was on its
				// way: a dead process answers nothing, whichever of the
				// two this goroutine saw first.
				t.n.c.reset(m)
				return
			}
			t.n.c.postResponse(m, resp)
		case <-t.closed:
			t.n.c.reset(m)
		}
	}()
}
