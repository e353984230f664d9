package hraft

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
)

// message is one RPC request or response in the network.
type message struct {
	seq     uint64
	fp      interpose.Msg
	request bool
	from    int
	to      int

	// A request carries its command (a private copy) and, for
	// InstallSnapshot, the snapshot's bytes.
	req  any
	data []byte
	// heartbeat marks an AppendEntries that a production transport hands to
	// the heartbeat fast path.
	heartbeat bool

	// A response carries raft's answer.
	resp raft.RPCResponse

	// waiter is the channel, in the caller's bubble, on which the caller
	// waits for the response. nil for a request whose caller is gone (its
	// node crashed) or for a duplicate: its response is discarded.
	waiter chan reply
	// inc is the caller's incarnation when it sent the request.
	inc int
	// waitNode is the node whose goroutine waits on waiter (the request's
	// source, the response's destination).
	waitNode int
}

// reply wakes a caller blocked in the transport.
type reply struct {
	resp any
	err  error
}

// isHeartbeat is the test NetworkTransport applies before handing an
// AppendEntries to the heartbeat fast path.
func isHeartbeat(r *raft.AppendEntriesRequest) bool {
	leader := leaderAddr(r)
	return r.Term != 0 && leader != nil && r.PrevLogEntry == 0 && r.PrevLogTerm == 0 &&
		len(r.Entries) == 0 && r.LeaderCommitIndex == 0
}

// keyBuilder renders the fields of a fingerprint without fmt on the hot path.
type keyBuilder []byte

func (k keyBuilder) u(name string, v uint64) keyBuilder {
	if len(k) > 0 {
		k = append(k, ' ')
	}
	k = append(k, name...)
	k = append(k, '=')
	return strconv.AppendUint(k, v, 10)
}

func (k keyBuilder) pair(name string, a, b uint64) keyBuilder {
	k = k.u(name, a)
	k = append(k, '/')
	return strconv.AppendUint(k, b, 10)
}

func (k keyBuilder) b(name string, v bool) keyBuilder {
	if len(k) > 0 {
		k = append(k, ' ')
	}
	k = append(k, name...)
	k = append(k, '=')
	return strconv.AppendBool(k, v)
}

// requestPrint returns the fingerprint type and key of a request.
func requestPrint(req any) (typ, key string, heartbeat bool) {
	var k keyBuilder
	switch r := req.(type) {
	case *raft.AppendEntriesRequest:
		if isHeartbeat(r) {
			return "Heartbeat", string(k.u("term", r.Term)), true
		}
		k = k.u("term", r.Term).pair("prev", r.PrevLogEntry, r.PrevLogTerm)
		k = k.u("n", uint64(len(r.Entries))).u("commit", r.LeaderCommitIndex)
		return "AppendEntries", string(k), false
	case *raft.RequestVoteRequest:
		k = k.u("term", r.Term).pair("last", r.LastLogIndex, r.LastLogTerm)
		if r.LeadershipTransfer {
			k = append(k, " transfer"...)
		}
		return "RequestVote", string(k), false
	case *raft.InstallSnapshotRequest:
		k = k.u("term", r.Term).pair("last", r.LastLogIndex, r.LastLogTerm)
		return "InstallSnapshot", string(k), false
	case *raft.TimeoutNowRequest:
		return "TimeoutNow", "", false
	}
	if key, ok := preVoteRequest(req, k); ok {
		return "RequestPreVote", key, false
	}
	return fmt.Sprintf("%T", req), "", false
}

// responsePrint returns the fingerprint type and key of a response to a
// request of type reqType.
func responsePrint(reqType string, resp raft.RPCResponse) (typ, key string) {
	typ = reqType + "Resp"
	if resp.Error != nil {
		return typ, "error"
	}
	var k keyBuilder
	switch r := resp.Response.(type) {
	case *raft.AppendEntriesResponse:
		k = k.u("term", r.Term).b("ok", r.Success).u("last", r.LastLog)
	case *raft.RequestVoteResponse:
		k = k.u("term", r.Term).b("granted", r.Granted)
	case *raft.InstallSnapshotResponse:
		k = k.u("term", r.Term).b("ok", r.Success)
	default:
		if key, ok := preVoteResponse(resp.Response, k); ok {
			return typ, key
		}
	}
	return typ, string(k)
}

// cloneRequest returns a private copy of a request, as if it had crossed a
// network: the receiver shares nothing with the sender.
func cloneRequest(req any) any {
	switch r := req.(type) {
	case *raft.AppendEntriesRequest:
		c := *r
		if r.Entries != nil {
			c.Entries = make([]*raft.Log, len(r.Entries))
			for i, l := range r.Entries {
				lc := *l
				lc.Data = slices.Clone(l.Data)
				cloneExtensions(&lc, l)
				c.Entries[i] = &lc
			}
		}
		return &c
	case *raft.RequestVoteRequest:
		c := *r
		return &c
	case *raft.InstallSnapshotRequest:
		c := *r
		c.Peers = slices.Clone(r.Peers)
		c.Configuration = slices.Clone(r.Configuration)
		return &c
	case *raft.TimeoutNowRequest:
		c := *r
		return &c
	}
	if c, ok := clonePreVote(req); ok {
		return c
	}
	return req
}

// leaderClaim returns the term a request claims leadership of, if it does.
func leaderClaim(req any) (uint64, bool) {
	switch r := req.(type) {
	case *raft.AppendEntriesRequest:
		return r.Term, true
	case *raft.InstallSnapshotRequest:
		return r.Term, true
	}
	return 0, false
}
