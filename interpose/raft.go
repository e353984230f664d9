package interpose

import (
	"strconv"
	"strings"
)

// Roles a RaftState names. An adapter may use words of its own for a node
// that is none of these ("down", "shutdown", "init"); the Raft invariants
// look for RoleLeader only.
const (
	RoleFollower  = "follower"
	RoleCandidate = "candidate"
	RoleLeader    = "leader"
)

// RaftState is a Raft node's facts as a typed value: what every Raft
// adapter publishes (hashicorp/raft in interpose/hraft, the actor Raft of
// casestudies/raft), what the Raft invariants read through RaftOf, and what
// renders as the facts role, term, vote, last index, commit index, applied
// index, snapshot index and configuration. It lives here, beside the Raft
// observations of a View (Claims, LogOps), so that adapters publish it
// without importing the checks that read it.
//
// An adapter keeps one per node and publishes a pointer to it: copying a
// few words per node is what a view costs; nothing is formatted until the
// schedule is rendered or encoded.
type RaftState struct {
	// Role is RoleFollower, RoleCandidate, RoleLeader, or the adapter's
	// word for a node that is none of them.
	Role string
	Term uint64
	// Vote is the node voted for in VoteTerm, 0 if none.
	Vote     int
	VoteTerm uint64
	// LastIndex is the index of the last entry of the node's log.
	LastIndex    uint64
	CommitIndex  uint64
	AppliedIndex uint64
	// SnapshotIndex is the last index of the node's latest snapshot, 0 if
	// it has none. The node's log up to it is the snapshot: entries its log
	// store still holds at or below it are not part of its log (after an
	// InstallSnapshot they may be stale entries of an old term).
	SnapshotIndex uint64
	// Config is the node's latest configuration, nil when the adapter does
	// not publish one. It is shared between views: never change one that
	// was published.
	Config *RaftConfig
	// Unpersisted is the lowest index of the node's log that it holds in
	// memory only, waiting for its storage (etcd raft's
	// AsyncStorageWrites), 0 when none: the log the adapter publishes (its
	// storage's) may lack entries from there on, or hold older ones.
	Unpersisted uint64
}

// RaftConfig is a Raft configuration: its voters and non-voters by node
// number, ascending.
type RaftConfig struct {
	Voters    []int
	Nonvoters []int
}

// String renders the configuration as its fact does: "voters n1,n2" and,
// when there are any, "; nonvoters n3".
func (c *RaftConfig) String() string {
	if c == nil {
		return ""
	}
	var b strings.Builder
	list := func(nodes []int) {
		for i, n := range nodes {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("n" + strconv.Itoa(n))
		}
	}
	b.WriteString("voters ")
	list(c.Voters)
	if len(c.Nonvoters) > 0 {
		b.WriteString("; nonvoters ")
		list(c.Nonvoters)
	}
	return b.String()
}

// Names of the facts a RaftState renders as.
const (
	FactRole          = "role"
	FactTerm          = "term"
	FactVote          = "vote"
	FactLastIndex     = "last index"
	FactCommitIndex   = "commit index"
	FactAppliedIndex  = "applied index"
	FactSnapshotIndex = "snapshot index"
	FactConfiguration = "configuration"
	FactUnpersisted   = "unpersisted from"
)

// AppendFacts implements Facts: role, term, vote ("n1 in term 2", left out
// when the node has not voted), the last, commit and applied indexes, the
// snapshot index (left out when there is no snapshot) and the
// configuration (left out when not published).
func (s *RaftState) AppendFacts(dst []Fact) []Fact {
	u := func(x uint64) string { return strconv.FormatUint(x, 10) }
	dst = s.AppendHeadline(dst)
	if s.Vote != 0 {
		dst = append(dst, Fact{FactVote, "n" + strconv.Itoa(s.Vote) + " in term " + u(s.VoteTerm)})
	}
	dst = append(dst, Fact{FactLastIndex, u(s.LastIndex)}, Fact{FactCommitIndex, u(s.CommitIndex)},
		Fact{FactAppliedIndex, u(s.AppliedIndex)})
	if s.SnapshotIndex != 0 {
		dst = append(dst, Fact{FactSnapshotIndex, u(s.SnapshotIndex)})
	}
	if s.Config != nil {
		dst = append(dst, Fact{FactConfiguration, s.Config.String()})
	}
	if s.Unpersisted != 0 {
		dst = append(dst, Fact{FactUnpersisted, u(s.Unpersisted)})
	}
	return dst
}

