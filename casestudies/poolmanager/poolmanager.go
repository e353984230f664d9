package poolmanager

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
)

// Bug names a variant: Correct, or an injected failover bug.
type Bug string

const (
	Correct Bug = ""
	// ResumeReallocates: after a failover, a pool caught resizing is
	// resumed with a new deployment instead of the one its row names, so
	// a deployment made before the failover is leaked.
	ResumeReallocates Bug = "pool-resume-reallocates"
	// NoETag: the pool manager writes rows without their ETag check, so a
	// stale or duplicated write undoes a newer one.
	NoETag Bug = "pool-no-etag"
	// ErrorNotDone: an allocation that failed after it was done is taken
	// as not done, and the pool allocates again with a new deployment.
	ErrorNotDone Bug = "pool-error-not-done"
	// ForgetsDelete: after a failover, a pool caught deleting is loaded
	// but not resumed: it stays deleting, its VMs held, for ever (a
	// liveness bug).
	ForgetsDelete Bug = "pool-forgets-delete"
	// CancelStuck: after a failover, a pool caught cancelling a resize
	// waits for the answer to the allocation the earlier incarnation
	// asked for, which went to it: the pool stays cancelling for ever (a
	// liveness bug).
	CancelStuck Bug = "pool-cancel-stuck"
	// SchedulerUntold: the pool manager tells the scheduler of a pool's
	// size only when the write that changed it is answered, never from the
	// rows it lists; a failover between the write and its answer leaves
	// the scheduler with the old size for ever (a liveness bug).
	SchedulerUntold Bug = "pool-scheduler-untold"
)

// Bugs lists the injected safety bugs; LivenessBugs the liveness ones.
var (
	Bugs         = []Bug{ResumeReallocates, NoETag, ErrorNotDone}
	LivenessBugs = []Bug{ForgetsDelete, CancelStuck, SchedulerUntold}
)

// Expect is the fingerprint of the violation a variant shows first: a
// safety bug's NoRogueDeployment, a liveness bug's monitor ("" for
// Correct).
func Expect(b Bug) string {
	switch b {
	case Correct:
		return ""
	case ForgetsDelete:
		return "Liveness:" + PoolDeleted
	case CancelStuck:
		return "Liveness:" + PoolSteady
	case SchedulerUntold:
		return "Liveness:" + SchedulerInformed
	}
	return NoRogueDeployment
}

// Describe says what a bug does, on one line.
func Describe(b Bug) string {
	switch b {
	case ResumeReallocates:
		return "resuming a resize after a failover allocates a new deployment: the one made before it leaks"
	case NoETag:
		return "rows are written without their ETag check: a duplicated write undoes a newer one"
	case ErrorNotDone:
		return "an allocation that failed after it was done is taken as not done and made again"
	case ForgetsDelete:
		return "a delete in flight at a failover is not resumed: the pool stays deleting for ever"
	case CancelStuck:
		return "a cancel in flight at a failover waits for an answer that went to the dead pool manager: the pool stays cancelling for ever"
	case SchedulerUntold:
		return "the scheduler is told a pool's size only when its write is answered: a failover before the answer leaves it with the old size for ever"
	}
	return "correct"
}

// The nodes: the pool manager, then the three services it depends on.
const (
	pm = iota + 1
	storage
	deployments
	scheduler
	nodes = scheduler
)

// Quota is how many VMs the pools may hold together.
const Quota = 8

// The liveness monitors: after the last resize to N, the pool is
// eventually steady with size N (its row stops being resizing, or
// cancelling when the resize was cancelled); after a delete, it is
// eventually gone, its VMs returned (its row stops being deleting); the
// scheduler eventually knows every steady pool with its size, and no pool
// that is gone.
const (
	PoolSteady        = "PoolSteady"
	PoolDeleted       = "PoolDeleted"
	SchedulerInformed = "SchedulerInformed"
)

// The invariants.
const (
	NoRogueDeployment = "NoRogueDeployment"
	PoolVMsAllocated  = "PoolVMsAllocated"
	QuotaNotExceeded  = "QuotaNotExceeded"
)

