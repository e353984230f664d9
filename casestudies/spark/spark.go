package spark

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
)

// Bug names a variant: Correct, or one of DEMi's three Spark bugs.
type Bug string

const (
	Correct Bug = ""
	// Spark2294: the task scheduler indexes a task by its preferred host
	// only when an executor on that host is known at submission; an offer
	// from an executor that registers later takes a task of no preference
	// while a task that prefers its host waits.
	Spark2294 Bug = "spark-2294"
	// Spark3150: the master's recovery assumes every recovered driver is
	// on a worker; one submitted before any worker could take it has none,
	// and the recovery crashes.
	Spark3150 Bug = "spark-3150"
	// Spark9256: the master checks a registration against its live workers
	// only; a registration that arrives after a recovery, for a worker the
	// master recovered but has not heard from yet, is written again to the
	// persistence engine, whose file exists, and the master crashes.
	Spark9256 Bug = "spark-9256"
)

// Bugs lists the injected bugs in DEMi's order.
var Bugs = []Bug{Spark2294, Spark3150, Spark9256}

// Describe says what a bug does, on one line.
func Describe(b Bug) string {
	switch b {
	case Spark2294:
		return "a task is launched at a less local level while a task that prefers the executor's host is pending"
	case Spark3150:
		return "a hard kill of the master and its recovery, while a submitted driver has no worker, crashes the recovery"
	case Spark9256:
		return "a delayed registration makes the persistence engine write a worker file that exists, which crashes the master"
	}
	return "correct"
}

// Expect is the violation a bug shows.
func Expect(b Bug) string {
	if b == Spark2294 {
		return LocalityOrder
	}
	return "NoPanic"
}

// Events is the length of a variant's fuzzing runs, checked at their end:
// DEMi's initial faulty executions were 1,000, 600 and 300 events long.
func Events(b Bug) int {
	switch b {
	case Spark3150:
		return 600
	case Spark9256:
		return 300
	}
	return 1000
}

// The liveness monitors: a master that recovers eventually leaves
// RECOVERING (MasterRecovers), and a driver that waits while a live worker
// has a free core is eventually launched (DriversScheduled).
const (
	MasterRecovers   = "MasterRecovers"
	DriversScheduled = "DriversScheduled"
)

// LocalityOrder is the violation of a task launched on an executor at a
// less local level (no preference, or any host) while a pending task
// prefers the executor's host.
const LocalityOrder = "LocalityOrder"

// Roles: node 1 is the master, the last node the client (it submits
// drivers, runs applications and their task scheduler), the others are
// workers, each a host of its own.
const master = 1

func isClient(id, n int) bool { return id == n }

// Program returns the actor program of a variant.
func Program(bug Bug) actor.Program {
	return actor.Program{
		Nodes: 4,
		New: func(id, n int) actor.Process {
			switch {
			case id == master:
				return &Master{bug: bug}
			case isClient(id, n):
				return &Client{bug: bug}
			}
			return &Worker{}
		},
		Client: func(data string) (actor.Message, error) {
			verb, _, _ := strings.Cut(data, " ")
			switch verb {
			case "driver", "app", "tasks":
				return command{data}, nil
			}
			return nil, fmt.Errorf("unknown command %q (want driver ID, app ID or tasks T@HOST ...)", data)
		},
		Monitors: []actor.Monitor{
			{Name: MasterRecovers, Hot: func(procs []actor.Process) (bool, string) {
				if m, _ := procs[master-1].(*Master); m != nil && m.recovering {
					return true, "the master is recovering"
				}
				return false, ""
			}},
			{Name: DriversScheduled, Hot: waitingWithCores},
		},
		Config: map[string]string{"system": "spark standalone (master, workers, client)", "bug": string(bug)},
	}
}

