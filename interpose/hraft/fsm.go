package hraft

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
)

// fsm wraps a user's FSM: it reports each applied entry, for state-machine
// safety, and turns a panic into a fault instead of a crash of faultline.
type fsm struct {
	n    *node
	user raft.FSM
}

func (f *fsm) observe(l *raft.Log) {
	if f.n.dead.Load() != nil {
		return // the process died (a tear): raft's goroutines run on unseen
	}
	f.n.c.observeApplied(interpose.Applied{Node: f.n.id, Index: l.Index, Term: l.Term, Hash: entryHash(l)})
}

func (f *fsm) Apply(l *raft.Log) (res any) {
	f.observe(l)
	defer f.n.guard("FSM.Apply", nil)
	return f.user.Apply(l)
}

func (f *fsm) Snapshot() (s raft.FSMSnapshot, err error) {
	defer f.n.guard("FSM.Snapshot", &err)
	s, err = f.user.Snapshot()
	if err != nil || s == nil {
		return s, err
	}
	return &fsmSnapshot{n: f.n, user: s}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) (err error) {
	defer f.n.guard("FSM.Restore", &err)
	return f.user.Restore(rc)
}

type fsmSnapshot struct {
	n    *node
	user raft.FSMSnapshot
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) (err error) {
	defer s.n.guard("FSMSnapshot.Persist", &err)
	return s.user.Persist(sink)
}

func (s *fsmSnapshot) Release() {
	defer s.n.guard("FSMSnapshot.Release", nil)
	s.user.Release()
}

// KV is the built-in state machine: a map of keys to values, set by commands
// of the form "key=value"; a command "?key" reads a key through the log (its
// response is the value, "" for a key never written). It is what a run uses
// when Options.NewFSM is nil, and the service whose client history a run
// checks for linearizability (ReadPrefix).
type KV struct {
	mu   sync.Mutex
	data map[string]string
	// Applied counts the commands applied, including those restored from a
	// snapshot.
	Applied uint64
}

// NewKV returns an empty KV.
func NewKV() *KV { return &KV{data: map[string]string{}} }

// Apply implements raft.FSM.
func (kv *KV) Apply(l *raft.Log) any {
	if key, ok := strings.CutPrefix(string(l.Data), ReadPrefix); ok {
		kv.mu.Lock()
		defer kv.mu.Unlock()
		kv.Applied++
		return kv.data[key]
	}
	k, v, ok := strings.Cut(string(l.Data), "=")
	if !ok {
		return fmt.Errorf("kv: command %q is not key=value", l.Data)
	}
	kv.mu.Lock()
	kv.data[k] = v
	kv.Applied++
	kv.mu.Unlock()
	return nil
}

// Get returns the value of key.
func (kv *KV) Get(key string) (string, bool) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	v, ok := kv.data[key]
	return v, ok
}

// Keys returns the keys in order.
func (kv *KV) Keys() []string {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return slices.Sorted(maps.Keys(kv.data))
}

type kvState struct {
	Data    map[string]string `json:"data"`
	Applied uint64            `json:"applied"`
}

// Snapshot implements raft.FSM.
func (kv *KV) Snapshot() (raft.FSMSnapshot, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return kvSnapshot{Data: maps.Clone(kv.data), Applied: kv.Applied}, nil
}

// Restore implements raft.FSM.
func (kv *KV) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var st kvState
	if err := json.NewDecoder(rc).Decode(&st); err != nil {
		return fmt.Errorf("kv: restore: %w", err)
	}
	if st.Data == nil {
		st.Data = map[string]string{}
	}
	kv.mu.Lock()
	kv.data, kv.Applied = st.Data, st.Applied
	kv.mu.Unlock()
	return nil
}

type kvSnapshot kvState

func (s kvSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(kvState(s)); err != nil {
		sink.Cancel()
		return fmt.Errorf("kv: persist: %w", err)
	}
	return sink.Close()
}

func (kvSnapshot) Release() {}

// ReadPrefix makes a client payload of the built-in KV a read: "?k" reads
// k through the log (a command like a write, whose response is the value).
// On a target with Options.StaleReads it is served from the node's own
// state machine with no check at all: stale by design.
const ReadPrefix = interpose.KVRead

// kvOp reads a client payload of the built-in KV as an operation: its key,
// whether it writes, and the value written; ok is false for a payload that
// is neither a read nor a write.
func kvOp(data string) (key, value string, write, ok bool) {
	if k, found := strings.CutPrefix(data, ReadPrefix); found {
		return k, "", false, true
	}
	k, v, found := strings.Cut(data, "=")
	return k, v, true, found
}