// Workload is the client operations of a run.
var Workload = []string{"create p1 2", "create p2 2", "resize p1 4", "resize p2 3", "cancel p1", "cancel p2", "delete p1", "delete p2"}

// Program returns the actor program of a variant.
func Program(bug Bug) actor.Program {
	return actor.Program{
		Nodes: nodes,
		New: func(id, _ int) actor.Process {
			switch id {
			case pm:
				return &PoolManager{bug: bug}
			case storage:
				return &Storage{}
			case deployments:
				return &Deployments{}
			}
			return &Scheduler{}
		},
		Client: func(data string) (actor.Message, error) {
			if _, err := parse(data); err != nil {
				return nil, err
			}
			return command{data}, nil
		},
		Choices: func(node int) []interpose.ChoicePoint {
			switch node {
			case storage:
				return []interpose.ChoicePoint{storageWrite}
			case deployments:
				return []interpose.ChoicePoint{deployAllocate}
			}
			return nil
		},
		Invariants: []actor.Invariant{
			{Name: NoRogueDeployment, Check: noRogue},
			{Name: PoolVMsAllocated, Check: vmsAllocated},
			{Name: QuotaNotExceeded, Check: quota},
		},
		Monitors: []actor.Monitor{
			{Name: PoolSteady, Hot: inState("resizing", "cancelling")},
			{Name: PoolDeleted, Hot: inState("deleting")},
			{Name: SchedulerInformed, Hot: schedulerBehind},
		},
		Config: map[string]string{"system": "pool manager over storage, deployment and scheduler mocks", "bug": string(bug)},
	}
}

type op struct {
	verb, pool string
	n          int
}

func parse(s string) (op, error) {
	f := strings.Fields(s)
	switch {
	case len(f) == 3 && (f[0] == "create" || f[0] == "resize"):
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 1 {
			return op{}, fmt.Errorf("bad size in %q", s)
		}
		return op{f[0], f[1], n}, nil
	case len(f) == 2 && (f[0] == "delete" || f[0] == "cancel"):
		return op{f[0], f[1], 0}, nil
	}
	return op{}, fmt.Errorf("unknown command %q (want create POOL N, resize POOL N, cancel POOL or delete POOL)", s)
}

// PoolManager runs each pool's flow: persist the target and state
// "resizing" with the deployment to make, make it, persist it with the size
// and state "steady", tell the scheduler; a cancel of a resize persists
// "cancelling", releases the deployment being made (the service never
// makes a released one, so an allocation still in flight cannot bring it
// back) and persists the pool steady at the size it has; a delete persists
// "deleting", releases each deployment, persists each release, and removes
// the row.
// Every step starts from the row as stored, so that a pool manager started
// after a failover reads the rows and resumes what was in flight; it lists
// them again now and then (a Reconcile timer) and adopts a row it does not
// know, which an earlier incarnation's write still in flight at the
// failover can create after the first list.
type PoolManager struct {
	bug        Bug
	inc        int // incarnation, for request numbers
	seq        int
	recovering bool
	listReq    int
	pools      map[string]*flow
	facts      interpose.FactList
}

type flow struct {
	pool   string
	row    Row
	exists bool   // the row is stored
	etag   int    // its ETag
	step   string // "" idle, "write", "read", "allocate", "release"
	req    int
	want   Row  // the row being written
	remove bool // the write removes the row
	next   *op  // a command waiting for the flow
	cancel bool // a cancel of the resize, not persisted yet
}

// Init starts an incarnation: it reads every pool's row and resumes.
func (m *PoolManager) Init(ctx *actor.Context) {
	inc := 1
	if v, ok := ctx.Load("incarnation"); ok {
		inc = v.(int) + 1
	}
	ctx.Store("incarnation", inc)
	m.inc, m.pools, m.recovering = inc, map[string]*flow{}, true
	m.listReq = m.newReq()
	ctx.Send(storage, List{Req: m.listReq})
}

func (m *PoolManager) newReq() int {
	m.seq++
	return m.inc*100000 + m.seq
}