// waitingWithCores is hot while the master, alive, has a driver waiting
// and a live worker with a free core.
func waitingWithCores(procs []actor.Process) (bool, string) {
	m, _ := procs[master-1].(*Master)
	if m == nil || m.recovering || len(m.waiting) == 0 {
		return false, ""
	}
	for _, id := range m.workerIDs() {
		if w := m.workers[id]; w.alive && w.free > 0 {
			return true, fmt.Sprintf("driver %s waits while n%d has %d free cores", m.waiting[0], id, w.free)
		}
	}
	return false, ""
}

// Workload is DEMi's kind of Spark run: the client submits drivers,
// applications and task sets while workers register; crashes and recoveries
// (the master's among them) are external events.
var Workload = []string{"driver d1", "driver d2", "app a1", "tasks t1@2 t2@3 t3 t4@3"}

// The persistence engine: a file per worker, driver and application in the
// master's durable store, as Spark's FileSystemPersistenceEngine keeps
// them. Writing a file that exists fails, as its createNewFile check does.

func persist(ctx *actor.Context, file string, v any) {
	if _, ok := ctx.Load(file); ok {
		panic("persistence: could not create file " + file + ": it exists")
	}
	ctx.Store(file, v)
}

// Master is Spark's standalone master.
type Master struct {
	bug        Bug
	recovering bool
	workers    map[int]*workerInfo
	drivers    map[string]*driverInfo
	apps       map[string]bool
	waiting    []string // drivers without a worker, in order of submission
	facts      interpose.FactList
}

type workerInfo struct {
	id, free int
	alive    bool // heard from since this master started (else recovered, UNKNOWN)
	drivers  []string
}

type driverInfo struct {
	id     string
	worker int // 0: none
}

// Init recovers what the persistence engine holds: workers, drivers and
// applications, each then waits to be heard from (Spark's RECOVERING).
func (m *Master) Init(ctx *actor.Context) {
	m.workers, m.drivers, m.apps = map[int]*workerInfo{}, map[string]*driverInfo{}, map[string]bool{}
	for _, f := range ctx.Keys("worker/") {
		id, _ := strconv.Atoi(strings.TrimPrefix(f, "worker/"))
		v, _ := ctx.Load(f)
		m.workers[id] = &workerInfo{id: id, free: v.(int)}
	}
	for _, f := range ctx.Keys("driver/") {
		id := strings.TrimPrefix(f, "driver/")
		m.drivers[id] = &driverInfo{id: id}
	}
	for _, f := range ctx.Keys("app/") {
		m.apps[strings.TrimPrefix(f, "app/")] = true
	}
	if len(m.workers)+len(m.drivers)+len(m.apps) == 0 {
		return
	}
	m.recovering = true
	for _, id := range m.workerIDs() {
		ctx.Send(id, MasterChanged{})
	}
	if len(m.apps) > 0 {
		ctx.Send(ctx.Nodes(), MasterChanged{})
	}
	ctx.SetTimer("CompleteRecovery")
}

