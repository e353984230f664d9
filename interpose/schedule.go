package interpose

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// Version is the schedule file format this package writes. Version 2 holds
// each node's view as named facts (NodeView); version 1 held Raft's fields
// (role, term, vote, indexes), and ReadFile and Decode still read it,
// turning those fields into the same Raft facts (RaftState) an adapter
// publishes today. Any other version is refused.
const Version = 2

// minVersion is the oldest version Decode reads.
const minVersion = 1

// Errors a caller can branch on when reading a schedule file.
var (
	ErrVersion = errors.New("unsupported schedule version")
	ErrDamaged = errors.New("damaged schedule")
)

// TargetSpec names the system a schedule runs against and everything needed to
// build it again.
type TargetSpec struct {
	// Name is the target's name as `faultline targets` lists it.
	Name string `json:"name"`
	// Nodes is the cluster size.
	Nodes int `json:"nodes"`
	// Seed seeds the randomness inside the system (raft's election timeouts).
	Seed uint64 `json:"seed"`
	// Bug names the injected bug, if any, for readers.
	Bug string `json:"bug,omitempty"`
	// Config records the target's settings, for readers. An adapter may
	// honour some of them on Open (package hraft turns its heartbeat fast
	// path off for heartbeat_fast_path "false").
	Config map[string]string `json:"config,omitempty"`
}

// Stuck is the invariant of a node stuck for good: an event, or its
// shutdown at the end of the run, that cannot finish because its goroutines
// are blocked where nothing will wake them (Stopper). It is a liveness
// violation found during the run, with or without a stabilization phase;
// its fingerprint adds where the goroutines are blocked.
const Stuck = "Liveness:Stuck"

// Violation is a broken invariant.
type Violation struct {
	// Invariant is the name of the broken invariant.
	Invariant string `json:"invariant"`
	// Fingerprint tells one bug from another: the invariant plus its stable
	// facts. It leaves out terms, indexes and node numbers, which change when a
	// schedule is shortened.
	Fingerprint string `json:"fingerprint"`
	// Detail says what was seen, with the terms and nodes involved.
	Detail string `json:"detail"`
	// Step is the number of events applied when the violation was seen.
	Step int `json:"step"`
	// Since, for a liveness violation judged at the end of a stabilization
	// phase, is the number of events applied when its monitor last turned
	// hot: it stayed hot from there to the end.
	Since int `json:"since,omitempty"`
	// Crash is set when the violation ended the process (a panic in a
	// goroutine faultline does not own): replaying it must run in a
	// process of its own.
	Crash bool `json:"crash,omitempty"`
}

var digits = regexp.MustCompile(`[0-9]+`)