// Receive handles commands and the services' answers.
func (m *PoolManager) Receive(ctx *actor.Context, from int, msg actor.Message) {
	switch msg := msg.(type) {
	case command:
		o, _ := parse(msg.text)
		ctx.Respond(m.command(ctx, o))
	case actor.Timer:
		if msg.Name == "Reconcile" && !m.recovering {
			m.listReq = m.newReq()
			ctx.Send(storage, List{Req: m.listReq})
		}
	case Listed:
		if msg.Req != m.listReq {
			return
		}
		m.recovering = false
		ctx.SetTimer("Reconcile")
		if m.bug != SchedulerUntold {
			sync := SyncPools{AsOf: msg.AsOf}
			for _, r := range msg.Rows {
				sync.Pools = append(sync.Pools, PoolResized{Pool: r.Pool, Size: r.Row.Size, ETag: r.ETag})
			}
			ctx.Send(scheduler, sync)
		}
		for _, r := range msg.Rows {
			if f := m.pools[r.Pool]; f != nil {
				// Known. An idle flow whose row changed under it (an
				// earlier incarnation's write, landed after this one read
				// the row) takes the stored row, the truth, and goes on
				// from it; a busy one finds out through its ETag.
				if f.step == "" && f.exists && r.ETag > f.etag { // ETags only grow: a smaller one is a snapshot older than the flow
					f.row, f.etag = r.Row, r.ETag
					m.advance(ctx, f)
				}
				continue
			}
			// A row this incarnation does not know: every row after a
			// failover, and later one an earlier incarnation's write,
			// still in flight at the failover, created after the list.
			f := &flow{pool: r.Pool, row: r.Row, exists: true, etag: r.ETag}
			m.pools[r.Pool] = f
			if m.bug == ResumeReallocates && f.row.State == "resizing" {
				m.newDeployment(ctx, f) // the bug: a new deployment, the old one forgotten
				continue
			}
			if m.bug == ForgetsDelete && f.row.State == "deleting" {
				continue // the bug: loaded, not resumed
			}
			if m.bug == CancelStuck && f.row.State == "cancelling" {
				f.step = "allocate" // the bug: waits for an answer sent to the earlier incarnation
				continue
			}
			m.advance(ctx, f)
		}
	case WriteResult:
		f := m.waiting(msg.Pool, msg.Req, "write")
		if f == nil {
			return
		}
		if msg.Err != "" {
			m.read(ctx, f) // did it happen?
			return
		}
		m.written(ctx, f, msg.ETag)
	case ReadResult:
		f := m.waiting(msg.Pool, msg.Req, "read")
		if f == nil {
			return
		}
		switch {
		case f.remove && !msg.Found, !f.remove && msg.Found && msg.Row.equal(f.want):
			m.written(ctx, f, msg.ETag) // it did
		case msg.Found && msg.Row.UID != f.want.UID:
			// Another pool of that name is stored (an earlier
			// incarnation's, landed since): it is the truth; go on from it.
			f.row, f.exists, f.etag = msg.Row, true, msg.ETag
			m.advance(ctx, f)
		default:
			f.exists, f.etag = msg.Found, msg.ETag
			m.write(ctx, f, f.want, f.remove) // it did not: again
		}
	case Allocated:
		f := m.waiting(poolOf(msg.ID), msg.Req, "allocate")
		if f == nil || msg.ID != f.row.Pending {
			return
		}
		if msg.Err != "" {
			if m.bug == ErrorNotDone || msg.Err == "released" {
				m.newDeployment(ctx, f) // the bug: taken as not done (or a released one: never again)
				return
			}
			m.allocate(ctx, f) // the service is idempotent: the same deployment again
			return
		}
		want := f.row
		want.Deps = append(slices.Clone(want.Deps), Dep{msg.ID, msg.VMs})
		want.Size += msg.VMs
		want.Pending, want.State = "", "steady"
		m.write(ctx, f, want, false)
	case Released:
		f := m.waiting(poolOf(msg.ID), msg.Req, "release")
		if f == nil {
			return
		}
		want := f.row
		if want.State == "cancelling" { // the deployment being made: the pool stays as it is
			want.Pending, want.Target, want.State = "", want.Size, "steady"
			m.write(ctx, f, want, false)
			return
		}
		want.Deps = slices.DeleteFunc(slices.Clone(want.Deps), func(d Dep) bool { return d.ID == msg.ID })
		want.Size = sum(want.Deps)
		m.write(ctx, f, want, false)
	}
}