func (m *Master) workerIDs() []int {
	ids := make([]int, 0, len(m.workers))
	for id := range m.workers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Receive handles the master's messages.
func (m *Master) Receive(ctx *actor.Context, from int, msg actor.Message) {
	switch msg := msg.(type) {
	case RegisterWorker:
		m.registerWorker(ctx, msg)
	case WorkerSchedulerStateResponse:
		w, ok := m.workers[msg.Worker]
		if !ok {
			return
		}
		w.alive = true
		for _, d := range msg.Drivers {
			if di, ok := m.drivers[d]; ok {
				di.worker = w.id
				w.drivers = append(w.drivers, d)
			}
		}
		if m.recovering && m.allHeard() {
			m.completeRecovery(ctx)
		}
	case actor.Timer:
		if msg.Name == "CompleteRecovery" && m.recovering {
			m.completeRecovery(ctx)
		}
	case RequestSubmitDriver:
		if m.recovering {
			ctx.Send(from, SubmitDriverResponse{msg.Driver, false})
			return
		}
		if _, ok := m.drivers[msg.Driver]; ok {
			ctx.Send(from, SubmitDriverResponse{msg.Driver, false})
			return
		}
		persist(ctx, "driver/"+msg.Driver, true)
		m.drivers[msg.Driver] = &driverInfo{id: msg.Driver}
		m.waiting = append(m.waiting, msg.Driver)
		ctx.Send(from, SubmitDriverResponse{msg.Driver, true})
		m.schedule(ctx)
	case RegisterApplication:
		if m.recovering || m.apps[msg.App] {
			return
		}
		persist(ctx, "app/"+msg.App, true)
		m.apps[msg.App] = true
		ctx.Send(from, RegisteredApplication{msg.App})
		m.schedule(ctx)
	case DriverStateChanged:
		if msg.State == "FINISHED" {
			delete(m.drivers, msg.Driver)
			ctx.Delete("driver/" + msg.Driver)
		}
	}
}

// registerWorker is Master.receive's RegisterWorker case: a worker the
// master knows is refused (Spark: "Duplicate worker ID"); the bug knows
// only the workers it heard from since it started.
func (m *Master) registerWorker(ctx *actor.Context, r RegisterWorker) {
	w, known := m.workers[r.Worker] // while recovering too: a worker it recovered is one it knows
	if m.bug == Spark9256 {
		known = known && w.alive
	}
	if known {
		ctx.Send(r.Worker, RegisterWorkerFailed{"duplicate worker ID"})
		return
	}
	persist(ctx, "worker/"+strconv.Itoa(r.Worker), r.Cores)
	m.workers[r.Worker] = &workerInfo{id: r.Worker, free: r.Cores, alive: true}
	ctx.Send(r.Worker, RegisteredWorker{})
	m.schedule(ctx)
}

func (m *Master) allHeard() bool {
	for _, w := range m.workers {
		if !w.alive {
			return false
		}
	}
	return true
}

// completeRecovery ends RECOVERING: workers not heard from are removed;
// a driver whose worker did not claim it is relaunched. The bug takes
// every driver to have a worker.
func (m *Master) completeRecovery(ctx *actor.Context) {
	m.recovering = false
	ctx.CancelTimer("CompleteRecovery")
	for _, id := range m.workerIDs() {
		if w := m.workers[id]; !w.alive {
			delete(m.workers, id)
			ctx.Delete("worker/" + strconv.Itoa(id))
		}
	}
	ids := make([]string, 0, len(m.drivers))
	for id := range m.drivers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		d := m.drivers[id]
		if m.bug == Spark3150 {
			w := m.workers[d.worker] // None.get: nil when the driver has no worker
			w.drivers = append(w.drivers[:0:0], w.drivers...)
			continue
		}
		if d.worker == 0 || m.workers[d.worker] == nil {
			d.worker = 0
			m.waiting = append(m.waiting, id)
		}
	}
	m.schedule(ctx)
}

// schedule launches waiting drivers on live workers with a free core, then
// an executor of each application on every live worker with one.
func (m *Master) schedule(ctx *actor.Context) {
	if m.recovering {
		return
	}
	ids := m.workerIDs()
	var still []string
	for _, d := range m.waiting {
		k := slices.IndexFunc(ids, func(id int) bool { w := m.workers[id]; return w.alive && w.free > 0 })
		if k < 0 {
			still = append(still, d)
			continue
		}
		w := m.workers[ids[k]]
		w.free--
		w.drivers = append(w.drivers, d)
		m.drivers[d].worker = w.id
		ctx.Send(w.id, LaunchDriver{d})
	}
	m.waiting = still
	apps := make([]string, 0, len(m.apps))
	for a := range m.apps {
		apps = append(apps, a)
	}
	slices.Sort(apps)
	for _, a := range apps {
		for _, id := range ids {
			w := m.workers[id]
			if !w.alive || w.free == 0 {
				continue
			}
			w.free--
			ctx.Send(w.id, LaunchExecutor{App: a, Exec: fmt.Sprintf("%s-e%d", a, w.id)})
		}
	}
}