// StableText keeps what identifies a message across runs, for fingerprints:
// runs of digits (terms, indexes, addresses, sizes) become N, and the text
// is cut to 100 bytes.
func StableText(s string) string {
	s = digits.ReplaceAllString(s, "N")
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

func (v *Violation) String() string {
	if v == nil {
		return "no violation"
	}
	return fmt.Sprintf("%s after event %d: %s", v.Invariant, v.Step, v.Detail)
}

// Origin records how a schedule was made.
type Origin struct {
	// Command is a command line that makes it again.
	Command string `json:"command,omitempty"`
	// FuzzSeed and Run identify the fuzz run that found it.
	FuzzSeed uint64 `json:"fuzz_seed,omitempty"`
	Run      int    `json:"run,omitempty"`
	// Strategy is the exploration strategy of that run ("random", "pct:3").
	Strategy string `json:"strategy,omitempty"`
	// Weights are the run's own weights of each kind of event, when its
	// strategy drew them (swarm testing: the run's fault mix).
	Weights map[string]int `json:"weights,omitempty"`
	// Events is the run's bound on its length, when its strategy drew it
	// (swarm testing).
	Events int `json:"events,omitempty"`
	// Mutation says how a guided run started, when it started from an
	// earlier run of its campaign ("the first 57 events of run 12, then a
	// walk of its own").
	Mutation string `json:"mutation,omitempty"`
	// Parent is the SHA-256 of the schedule file this one was derived from.
	Parent string `json:"parent,omitempty"`
}

// Schedule is the unit that is recorded, replayed, minimized and reported.
type Schedule struct {
	Version   int        `json:"version"`
	Target    TargetSpec `json:"target"`
	Events    []Event    `json:"events"`
	Violation *Violation `json:"violation,omitempty"`
	// Final is each node's state after the last event, with owned facts
	// (NodeView.Clone).
	Final []NodeView `json:"final,omitempty"`
	// History is the run's client history (View.Ops, each operation as it
	// last stood), kept only in a schedule whose violation is about it
	// (Linearizability), so that a report can draw it.
	History []ClientOp `json:"history,omitempty"`
	Origin  *Origin    `json:"origin,omitempty"`
	// Minimization, on a minimized schedule, says how it was made.
	Minimization *Minimization `json:"minimization,omitempty"`
}

// Minimization records how a minimized schedule was made from its parent
// (Origin.Parent).
type Minimization struct {
	InitialEvents      int `json:"initial_events"`
	InitialExternals   int `json:"initial_externals"`
	MinimizedEvents    int `json:"minimized_events"`
	MinimizedExternals int `json:"minimized_externals"`
	// PhaseEvents counts the events of the stabilization phase of a
	// liveness violation's schedule, made again after each candidate and
	// never minimized: the counts above are of the events before it, as
	// the initial ones are.
	PhaseEvents int     `json:"phase_events,omitempty"`
	Replays     int     `json:"replays"`
	ElapsedS    float64 `json:"elapsed_s"`
	Reproduced  int     `json:"reproduced"`
	Runs        int     `json:"runs"`
	// Flaky marks a result that reproduced in fewer than all of its Runs
	// final replays: it shows the violation Reproduced times in Runs, not
	// every time.
	Flaky  bool        `json:"flaky,omitempty"`
	Phases []PhaseStat `json:"phases"`
}

// PhaseStat is one phase of a minimization.
type PhaseStat struct {
	Name        string  `json:"name"`
	EventsAfter int     `json:"events_after"`
	Replays     int     `json:"replays"`
	ElapsedS    float64 `json:"elapsed_s"`
}

// Externals counts the external events of s.
func (s *Schedule) Externals() int {
	n := 0
	for _, e := range s.Events {
		if e.Kind.External() {
			n++
		}
	}
	return n
}

// Validate checks the schedule's version (this one: an older file is
// converted when it is read) and each event.
func (s *Schedule) Validate() error {
	if s.Version != Version {
		return versionError(s.Version)
	}
	if s.Target.Name == "" {
		return fmt.Errorf("%w: no target name", ErrDamaged)
	}
	if len(s.Target.Name) > maxName {
		return fmt.Errorf("%w: a target name of %d bytes (%q...)", ErrDamaged, len(s.Target.Name), s.Target.Name[:32])
	}
	if s.Target.Nodes < 1 || s.Target.Nodes > 64 {
		return fmt.Errorf("%w: target has %d nodes (want 1..64)", ErrDamaged, s.Target.Nodes)
	}
	for i, e := range s.Events {
		if err := e.validate(s.Target.Nodes); err != nil {
			return fmt.Errorf("%w: event %d: %w", ErrDamaged, i+1, err)
		}
	}
	if v := s.Violation; v != nil && (v.Step < 0 || v.Step > len(s.Events)) {
		return fmt.Errorf("%w: the violation is after event %d of %d", ErrDamaged, v.Step, len(s.Events))
	}
	return nil
}

// maxName bounds a target's name: a longer one is a damaged file, not a name
// to echo back.
const maxName = 200

func versionError(v int) error {
	return fmt.Errorf("%w %d (this faultline reads versions %d to %d)", ErrVersion, v, minVersion, Version)
}

// Decode reads and validates a schedule of this version, or of version 1,
// whose node views it converts to Raft facts (see Version).
func Decode(r io.Reader) (*Schedule, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading schedule: %w", err)
	}
	return decode(data)
}

func decode(data []byte) (*Schedule, error) {
	v, ok := peekVersion(data)
	if !ok {
		var probe json.RawMessage
		if err := strictDecode(data, &probe); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: not a schedule (no version field)", ErrDamaged)
	}
	if v == 1 {
		return decodeV1(data)
	}
	var s Schedule
	if err := strictDecode(data, &s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// strictDecode decodes exactly one JSON value into v, refusing fields v
// does not have and anything after the value.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the schedule", ErrDamaged)
	}
	return nil
}

// nodeViewV1 is a node's view as a version 1 file holds it: Raft's fields,
// whatever the system.
type nodeViewV1 struct {
	Node          int    `json:"node"`
	Started       bool   `json:"started"`
	Up            bool   `json:"up"`
	Role          string `json:"role"`
	Term          uint64 `json:"term"`
	Vote          int    `json:"vote,omitempty"`
	VoteTerm      uint64 `json:"vote_term,omitempty"`
	LastIndex     uint64 `json:"last_index"`
	CommitIndex   uint64 `json:"commit_index"`
	AppliedIndex  uint64 `json:"applied_index"`
	SnapshotIndex uint64 `json:"snapshot_index,omitempty"`
}

