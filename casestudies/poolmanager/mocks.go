package poolmanager

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
)

// The mocks keep what they hold in their node's durable store: a storage
// service and a deployment service lose nothing when they restart, and a
// failover of the pool manager leaves them as they were.

// Dep is a deployment a pool holds: its id and how many VMs it has.
type Dep struct {
	ID  string
	VMs int
}

// Row is a pool's entry in the storage service.
type Row struct {
	// UID tells this pool from an earlier one of its name: its
	// deployments are POOL-UID-dN, never reused by a pool created later.
	UID          string
	Target, Size int
	State        string // resizing, cancelling, steady or deleting
	Gen          int    // deployments made so far: the next is POOL-d<Gen+1>
	Pending      string // the deployment being made, "" for none
	Deps         []Dep
}

func (r Row) String() string {
	var deps []string
	for _, d := range r.Deps {
		deps = append(deps, fmt.Sprintf("%s:%d", d.ID, d.VMs))
	}
	s := fmt.Sprintf("%s %d/%d [%s]", r.State, r.Size, r.Target, strings.Join(deps, " "))
	if r.Pending != "" {
		s += " pending " + r.Pending
	}
	return s
}

func (r Row) equal(o Row) bool {
	return r.UID == o.UID && r.Target == o.Target && r.Size == o.Size && r.State == o.State && r.Gen == o.Gen && r.Pending == o.Pending &&
		slices.Equal(r.Deps, o.Deps)
}

// stored is a row with its ETag, as the storage service keeps it.
type stored struct {
	Row  Row
	ETag int
}

// Storage is the storage service: rows with ETags. A conditional write
// fails with etag-mismatch when the row changed; a write that would
// succeed may instead fail, or fail after it was done (a controlled
// choice: storage.write).
type Storage struct {
	rows  map[string]stored
	facts interpose.FactList
}

var storageWrite = interpose.ChoicePoint{Name: "storage.write", Outcomes: []string{"ok", "error", "error-after-write"}}

// Init loads the rows.
func (s *Storage) Init(ctx *actor.Context) { s.rows = load[stored](ctx, "row/") }

// load reads the values of a node's durable store under prefix, by what
// follows it.
func load[V any](ctx *actor.Context, prefix string) map[string]V {
	out := map[string]V{}
	for _, k := range ctx.Keys(prefix) {
		v, _ := ctx.Load(k)
		out[strings.TrimPrefix(k, prefix)] = v.(V)
	}
	return out
}

// Receive serves reads, lists, writes and removes.
func (s *Storage) Receive(ctx *actor.Context, from int, m actor.Message) {
	switch m := m.(type) {
	case List:
		var out []PoolRow
		for _, k := range ctx.Keys("row/") {
			p := strings.TrimPrefix(k, "row/")
			out = append(out, PoolRow{Pool: p, Row: s.rows[p].Row, ETag: s.rows[p].ETag})
		}
		ctx.Send(from, Listed{Req: m.Req, Rows: out, AsOf: lastETag(ctx)})
	case Read:
		r, ok := s.rows[m.Pool]
		ctx.Send(from, ReadResult{Req: m.Req, Pool: m.Pool, Row: r.Row, ETag: r.ETag, Found: ok})
	case Write:
		cur, exists := s.rows[m.Pool]
		if m.IfETag >= 0 && (m.IfETag == 0 && exists || m.IfETag > 0 && cur.ETag != m.IfETag) {
			ctx.Send(from, WriteResult{Req: m.Req, Pool: m.Pool, Err: "etag-mismatch"})
			return
		}
		outcome := ctx.Choose(storageWrite.Name, storageWrite.Outcomes...)
		if outcome == 1 {
			ctx.Send(from, WriteResult{Req: m.Req, Pool: m.Pool, Err: "error"})
			return
		}
		etag := lastETag(ctx) + 1
		ctx.Store("etag", etag)
		if m.Remove {
			delete(s.rows, m.Pool)
			ctx.Delete("row/" + m.Pool)
		} else {
			row := m.Row
			row.Deps = slices.Clone(row.Deps)
			s.rows[m.Pool] = stored{Row: row, ETag: etag}
			ctx.Store("row/"+m.Pool, s.rows[m.Pool])
		}
		res := WriteResult{Req: m.Req, Pool: m.Pool, ETag: etag}
		if outcome == 2 {
			res = WriteResult{Req: m.Req, Pool: m.Pool, Err: "error"}
		}
		ctx.Send(from, res)
	}
}

// lastETag is the ETag of the storage's last write (0: none yet).
func lastETag(ctx *actor.Context) int {
	e, _ := ctx.Load("etag")
	n, _ := e.(int)
	return n
}

// Facts implements actor.Publisher.
func (s *Storage) Facts() interpose.Facts {
	var rows []string
	for _, p := range sortedKeys(s.rows) {
		rows = append(rows, fmt.Sprintf("%s: %s (etag %d)", p, s.rows[p].Row, s.rows[p].ETag))
	}
	s.facts = append(s.facts[:0], interpose.Fact{Name: interpose.FactRole, Value: "storage"},
		interpose.Fact{Name: "rows", Value: listOr(rows)})
	return s.facts
}

