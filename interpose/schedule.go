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

// Version is the schedule file format this package reads and writes.
const Version = 1

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

// NodeView is a node's state at a quiescent point.
type NodeView struct {
	Node         int    `json:"node"`
	Started      bool   `json:"started"`
	Up           bool   `json:"up"`
	Role         string `json:"role"`
	Term         uint64 `json:"term"`
	Vote         int    `json:"vote,omitempty"`
	VoteTerm     uint64 `json:"vote_term,omitempty"`
	LastIndex    uint64 `json:"last_index"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
	// SnapshotIndex is the last index of the node's latest snapshot, 0 if
	// it has none. The node's log up to it is the snapshot: entries its log
	// store still holds at or below it are not part of its log (after an
	// InstallSnapshot they may be stale entries of an old term).
	SnapshotIndex uint64 `json:"snapshot_index,omitempty"`
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
	// Parent is the SHA-256 of the schedule file this one was derived from.
	Parent string `json:"parent,omitempty"`
}

// Schedule is the unit that is recorded, replayed, minimized and reported.
type Schedule struct {
	Version   int        `json:"version"`
	Target    TargetSpec `json:"target"`
	Events    []Event    `json:"events"`
	Violation *Violation `json:"violation,omitempty"`
	// Final is each node's state after the last event.
	Final  []NodeView `json:"final,omitempty"`
	Origin *Origin    `json:"origin,omitempty"`
	// Minimization, on a minimized schedule, says how it was made.
	Minimization *Minimization `json:"minimization,omitempty"`
}

// Minimization records how a minimized schedule was made from its parent
// (Origin.Parent).
type Minimization struct {
	InitialEvents      int         `json:"initial_events"`
	InitialExternals   int         `json:"initial_externals"`
	MinimizedEvents    int         `json:"minimized_events"`
	MinimizedExternals int         `json:"minimized_externals"`
	Replays            int         `json:"replays"`
	ElapsedS           float64     `json:"elapsed_s"`
	Reproduced         int         `json:"reproduced"`
	Runs               int         `json:"runs"`
	Phases             []PhaseStat `json:"phases"`
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

// Validate checks the schedule's version and each event.
func (s *Schedule) Validate() error {
	if s.Version != Version {
		return fmt.Errorf("%w %d (this faultline reads version %d)", ErrVersion, s.Version, Version)
	}
	if s.Target.Name == "" {
		return fmt.Errorf("%w: no target name", ErrDamaged)
	}
	if s.Target.Nodes < 1 || s.Target.Nodes > 64 {
		return fmt.Errorf("%w: target has %d nodes (want 1..64)", ErrDamaged, s.Target.Nodes)
	}
	for i, e := range s.Events {
		if err := e.validate(s.Target.Nodes); err != nil {
			return fmt.Errorf("%w: event %d: %v", ErrDamaged, i+1, err)
		}
	}
	return nil
}

// Decode reads and validates a schedule.
func Decode(r io.Reader) (*Schedule, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s Schedule
	if err := dec.Decode(&s); err != nil {
		// A file of another version may carry fields this one does not know;
		// report the version rather than the field.
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the schedule", ErrDamaged)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// ReadFile reads a schedule file. Its errors name the file and the problem.
func ReadFile(path string) (*Schedule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", path, errors.Unwrap(err))
	}
	if v, ok := peekVersion(data); ok && v != Version {
		return nil, fmt.Errorf("schedule %s: %w %d (this faultline reads version %d)", path, ErrVersion, v, Version)
	}
	s, err := Decode(bytes.NewReader(data))
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