// AppendHeadline implements Headliner: a Raft node is its role and term.
func (s *RaftState) AppendHeadline(dst []Fact) []Fact {
	return append(dst, Fact{FactRole, s.Role}, Fact{FactTerm, strconv.FormatUint(s.Term, 10)})
}

// CloneFacts implements Cloner. The configuration is shared: it never
// changes once published.
func (s *RaftState) CloneFacts() Facts {
	c := *s
	return &c
}

// RaftOf returns the Raft state a node's adapter publishes, read-only and
// valid as long as the view, or false when it publishes none (a system
// that is not Raft, a node that never started, a view read from a file,
// whose facts are a plain FactList). The Raft invariants skip such a node.
func RaftOf(v NodeView) (*RaftState, bool) {
	s, ok := v.Facts.(*RaftState)
	return s, ok && s != nil
}

// RaftRead is RaftOf for a view of any origin: a view read from a schedule
// file has its Raft facts parsed back (ParseRaftState). It allocates for
// those: checks that run on every view use RaftOf.
func RaftRead(v NodeView) (*RaftState, bool) {
	if s, ok := RaftOf(v); ok {
		return s, true
	}
	if l, ok := v.Facts.(FactList); ok {
		return ParseRaftState(l)
	}
	return nil, false
}

// ParseRaftState reads back the facts RaftState.AppendFacts renders. It
// reports false when a fact is malformed or the role or term is missing
// (not a Raft node's facts).
func ParseRaftState(facts []Fact) (*RaftState, bool) {
	s := &RaftState{}
	var role, term bool
	num := func(v string, dst *uint64) bool {
		x, err := strconv.ParseUint(v, 10, 64)
		*dst = x
		return err == nil
	}
	for _, f := range facts {
		ok := true
		switch f.Name {
		case FactRole:
			s.Role, role = f.Value, true
		case FactTerm:
			ok, term = num(f.Value, &s.Term), true
		case FactVote:
			node, voteTerm, found := strings.Cut(f.Value, " in term ")
			n, err := strconv.Atoi(strings.TrimPrefix(node, "n"))
			ok = found && err == nil && num(voteTerm, &s.VoteTerm)
			s.Vote = n
		case FactLastIndex:
			ok = num(f.Value, &s.LastIndex)
		case FactCommitIndex:
			ok = num(f.Value, &s.CommitIndex)
		case FactAppliedIndex:
			ok = num(f.Value, &s.AppliedIndex)
		case FactSnapshotIndex:
			ok = num(f.Value, &s.SnapshotIndex)
		case FactConfiguration:
			s.Config, ok = parseRaftConfig(f.Value)
		case FactUnpersisted:
			ok = num(f.Value, &s.Unpersisted)
		}
		if !ok {
			return nil, false
		}
	}
	return s, role && term
}

// parseRaftConfig reads back RaftConfig.String.
func parseRaftConfig(v string) (*RaftConfig, bool) {
	voters, nonvoters, _ := strings.Cut(v, "; nonvoters ")
	voters, ok := strings.CutPrefix(voters, "voters ")
	if !ok {
		return nil, false
	}
	list := func(s string) ([]int, bool) {
		if s == "" {
			return nil, true
		}
		var out []int
		for _, x := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimPrefix(x, "n"))
			if err != nil {
				return nil, false
			}
			out = append(out, n)
		}
		return out, true
	}
	c := &RaftConfig{}
	var okV, okN bool
	c.Voters, okV = list(voters)
	c.Nonvoters, okN = list(nonvoters)
	return c, okV && okN
}