// Deployments is the deployment service: it allocates a deployment's VMs
// and releases them. Allocating a deployment it holds answers with what
// it holds (idempotent); a deployment it released is never allocated
// again (a late or duplicated request would recreate it, and nobody would
// own it). An allocation may fail, or fail after it was done (a
// controlled choice: deploy.allocate).
type Deployments struct {
	deps  map[string]allocation
	facts interpose.FactList
}

type allocation struct {
	Pool string
	VMs  int
}

var deployAllocate = interpose.ChoicePoint{Name: "deploy.allocate", Outcomes: []string{"ok", "error", "error-after-allocate"}}

// Init loads the deployments.
func (d *Deployments) Init(ctx *actor.Context) { d.deps = load[allocation](ctx, "dep/") }

// Receive allocates and releases.
func (d *Deployments) Receive(ctx *actor.Context, from int, m actor.Message) {
	switch m := m.(type) {
	case Allocate:
		if a, ok := d.deps[m.ID]; ok {
			ctx.Send(from, Allocated{Req: m.Req, ID: m.ID, VMs: a.VMs})
			return
		}
		if _, gone := ctx.Load("released/" + m.ID); gone {
			ctx.Send(from, Allocated{Req: m.Req, ID: m.ID, Err: "released"})
			return
		}
		outcome := ctx.Choose(deployAllocate.Name, deployAllocate.Outcomes...)
		if outcome == 1 {
			ctx.Send(from, Allocated{Req: m.Req, ID: m.ID, Err: "error"})
			return
		}
		d.deps[m.ID] = allocation{Pool: m.Pool, VMs: m.Count}
		ctx.Store("dep/"+m.ID, d.deps[m.ID])
		if outcome == 2 {
			ctx.Send(from, Allocated{Req: m.Req, ID: m.ID, Err: "error"})
			return
		}
		ctx.Send(from, Allocated{Req: m.Req, ID: m.ID, VMs: m.Count})
	case Release:
		delete(d.deps, m.ID)
		ctx.Delete("dep/" + m.ID)
		ctx.Store("released/"+m.ID, true)
		ctx.Send(from, Released{Req: m.Req, ID: m.ID})
	}
}

func (d *Deployments) total() int {
	n := 0
	for _, a := range d.deps {
		n += a.VMs
	}
	return n
}

// Facts implements actor.Publisher.
func (d *Deployments) Facts() interpose.Facts {
	var deps []string
	for _, id := range sortedKeys(d.deps) {
		deps = append(deps, fmt.Sprintf("%s:%d", id, d.deps[id].VMs))
	}
	d.facts = append(d.facts[:0], interpose.Fact{Name: interpose.FactRole, Value: "deployment service"},
		interpose.Fact{Name: "deployments", Value: listOr(deps)},
		interpose.Fact{Name: "vms", Value: fmt.Sprint(d.total())})
	return d.facts
}

// Scheduler is the job scheduler the pool manager tells of each pool's
// size: after each write that makes a pool steady or removes it, and with
// every pool at once after each list of the rows. What it is told may come
// late, twice or out of order; the row's ETag tells which is newer, and
// it keeps the newest.
type Scheduler struct {
	pools map[string]PoolResized // the newest word of each pool, gone ones included
	facts interpose.FactList
}

// Init loads what the scheduler was told.
func (s *Scheduler) Init(ctx *actor.Context) { s.pools = load[PoolResized](ctx, "pool/") }

// Receive implements actor.Process.
func (s *Scheduler) Receive(ctx *actor.Context, _ int, m actor.Message) {
	switch m := m.(type) {
	case PoolResized:
		s.tell(ctx, m)
	case SyncPools:
		listed := map[string]bool{}
		for _, p := range m.Pools {
			listed[p.Pool] = true
			s.tell(ctx, p)
		}
		for _, p := range sortedKeys(s.pools) {
			if !listed[p] && !s.pools[p].Gone {
				s.tell(ctx, PoolResized{Pool: p, ETag: m.AsOf, Gone: true})
			}
		}
	}
}

// tell keeps m when it is newer than what the scheduler holds of its pool.
func (s *Scheduler) tell(ctx *actor.Context, m PoolResized) {
	if cur, ok := s.pools[m.Pool]; ok && cur.ETag >= m.ETag {
		return
	}
	s.pools[m.Pool] = m
	ctx.Store("pool/"+m.Pool, m)
}

// Facts implements actor.Publisher.
func (s *Scheduler) Facts() interpose.Facts {
	var pools []string
	for _, p := range sortedKeys(s.pools) {
		if !s.pools[p].Gone {
			pools = append(pools, fmt.Sprintf("%s:%d", p, s.pools[p].Size))
		}
	}
	s.facts = append(s.facts[:0], interpose.Fact{Name: interpose.FactRole, Value: "scheduler"},
		interpose.Fact{Name: "pools", Value: listOr(pools)})
	return s.facts
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func listOr(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, "; ")
}
