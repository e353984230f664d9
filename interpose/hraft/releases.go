package hraft

import (
	"fmt"
	"strings"

	"golang.org/x/mod/semver"
)

// Generation is a span of hashicorp/raft releases with one API, and the
// build tag under which this package builds against them.
type Generation struct {
	// From is the generation's oldest release.
	From string
	// Tag is the build tag ("": none, the newest API).
	Tag string
	// Lacks says what the generation lacks that the one after it has, and
	// how the adapter does without it.
	Lacks string
	// PreVote is whether its releases have pre-vote (RequestPreVote).
	PreVote bool
}

// Generations lists the API generations of hashicorp/raft since v1.1.0,
// newest first. A module that pins an older release (a replace in its
// go.mod) builds this package with that release's tag:
//
//	go build -tags hraft_v1_3_7 ./...   # hashicorp/raft v1.3.7 to v1.5.0
//
// Each tag's files (release_*.go) say what its releases lack.
//
// faultline bisect chooses the tag itself. Releases v1.7.2 and v1.7.3 also
// need github.com/hashicorp/go-metrics at the v0.5 they require (its compat
// package is gone from v0.7.0, which v1.8.0 requires).
var Generations = []Generation{
	{From: "v1.7.2", Tag: "", Lacks: "", PreVote: true},
	{From: "v1.7.0", Tag: "hraft_v1_7_0", Lacks: "Raft.CurrentTerm and Config.NoLegacyTelemetry: the term is the one the node's stable store last took (raft stores a term before taking it)", PreVote: true},
	{From: "v1.6.0", Tag: "hraft_v1_6", Lacks: "pre-vote: no RequestPreVote messages, and specs say prevote=false"},
	{From: "v1.3.7", Tag: "hraft_v1_3_7", Lacks: "Raft.CommitIndex: a node's commit index is the index it last applied, a lower bound"},
	{From: "v1.2.0", Tag: "hraft_v1_2", Lacks: "RPCHeader.Addr and Raft.LeaderWithID: the leader is named by its address, which is its ID here"},
	{From: "v1.1.2", Tag: "hraft_v1_1", Lacks: "BatchingFSM and Log.Extensions: a user's FSM is applied one entry at a time"},
	{From: "v1.1.0", Tag: "hraft_v1_1_0", Lacks: "a GetConfiguration that does without raft's main loop: a node's configuration is read from its log and snapshot stores"},
}

// GenerationOf returns the generation of a hashicorp/raft release
// ("v1.3.10"); an error for a version that is not one, or one older than
// v1.1.0, which this package does not build against.
func GenerationOf(version string) (Generation, error) {
	if !semver.IsValid(version) || !strings.HasPrefix(version, "v1.") {
		return Generation{}, fmt.Errorf("hraft: %q is not a hashicorp/raft v1 release", version)
	}
	for _, g := range Generations {
		if semver.Compare(version, g.From) >= 0 {
			return g, nil
		}
	}
	oldest := Generations[len(Generations)-1].From
	return Generation{}, fmt.Errorf("hraft: hashicorp/raft %s is older than %s, the oldest release faultline builds against", version, oldest)
}