// command starts, queues or refuses a client's operation and says which.
func (m *PoolManager) command(ctx *actor.Context, o op) string {
	if m.recovering {
		return "refused: recovering"
	}
	f := m.pools[o.pool]
	if o.verb == "cancel" {
		return m.cancel(ctx, f, o.pool)
	}
	switch {
	case o.verb == "create" && f != nil:
		return "refused: " + o.pool + " exists"
	case o.verb != "create" && f == nil:
		return "refused: no pool " + o.pool
	case o.verb != "delete" && f != nil && o.n <= max(f.row.Target, f.row.Size):
		return "refused: a resize grows the pool"
	case o.verb != "delete" && m.targets(o.pool)+o.n > Quota:
		return "refused: over quota"
	}
	if f == nil {
		f = &flow{pool: o.pool}
		m.pools[o.pool] = f
	}
	if f.step != "" || f.row.State == "resizing" || f.row.State == "cancelling" || f.row.State == "deleting" {
		f.next = &o
		return "queued"
	}
	m.start(ctx, f, o)
	return "accepted"
}

// cancel cancels a pool's resize: a queued one is dropped; one in flight
// is cancelled once its row says resizing (at once when the flow waits for
// the allocation: its answer no longer matters).
func (m *PoolManager) cancel(ctx *actor.Context, f *flow, pool string) string {
	switch {
	case f == nil:
		return "refused: no pool " + pool
	case f.next != nil && f.next.verb == "resize":
		f.next = nil
		return "cancelled"
	case f.cancel || f.row.State == "cancelling":
		return "cancelling"
	case f.row.State != "resizing" && !((f.step == "write" || f.step == "read") && f.want.State == "resizing"):
		return "refused: " + pool + " is not resizing"
	}
	f.cancel = true
	if f.step == "allocate" {
		m.advance(ctx, f)
	}
	return "accepted"
}

// targets is the sum of the targets of the pools other than pool.
func (m *PoolManager) targets(pool string) int {
	n := 0
	for p, f := range m.pools {
		if p != pool {
			n += max(f.row.Target, f.row.Size)
			if f.next != nil && f.next.verb != "delete" {
				n = n - max(f.row.Target, f.row.Size) + f.next.n
			}
		}
	}
	return n
}

func (m *PoolManager) start(ctx *actor.Context, f *flow, o op) {
	want := f.row
	if o.verb == "delete" {
		want.State = "deleting"
		m.write(ctx, f, want, false)
		return
	}
	want.Target, want.State = o.n, "resizing"
	if want.UID == "" {
		want.UID = strconv.Itoa(m.newReq()) // unique across the pool manager's incarnations
	}
	want.Gen++
	want.Pending = deploymentID(f.pool, want)
	m.write(ctx, f, want, false)
}

// deploymentID names the deployment a row makes next: POOL-UID-dGEN.
func deploymentID(pool string, r Row) string { return fmt.Sprintf("%s-%s-d%d", pool, r.UID, r.Gen) }

// newDeployment persists a new deployment to make for a resizing pool.
func (m *PoolManager) newDeployment(ctx *actor.Context, f *flow) {
	want := f.row
	want.Gen++
	want.Pending = deploymentID(f.pool, want)
	m.write(ctx, f, want, false)
}

