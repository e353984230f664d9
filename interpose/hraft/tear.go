package hraft

import (
	"errors"
	"sync"

	"github.com/hashicorp/raft"
)

// errTorn is what a torn node's snapshot store answers: a dead process
// takes no snapshot.
var errTorn = errors.New("faultline: the node crashed (torn write)")

// torn is what is left of a node's incarnation after a tear (a Disk tear
// event): the process died just before the store write the tear named, so
// its stores hold every write before that one and none after. raft's
// goroutines run on until the event ends, when the controller crashes the
// node; nothing they do from the tear on may outlive the crash or be seen:
//
//   - their writes go to a copy of the stores, which they read back (raft
//     panics on an entry it stored and cannot read), dropped at the crash;
//   - they send nothing (the transport is closed at the tear) and answer
//     no request (a closed transport drops the answer);
//   - their applies are not observed, and they take no snapshot.
type torn struct {
	where string           // the store call the node died before
	last  uint64           // raft's last index at the tear: the down node's
	logs  *raft.InmemStore // the log store as it was at the tear, then written
	mu    sync.Mutex
	kv    map[string][]byte
	u64   map[string]uint64
}

// newTorn copies the node's log store as it is: what raft reads from now
// on. A log of a few hundred entries costs microseconds, once per tear.
func newTorn(where string, logs raft.LogStore) *torn {
	t := &torn{where: where, logs: raft.NewInmemStore(), kv: map[string][]byte{}, u64: map[string]uint64{}}
	first, err1 := logs.FirstIndex()
	last, err2 := logs.LastIndex()
	if err1 != nil || err2 != nil || last == 0 || last < first {
		return t
	}
	batch := make([]*raft.Log, 0, last-first+1)
	for i := first; i <= last; i++ {
		l := new(raft.Log)
		if logs.GetLog(i, l) == nil {
			batch = append(batch, l)
		}
	}
	_ = t.logs.StoreLogs(batch)
	return t
}

func (t *torn) set(key, val []byte) {
	t.mu.Lock()
	t.kv[string(key)] = append([]byte(nil), val...)
	t.mu.Unlock()
}

func (t *torn) get(key []byte) ([]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.kv[string(key)]
	return v, ok
}

func (t *torn) setUint64(key []byte, val uint64) {
	t.mu.Lock()
	t.u64[string(key)] = val
	t.mu.Unlock()
}

func (t *torn) getUint64(key []byte) (uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.u64[string(key)]
	return v, ok
}

// write is called by the store wrappers before a write reaches the store:
// it sleeps for a stalled or slow disk and fails a log write a fail event
// armed (disk.before), counts the write against an armed tear, and returns
// the torn stores the write goes to instead of the node's (nil: the node's
// own). The write a tear names is the first that goes there.
func (n *node) write(where string, logWrite bool) (*torn, error) {
	if t := n.dead.Load(); t != nil {
		return t, nil
	}
	if err := n.disk.before(logWrite); err != nil {
		return nil, err
	}
	if n.disk.tear.Load() > 0 && n.disk.tear.Add(-1) == 0 {
		return n.die(where), nil
	}
	return nil, nil
}

// die tears the node just before the store call where: its stores keep
// what they hold, its transport closes, and raft runs on in the torn copy
// until the controller crashes the node at the end of the event.
func (n *node) die(where string) *torn {
	t := newTorn(where, n.logs.inner)
	if r := n.raft.Load(); r != nil {
		// raft sets its last index after its store call returns, and holds
		// no lock of its own across the call.
		t.last = r.LastIndex()
	}
	n.dead.Store(t)
	n.tr.Close()
	if n.tornCh != nil {
		close(n.tornCh)
	}
	return t
}

// answers reports whether n's callers hear what its raft answers now: not
// once a tear killed the incarnation. Its process died before the torn
// write; raft runs on in a copy of its stores that the crash drops, and
// may commit and apply there (a single voter counts its own write as a
// quorum), but no client, no operator, is told: a write it commits there
// is not acknowledged, a read it serves there is not returned, and the
// operation stays pending as for a node that crashed while it was asked.
func (n *node) answers() bool { return n.dead.Load() == nil }

// unanswered is the result of a request a torn incarnation answered (err,
// else ok) that never reached its caller.
func unanswered(err error, ok string) string {
	if err != nil {
		ok = err.Error()
	}
	return ok + " (never answered: the node crashed in a torn write)"
}
