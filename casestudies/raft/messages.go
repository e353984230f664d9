package raft

import (
	"strconv"
	"strings"
)

// Entry is one log entry.
type Entry struct {
	Term uint64
	Cmd  string
}

// ChangeConfiguration is the bootstrap configuration a client hands to each
// member: who the members are.
type ChangeConfiguration struct{ Members []int }

func (m ChangeConfiguration) Type() string { return "ChangeConfiguration" }
func (m ChangeConfiguration) Key() string {
	var b strings.Builder
	b.WriteString("members=")
	for i, x := range m.Members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

// ClientMessage is a command a client sends to a member.
type ClientMessage struct{ Cmd string }

func (m ClientMessage) Type() string { return "ClientMessage" }
func (m ClientMessage) Key() string  { return "cmd=" + m.Cmd }

// RequestVote asks for a vote in Term.
type RequestVote struct {
	Term                uint64
	LastTerm, LastIndex uint64
}

func (m RequestVote) Type() string { return "RequestVote" }
func (m RequestVote) Key() string {
	return "term=" + u(m.Term) + " last=" + u(m.LastIndex) + "/" + u(m.LastTerm)
}

// VoteCandidate grants a vote in Term.
type VoteCandidate struct{ Term uint64 }

func (m VoteCandidate) Type() string { return "VoteCandidate" }
func (m VoteCandidate) Key() string  { return "term=" + u(m.Term) }

// DeclineCandidate refuses a vote in Term.
type DeclineCandidate struct{ Term uint64 }

func (m DeclineCandidate) Type() string { return "DeclineCandidate" }
func (m DeclineCandidate) Key() string  { return "term=" + u(m.Term) }

// AppendEntries replicates Entries after (PrevIndex, PrevTerm); with no
// entries it is a heartbeat.
type AppendEntries struct {
	Term                uint64
	PrevIndex, PrevTerm uint64
	Entries             []Entry
	Commit              uint64
}

func (m AppendEntries) Type() string { return "AppendEntries" }
func (m AppendEntries) Key() string {
	return "term=" + u(m.Term) + " prev=" + u(m.PrevIndex) + "/" + u(m.PrevTerm) +
		" n=" + strconv.Itoa(len(m.Entries)) + " commit=" + u(m.Commit)
}

// AppendSuccessful acknowledges entries up to LastIndex.
type AppendSuccessful struct{ Term, LastIndex uint64 }

func (m AppendSuccessful) Type() string { return "AppendSuccessful" }
func (m AppendSuccessful) Key() string  { return "term=" + u(m.Term) + " last=" + u(m.LastIndex) }

// AppendRejected refuses an AppendEntries; LastIndex is the follower's.
type AppendRejected struct{ Term, LastIndex uint64 }

func (m AppendRejected) Type() string { return "AppendRejected" }
func (m AppendRejected) Key() string  { return "term=" + u(m.Term) + " last=" + u(m.LastIndex) }

// BeginElection is the message a member sends itself to start an election.
type BeginElection struct{ Term uint64 }

func (m BeginElection) Type() string { return "BeginElection" }
func (m BeginElection) Key() string  { return "term=" + u(m.Term) }

// ElectedAsLeader is the message a member sends itself when it wins.
type ElectedAsLeader struct{ Term uint64 }

func (m ElectedAsLeader) Type() string { return "ElectedAsLeader" }
func (m ElectedAsLeader) Key() string  { return "term=" + u(m.Term) }

func u(x uint64) string { return strconv.FormatUint(x, 10) }