// Facts implements actor.Publisher.
func (m *Master) Facts() interpose.Facts {
	state := "alive"
	if m.recovering {
		state = "recovering"
	}
	var ws []string
	for _, id := range m.workerIDs() {
		w := m.workers[id]
		s := fmt.Sprintf("n%d(%d free)", id, w.free)
		if !w.alive {
			s = fmt.Sprintf("n%d(unknown)", id)
		}
		ws = append(ws, s)
	}
	ds := make([]string, 0, len(m.drivers))
	for id, d := range m.drivers {
		if d.worker == 0 {
			ds = append(ds, id+"@-")
		} else {
			ds = append(ds, fmt.Sprintf("%s@n%d", id, d.worker))
		}
	}
	slices.Sort(ds)
	m.facts = append(m.facts[:0],
		interpose.Fact{Name: interpose.FactRole, Value: "master (" + state + ")"},
		interpose.Fact{Name: "workers", Value: list(ws)},
		interpose.Fact{Name: "drivers", Value: list(ds)})
	return m.facts
}

// Worker registers with the master, retrying until it is answered, and
// runs the drivers and executors it is given.
type Worker struct {
	registered bool
	drivers    []string
	executors  []string
	facts      interpose.FactList
}

const cores = 2

// Init registers, and arms the retry.
func (w *Worker) Init(ctx *actor.Context) {
	ctx.Send(master, RegisterWorker{ctx.Self(), cores})
	ctx.SetTimer("RegistrationRetry")
}

// Receive handles a worker's messages.
func (w *Worker) Receive(ctx *actor.Context, from int, msg actor.Message) {
	switch msg := msg.(type) {
	case actor.Timer:
		if msg.Name == "RegistrationRetry" && !w.registered {
			ctx.Send(master, RegisterWorker{ctx.Self(), cores})
			ctx.SetTimer("RegistrationRetry")
		}
	case RegisteredWorker:
		w.registered = true
		ctx.CancelTimer("RegistrationRetry")
	case RegisterWorkerFailed:
		ctx.CancelTimer("RegistrationRetry") // Spark's worker exits; this one waits
	case MasterChanged:
		ctx.Send(master, WorkerSchedulerStateResponse{Worker: ctx.Self(), Drivers: slices.Clone(w.drivers),
			Executors: slices.Clone(w.executors)})
	case LaunchDriver:
		w.drivers = append(w.drivers, msg.Driver)
		ctx.Send(master, DriverStateChanged{msg.Driver, "RUNNING"})
	case LaunchExecutor:
		w.executors = append(w.executors, msg.Exec)
		ctx.Send(ctx.Nodes(), ExecutorAdded{Exec: msg.Exec, Host: ctx.Self()})
	case LaunchTask:
		ctx.Send(ctx.Nodes(), StatusUpdate(msg))
	}
}

// Facts implements actor.Publisher.
func (w *Worker) Facts() interpose.Facts {
	state := "registering"
	if w.registered {
		state = "registered"
	}
	w.facts = append(w.facts[:0],
		interpose.Fact{Name: interpose.FactRole, Value: "worker (" + state + ")"},
		interpose.Fact{Name: "drivers", Value: list(w.drivers)},
		interpose.Fact{Name: "executors", Value: list(w.executors)})
	return w.facts
}

// Client submits drivers and applications and runs its applications' task
// scheduler (TaskSchedulerImpl and TaskSetManager, one task set at a time).
type Client struct {
	bug       Bug
	app       string
	hosts     map[int]bool     // hosts with an executor of the app
	forHost   map[int][]string // pending tasks indexed by preferred host
	noPref    []string         // pending tasks without a preference
	all       []string         // every pending task
	prefers   map[string]int   // task → its preferred host, 0 none
	launched  map[string]bool  // launched tasks
	executors map[string]int   // executor → host, for the offers it makes
	facts     interpose.FactList
}

// Init implements actor.Process.
func (c *Client) Init(*actor.Context) {
	c.hosts, c.forHost = map[int]bool{}, map[int][]string{}
	c.prefers, c.launched, c.executors = map[string]int{}, map[string]bool{}, map[string]int{}
}