// advance takes the pool's next step from its row as stored.
func (m *PoolManager) advance(ctx *actor.Context, f *flow) {
	f.step = ""
	switch {
	case !f.exists:
		delete(m.pools, f.pool)
		if f.next != nil && f.next.verb == "create" {
			g := &flow{pool: f.pool}
			m.pools[f.pool] = g
			m.start(ctx, g, *f.next)
		}
	case f.row.State == "resizing" && f.cancel:
		want := f.row
		want.State = "cancelling"
		m.write(ctx, f, want, false)
	case f.row.State == "resizing":
		m.allocate(ctx, f)
	case f.row.State == "cancelling":
		f.cancel = false // persisted: the row carries it now
		f.step, f.req = "release", m.newReq()
		ctx.Send(deployments, Release{Req: f.req, ID: f.row.Pending})
	case f.row.State == "deleting" && len(f.row.Deps) > 0:
		f.step, f.req = "release", m.newReq()
		ctx.Send(deployments, Release{Req: f.req, ID: f.row.Deps[0].ID})
	case f.row.State == "deleting":
		m.write(ctx, f, f.row, true)
	case f.next != nil:
		o := *f.next
		f.next = nil
		if o.verb == "create" {
			return // the pool exists: nothing to do
		}
		m.start(ctx, f, o)
	}
}

func (m *PoolManager) allocate(ctx *actor.Context, f *flow) {
	f.step, f.req = "allocate", m.newReq()
	ctx.Send(deployments, Allocate{Req: f.req, ID: f.row.Pending, Pool: f.pool, Count: f.row.Target - f.row.Size})
}

// write stores want (or removes the row), conditional on the row's ETag
// (the bug: unconditional).
func (m *PoolManager) write(ctx *actor.Context, f *flow, want Row, remove bool) {
	f.step, f.req, f.want, f.remove = "write", m.newReq(), want, remove
	etag := 0
	if f.exists {
		etag = f.etag
	}
	if m.bug == NoETag {
		etag = -1
	}
	ctx.Send(storage, Write{Req: f.req, Pool: f.pool, Row: want, IfETag: etag, Remove: remove})
}

func (m *PoolManager) read(ctx *actor.Context, f *flow) {
	f.step, f.req = "read", m.newReq()
	ctx.Send(storage, Read{Req: f.req, Pool: f.pool})
}

// written records a write that happened and takes the next step; a pool
// that became steady is told to the scheduler.
func (m *PoolManager) written(ctx *actor.Context, f *flow, etag int) {
	was := f.row.State
	f.row, f.exists, f.etag = f.want, !f.remove, etag
	switch {
	case !f.exists:
		ctx.Send(scheduler, PoolResized{Pool: f.pool, ETag: etag, Gone: true})
	case f.row.State == "steady" && was != "steady":
		ctx.Send(scheduler, PoolResized{Pool: f.pool, Size: f.row.Size, ETag: etag})
	}
	m.advance(ctx, f)
}

// waiting returns the flow of pool waiting for answer req to its step.
func (m *PoolManager) waiting(pool string, req int, step string) *flow {
	f := m.pools[pool]
	if f == nil || f.step != step || f.req != req {
		return nil
	}
	return f
}

// poolOf is the pool of a deployment id (POOL-UID-dN).
func poolOf(id string) string {
	p, _, _ := strings.Cut(id, "-")
	return p
}

func sum(deps []Dep) int {
	n := 0
	for _, d := range deps {
		n += d.VMs
	}
	return n
}

// Facts implements actor.Publisher.
func (m *PoolManager) Facts() interpose.Facts {
	state := "ready"
	if m.recovering {
		state = "recovering"
	}
	var pools []string
	for _, p := range sortedKeys(m.pools) {
		f := m.pools[p]
		s := p + " " + f.row.String()
		if f.step != "" {
			s += " (" + f.step + ")"
		}
		pools = append(pools, s)
	}
	m.facts = append(m.facts[:0], interpose.Fact{Name: interpose.FactRole, Value: "pool manager (" + state + ")"},
		interpose.Fact{Name: "pools", Value: listOr(pools)})
	return m.facts
}

// The invariants read the storage's rows and the deployment service's
// deployments; they hold trivially while either is down.

func services(procs []actor.Process) (*Storage, *Deployments) {
	if len(procs) < deployments {
		return nil, nil // a cluster without the services (a minimizer dropped nodes)
	}
	s, _ := procs[storage-1].(*Storage)
	d, _ := procs[deployments-1].(*Deployments)
	return s, d
}