// view converts a version 1 view to the facts a Raft adapter publishes
// today. Version 1 wrote a role and zeros for a node that had nothing to
// say: one that never started ("not started"), or one down in the actor
// runtime ("down"), whose process is gone. Such a node publishes no facts,
// as it would now; a down hashicorp/raft node keeps its durable term, vote
// and last index.
func (n nodeViewV1) view() NodeView {
	v := NodeView{Node: n.Node, Started: n.Started, Up: n.Up}
	blank := n.Term == 0 && n.Vote == 0 && n.LastIndex == 0 && n.CommitIndex == 0 && n.AppliedIndex == 0 && n.SnapshotIndex == 0
	if n.Started && (n.Up || !blank) {
		s := RaftState{Role: n.Role, Term: n.Term, Vote: n.Vote, VoteTerm: n.VoteTerm, LastIndex: n.LastIndex,
			CommitIndex: n.CommitIndex, AppliedIndex: n.AppliedIndex, SnapshotIndex: n.SnapshotIndex}
		v.Facts = FactList(s.AppendFacts(nil))
	}
	return v
}

// decodeV1 reads a version 1 schedule and converts it to this version: only
// the node views changed.
func decodeV1(data []byte) (*Schedule, error) {
	var v1 struct {
		Schedule
		Final []nodeViewV1 `json:"final,omitempty"`
	}
	if err := strictDecode(data, &v1); err != nil {
		return nil, err
	}
	s := v1.Schedule
	s.Version = Version
	for _, n := range v1.Final {
		s.Final = append(s.Final, n.view())
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// ReadFile reads a schedule file of this version or of version 1. Its
// errors name the file and the problem.
func ReadFile(path string) (*Schedule, error) {
	// A FIFO or a device would block or never end: only a regular file is
	// a schedule.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("schedule %s: %w: not a regular file (%s)", path, ErrDamaged, fi.Mode().Type())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", path, errors.Unwrap(err))
	}
	// A file of another version may carry fields this one does not know;
	// report the version rather than the field.
	if v, ok := peekVersion(data); ok && (v < minVersion || v > Version) {
		return nil, fmt.Errorf("schedule %s: %w", path, versionError(v))
	}
	s, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", path, err)
	}
	return s, nil
}

// peekVersion reads only the version field, so that a file of another version
// gets a version error and not a complaint about fields it does not know.
func peekVersion(data []byte) (int, bool) {
	var v struct {
		Version *int `json:"version"`
	}
	if json.Unmarshal(data, &v) != nil || v.Version == nil {
		return 0, false
	}
	return *v.Version, true
}

// Encode renders the schedule as indented JSON, one event per line, events
// last, so that a reader sees the target and the violation first and diffs of
// schedule files stay readable.
func (s *Schedule) Encode() ([]byte, error) {
	// head is Schedule without its events.
	type head Schedule
	type headOnly struct {
		*head
		Events struct{} `json:"events,omitzero"`
	}
	raw, err := json.MarshalIndent(headOnly{head: (*head)(s)}, "", "  ")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(bytes.TrimSuffix(raw, []byte("\n}")))
	b.WriteString(",\n  \"events\": [")
	for i, e := range s.Events {
		line, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		b.Write(line)
	}
	if len(s.Events) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	return b.Bytes(), nil
}

// WriteFile writes the schedule atomically: a reader never sees half a file.
func (s *Schedule) WriteFile(path string) error {
	data, err := s.Encode()
	if err != nil {
		return fmt.Errorf("schedule %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".faultline-*.tmp")
	if err != nil {
		return fmt.Errorf("schedule %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync() // the rename must not land before the data
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("schedule %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("schedule %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("schedule %s: %w", path, err)
	}
	return nil
}

// Hash returns the SHA-256 of the schedule's encoding, in hex.
func (s *Schedule) Hash() string {
	data, _ := s.Encode()
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Stabilizes reports whether the schedule has a stabilization phase (a
// Stabilize event), after which liveness monitors are judged.
func (s *Schedule) Stabilizes() bool {
	for _, e := range s.Events {
		if e.Kind == Stabilize {
			return true
		}
	}
	return false
}