// Receive handles the client's messages.
func (c *Client) Receive(ctx *actor.Context, from int, msg actor.Message) {
	switch msg := msg.(type) {
	case command:
		if !isClient(ctx.Self(), ctx.Nodes()) {
			ctx.Respond("not the client")
			return
		}
		verb, rest, _ := strings.Cut(msg.text, " ")
		switch verb {
		case "driver":
			ctx.Send(master, RequestSubmitDriver{rest})
		case "app":
			if c.app == "" {
				c.app = rest
			}
			ctx.Send(master, RegisterApplication{c.app})
		case "tasks":
			c.submit(rest)
			ctx.Respond(fmt.Sprintf("%d tasks pending", len(c.all)))
		}
	case MasterChanged:
		if c.app != "" {
			ctx.Send(master, MasterChangeAcknowledged{c.app})
		}
	case ExecutorAdded:
		c.hosts[msg.Host] = true
		c.executors[msg.Exec] = msg.Host
		c.offer(ctx, msg.Exec, msg.Host)
	case StatusUpdate:
		c.offer(ctx, msg.Exec, msg.Host)
	}
}

// submit adds a task set ("t1@2 t2 ...": a task preferring host n2, one
// with no preference) to the pending lists, as TaskSetManager's
// addPendingTask does: by preferred host, else without preference. The
// bug indexes a task by its host only when an executor there is known.
func (c *Client) submit(spec string) {
	for _, f := range strings.Fields(spec) {
		id, at, hasHost := strings.Cut(f, "@")
		if _, dup := c.prefers[id]; dup {
			continue
		}
		host := 0
		if hasHost {
			host, _ = strconv.Atoi(at)
		}
		c.prefers[id] = host
		c.all = append(c.all, id)
		switch {
		case host == 0:
			c.noPref = append(c.noPref, id)
		case c.bug == Spark2294 && !c.hosts[host]:
			// Left out of the host's index: only `all` holds it.
		default:
			c.forHost[host] = append(c.forHost[host], id)
		}
	}
}

// offer is resourceOffer for one free slot of an executor on host: a
// pending task that prefers the host (NODE_LOCAL), else one without a
// preference (NO_PREF), else any (ANY). Launching below NODE_LOCAL while a
// pending task prefers the host breaks the locality order.
func (c *Client) offer(ctx *actor.Context, exec string, host int) {
	local := c.forHost[host]
	task, level := c.pop(&local), "NODE_LOCAL"
	c.forHost[host] = local
	if task == "" {
		task, level = c.pop(&c.noPref), "NO_PREF"
	}
	if task == "" {
		task, level = c.pop(&c.all), "ANY"
	}
	if task == "" {
		return
	}
	c.launched[task] = true
	if level != "NODE_LOCAL" {
		for _, t := range c.all {
			if !c.launched[t] && c.prefers[t] == host {
				ctx.Violation(LocalityOrder, fmt.Sprintf("task %s launched at %s on an executor of n%d while task %s, which prefers n%d, is pending",
					task, level, host, t, host))
				break
			}
		}
	}
	ctx.Send(host, LaunchTask{Exec: exec, Host: host, Task: task})
}

// pop takes the first task of l not launched yet.
func (c *Client) pop(l *[]string) string {
	for len(*l) > 0 {
		t := (*l)[0]
		*l = (*l)[1:]
		if !c.launched[t] {
			return t
		}
	}
	return ""
}

// Facts implements actor.Publisher.
func (c *Client) Facts() interpose.Facts {
	var pending []string
	for _, t := range c.all {
		if !c.launched[t] {
			pending = append(pending, t)
		}
	}
	app := c.app
	if app == "" {
		app = "-"
	}
	c.facts = append(c.facts[:0],
		interpose.Fact{Name: interpose.FactRole, Value: "client (app " + app + ")"},
		interpose.Fact{Name: "pending tasks", Value: list(pending)},
		interpose.Fact{Name: "launched", Value: strconv.Itoa(len(c.launched))})
	return c.facts
}