// noRogue: every deployment the service holds belongs to a pool, listed
// in its row or the one its row says is being made.
func noRogue(procs []actor.Process) error {
	s, d := services(procs)
	if s == nil || d == nil {
		return nil
	}
	for _, id := range sortedKeys(d.deps) {
		a := d.deps[id]
		r, ok := s.rows[a.Pool]
		if !ok {
			return fmt.Errorf("deployment %s (%d VMs) belongs to %s, which has no row", id, a.VMs, a.Pool)
		}
		if r.Row.Pending != id && !slices.ContainsFunc(r.Row.Deps, func(x Dep) bool { return x.ID == id }) {
			return fmt.Errorf("deployment %s (%d VMs) is not in %s's row (%s)", id, a.VMs, a.Pool, r.Row)
		}
	}
	return nil
}

// vmsAllocated: a pool's row lists deployments the service allocated, each
// once and with its VMs, and its size is theirs (a deleting pool's
// deployments may be released already).
func vmsAllocated(procs []actor.Process) error {
	s, d := services(procs)
	if s == nil || d == nil {
		return nil
	}
	for _, p := range sortedKeys(s.rows) {
		r := s.rows[p].Row
		seen := map[string]bool{}
		for _, dep := range r.Deps {
			if seen[dep.ID] {
				return fmt.Errorf("%s's row lists %s twice (%s)", p, dep.ID, r)
			}
			seen[dep.ID] = true
			a, ok := d.deps[dep.ID]
			if r.State != "deleting" && (!ok || a.VMs != dep.VMs) {
				return fmt.Errorf("%s's row lists %s with %d VMs; the deployment service holds %d of it", p, dep.ID, dep.VMs, a.VMs)
			}
		}
		if r.Size != sum(r.Deps) {
			return fmt.Errorf("%s's row says size %d, its deployments hold %d VMs (%s)", p, r.Size, sum(r.Deps), r)
		}
	}
	return nil
}

// inState is a monitor hot while a pool's row is in one of states: the
// first such pool is what is owed.
func inState(states ...string) func([]actor.Process) (bool, string) {
	return func(procs []actor.Process) (bool, string) {
		s, _ := services(procs)
		if s == nil {
			return false, ""
		}
		for _, p := range sortedKeys(s.rows) {
			if r := s.rows[p].Row; slices.Contains(states, r.State) {
				return true, fmt.Sprintf("%s is %s (%s)", p, r.State, r)
			}
		}
		return false, ""
	}
}

// schedulerBehind is hot while the scheduler holds a size other than its
// row's for a steady pool, or holds a pool whose row is gone (pools on
// their way are PoolSteady's and PoolDeleted's).
func schedulerBehind(procs []actor.Process) (bool, string) {
	s, _ := services(procs)
	if s == nil || len(procs) < scheduler {
		return false, ""
	}
	sch, _ := procs[scheduler-1].(*Scheduler)
	if sch == nil {
		return false, ""
	}
	for _, p := range sortedKeys(s.rows) {
		r := s.rows[p].Row
		if got, ok := sch.pools[p]; r.State == "steady" && (!ok || got.Gone || got.Size != r.Size) {
			return true, fmt.Sprintf("the scheduler holds %s as %s; its row is %s", p, told(got, ok), r)
		}
	}
	for _, p := range sortedKeys(sch.pools) {
		if _, ok := s.rows[p]; !ok && !sch.pools[p].Gone {
			return true, fmt.Sprintf("the scheduler holds %s (%d VMs), which has no row", p, sch.pools[p].Size)
		}
	}
	return false, ""
}

func told(p PoolResized, ok bool) string {
	switch {
	case !ok:
		return "unknown"
	case p.Gone:
		return "gone"
	}
	return fmt.Sprintf("%d VMs", p.Size)
}

// quota: the service never holds more VMs than the quota.
func quota(procs []actor.Process) error {
	_, d := services(procs)
	if d == nil {
		return nil
	}
	if n := d.total(); n > Quota {
		return errors.New("the deployment service holds " + strconv.Itoa(n) + " VMs; the quota is " + strconv.Itoa(Quota))
	}
	return nil
}
