//go:build !hraft_v1_6 && !hraft_v1_3_7 && !hraft_v1_2 && !hraft_v1_1 && !hraft_v1_1_0

package hraft

import "github.com/hashicorp/raft"

// Pre-vote (v1.7.0): the transport carries RequestPreVote, and raft uses it
// unless Config.PreVoteDisabled.

var _ raft.WithPreVote = (*transport)(nil)

func (t *transport) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return callInto(t, target, args, nil, resp)
}

// preVoteOn reports whether raft configured by c asks for pre-votes.
func preVoteOn(c *raft.Config) bool { return !c.PreVoteDisabled }

// preVoteRequest returns the fingerprint key of a RequestPreVote.
func preVoteRequest(req any, k keyBuilder) (string, bool) {
	r, ok := req.(*raft.RequestPreVoteRequest)
	if !ok {
		return "", false
	}
	return string(k.u("term", r.Term).pair("last", r.LastLogIndex, r.LastLogTerm)), true
}

// preVoteResponse returns the fingerprint key of a RequestPreVote's answer.
func preVoteResponse(resp any, k keyBuilder) (string, bool) {
	r, ok := resp.(*raft.RequestPreVoteResponse)
	if !ok {
		return "", false
	}
	return string(k.u("term", r.Term).b("granted", r.Granted)), true
}

// clonePreVote returns a copy of a RequestPreVote.
func clonePreVote(req any) (any, bool) {
	r, ok := req.(*raft.RequestPreVoteRequest)
	if !ok {
		return nil, false
	}
	c := *r
	return &c, true
}
