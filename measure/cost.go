package measure

import (
	"bytes"
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/olekukonko/tablewriter"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// The parts of a walk's CPU time that Costs tells apart.
const (
	// PartSystem is the system's own code: the innermost function of a
	// sample that is not in Go's standard library belongs to the system
	// (hashicorp/raft, etcd raft, an actor program), and faultline is not
	// on its stack. Library functions it calls count as its.
	PartSystem = "system"
	// PartReseed is reseeding math/rand before an event (hashicorp/raft's
	// timeouts draw from its global source).
	PartReseed = "reseed"
	// PartFaultline is faultline's own code on its own goroutine: the
	// walker, the checker, the adapter's side of an event.
	PartFaultline = "faultline"
	// PartCalled is faultline's code that the system calls: its transport,
	// stores and state machine as the adapter gives them to the system.
	PartCalled = "called"
	// PartRuntime is samples with no function outside Go's standard
	// library: the scheduler switching goroutines, the collector.
	PartRuntime = "runtime"
)

// Parts lists the parts in the order Costs reports them.
var Parts = []string{PartSystem, PartRuntime, PartReseed, PartFaultline, PartCalled}

// faultlineModule is the prefix of faultline's packages.
const faultlineModule = "github.com/faultline-dev/faultline/"

// CostShare is the CPU time of one part of a profile.
type CostShare struct {
	Part    string  `json:"part"`
	Seconds float64 `json:"seconds"`
	Share   float64 `json:"share"` // of the profile's whole CPU time
}

// CostOptions says which packages are the system's. The zero value counts
// every package outside faultline's module and Go's standard library as the
// system's.
type CostOptions struct {
	// System lists package path prefixes of faultline's module that are
	// the system's too (the built-in targets' programs, state machines and
	// stores in casestudies); the module's other packages are faultline's.
	System []string
}

// Costs splits a CPU profile (runtime/pprof's format) of a walk into
// Parts: each sample goes to the part of its stack's innermost function
// outside Go's standard library (reseeding whatever is under math/rand's
// Seed, faultline's own code split by whether the system called it).
// Every part is listed, in Parts' order, with zero time when it has none.
func Costs(prof io.Reader, opts CostOptions) ([]CostShare, error) {
	ns := map[string]int64{}
	if err := opts.add(ns, prof); err != nil {
		return nil, err
	}
	return shares(ns), nil
}

// add adds a profile's CPU time to ns, by part.
func (o CostOptions) add(ns map[string]int64, prof io.Reader) error {
	p, err := profile.Parse(prof)
	if err != nil {
		return fmt.Errorf("cost: %w", err)
	}
	cpu := slices.IndexFunc(p.SampleType, func(t *profile.ValueType) bool { return t.Type == "cpu" })
	if cpu < 0 {
		return fmt.Errorf("cost: not a CPU profile (sample types %v)", p.SampleType)
	}
	for _, s := range p.Sample {
		ns[o.part(s)] += s.Value[cpu]
	}
	return nil
}

// shares turns CPU time by part into Parts' shares.
func shares(ns map[string]int64) []CostShare {
	var total int64
	for _, v := range ns {
		total += v
	}
	out := make([]CostShare, 0, len(Parts))
	for _, part := range Parts {
		c := CostShare{Part: part, Seconds: float64(ns[part]) / 1e9}
		if total > 0 {
			c.Share = float64(ns[part]) / float64(total)
		}
		out = append(out, c)
	}
	return out
}

// part names the part sample s belongs to.
func (o CostOptions) part(s *profile.Sample) string {
	// Location[0] is the innermost; a location holds its inlined
	// functions innermost first.
	var frames []string
	for _, loc := range s.Location {
		for _, l := range loc.Line {
			if l.Function != nil {
				frames = append(frames, l.Function.Name)
			}
		}
	}
	for _, f := range frames {
		if f == "math/rand.Seed" || f == "math/rand.(*Rand).Seed" {
			return PartReseed
		}
	}
	for i, f := range frames {
		switch o.owner(f) {
		case PartSystem:
			return PartSystem
		case PartFaultline:
			if slices.ContainsFunc(frames[i+1:], func(g string) bool { return o.owner(g) == PartSystem }) {
				return PartCalled
			}
			return PartFaultline
		}
	}
	return PartRuntime
}

// owner says whose function f is: PartSystem, PartFaultline, or "" for Go's
// standard library (and the runtime).
func (o CostOptions) owner(f string) string {
	pkg := funcPackage(f)
	for _, p := range o.System {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return PartSystem
		}
	}
	switch {
	case strings.HasPrefix(pkg, faultlineModule):
		return PartFaultline
	case !strings.Contains(firstElem(pkg), "."):
		return "" // a standard library path has no dot in its first element
	}
	return PartSystem
}

// funcPackage returns the package path of a function name as the runtime
// writes it ("github.com/hashicorp/raft.(*Raft).run", "type:.eq.pkg.T",
// "slices.SortFunc[...]").
func funcPackage(f string) string {
	f = strings.TrimPrefix(f, "type:.eq.")
	if i := strings.IndexByte(f, '['); i >= 0 {
		f = f[:i] // type arguments name packages of their own
	}
	slash := strings.LastIndex(f, "/")
	if dot := strings.Index(f[slash+1:], "."); dot >= 0 {
		return f[:slash+1+dot]
	}
	return f
}

func firstElem(pkg string) string {
	first, _, _ := strings.Cut(pkg, "/")
	return first
}

// ProfileCosts runs fn under a CPU profile and returns Costs of it. It fails
// when this process is already being profiled (go test -cpuprofile).
func ProfileCosts(fn func() error, opts CostOptions) ([]CostShare, error) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return nil, fmt.Errorf("cost: %w", err)
	}
	err := fn()
	pprof.StopCPUProfile()
	if err != nil {
		return nil, err
	}
	return Costs(&buf, opts)
}

// minProfile is the least CPU time ReportCosts splits: 100 samples.
const minProfile = 1.0

// ReportCosts reports each part's share of a benchmark's CPU time as a
// metric ("system-%", ...), and the events per second the walk would make
// if faultline's parts and reseeding took no time ("bound-events/s":
// eventsPerSec over the system's and the runtime's share together), and
// logs them as a line. A profile of less than a CPU-second is not
// reported.
func ReportCosts(b *testing.B, costs []CostShare, eventsPerSec float64) {
	b.Helper()
	if cpuSeconds(costs) < minProfile {
		// The benchmark's first round of one run, or too short a
		// -benchtime: too few samples (100 a second) to split.
		return
	}
	var line []string
	for _, c := range costs {
		b.ReportMetric(100*c.Share, c.Part+"-%")
		line = append(line, fmt.Sprintf("%s %.1f%%", c.Part, 100*c.Share))
	}
	if bound := Bound(costs, eventsPerSec); bound > 0 {
		b.ReportMetric(bound, "bound-events/s")
		line = append(line, fmt.Sprintf("bound %.0f events/s", bound))
	}
	b.Log(strings.Join(line, ", "))
}

// BenchWalk runs a benchmark's walk (run: one fuzz session of b.N runs)
// and reports its events/s; with cost set, under a CPU profile whose split
// it reports as ReportCosts does.
func BenchWalk(b *testing.B, cost *CostOptions, run func() (*fuzz.Result, error)) error {
	b.Helper()
	var res *fuzz.Result
	walk := func() (err error) {
		res, err = run()
		return err
	}
	var costs []CostShare
	var err error
	if cost == nil {
		err = walk()
	} else {
		costs, err = ProfileCosts(walk, *cost)
	}
	if err != nil {
		return err
	}
	eps := float64(res.Events) / b.Elapsed().Seconds()
	b.ReportMetric(eps, "events/s")
	if cost != nil {
		ReportCosts(b, costs, eps)
	}
	return nil
}

// cpuSeconds is the CPU time of all the parts.
func cpuSeconds(costs []CostShare) float64 {
	var s float64
	for _, c := range costs {
		s += c.Seconds
	}
	return s
}

// Bound is the events a second a walk making eventsPerSec would make if
// faultline's parts and reseeding took no time: eventsPerSec over the
// system's and the runtime's shares together (0 when they have none).
func Bound(costs []CostShare, eventsPerSec float64) float64 {
	var rest float64
	for _, c := range costs {
		if c.Part == PartSystem || c.Part == PartRuntime {
			rest += c.Share
		}
	}
	if rest == 0 {
		return 0
	}
	return eventsPerSec / rest
}

// CostReport is where a campaign's CPU time went (Cost).
type CostReport struct {
	Command string `json:"command"`
	Target  string `json:"target"`
	// Runs and Events are those of the runs profiled: without the runs a
	// worker died in (Lost) and the rest of their stretch.
	Runs   int   `json:"runs"`
	Events int   `json:"events"`
	Lost   []int `json:"lost,omitempty"`
	// EventsPerSec is the profiled runs' events over their wall time;
	// CPUSeconds the CPU time the profiles sampled.
	EventsPerSec float64     `json:"events_per_s"`
	CPUSeconds   float64     `json:"cpu_s"`
	Parts        []CostShare `json:"parts"`
	// BoundPerSec is EventsPerSec over the system's and the runtime's
	// shares together: what the walk would make if faultline and
	// reseeding took no time (0 when they are all of it).
	BoundPerSec float64 `json:"bound_events_per_s"`
}

// Cost runs the campaign opts describes (the target's workload applied)
// under a CPU profile, in w's worker processes when it has a command
// (Workers.Profile), and splits the profile's time into Parts. Its
// violations are counted, not confirmed. A run that ends its worker is
// lost with the runs of its stretch, and listed.
func Cost(w *campaign.Workers, target interpose.Target, opts fuzz.Options, copts CostOptions, command string) (CostReport, error) {
	if w == nil {
		w = &campaign.Workers{}
	}
	rep := CostReport{Command: command, Target: target.Name()}
	got, err := w.Profile(target, fuzz.ApplyWorkload(target, opts))
	if err != nil {
		return rep, err
	}
	ns := map[string]int64{}
	var elapsed float64
	for _, c := range got.Chunks {
		if err := copts.add(ns, bytes.NewReader(c.Profile)); err != nil {
			return rep, err
		}
		rep.Runs += c.Result.Runs
		rep.Events += c.Result.Events
		elapsed += c.Result.ElapsedS
	}
	rep.Lost = got.Lost
	rep.Parts = shares(ns)
	rep.CPUSeconds = cpuSeconds(rep.Parts)
	if elapsed > 0 {
		rep.EventsPerSec = float64(rep.Events) / elapsed
	}
	rep.BoundPerSec = Bound(rep.Parts, rep.EventsPerSec)
	if rep.CPUSeconds < minProfile {
		if len(rep.Lost) > 0 {
			return rep, fmt.Errorf("measure cost: %d workers died (a panic in the system's own goroutines, the first in run %d), and the %d runs profiled sampled %.2f CPU-s, too little to split (100 samples a second): give more --runs",
				len(rep.Lost), rep.Lost[0], rep.Runs, rep.CPUSeconds)
		}
		return rep, fmt.Errorf("measure cost: the %d runs sampled %.2f CPU-s, too little to split (100 samples a second): give more --runs", rep.Runs, rep.CPUSeconds)
	}
	return rep, nil
}

// partNames says what each part is, for a table.
var partNames = map[string]string{
	PartSystem:    "the system's own code (its library calls included)",
	PartRuntime:   "the Go runtime alone (scheduler, collector)",
	PartReseed:    "reseeding math/rand before an event",
	PartFaultline: "faultline: walk, checks, adapter",
	PartCalled:    "faultline's code the system calls (transport, stores, Send)",
}

// WriteCost renders a CostReport as the table `faultline measure cost`
// prints.
func WriteCost(w io.Writer, rep CostReport) error {
	fmt.Fprintf(w, "$ %s\n\n", rep.Command)
	t := tablewriter.NewWriter(w)
	t.Header("part", "what", "CPU seconds", "share", "microseconds an event")
	for _, c := range rep.Parts {
		perEvent := "-"
		if rep.Events > 0 {
			perEvent = fmt.Sprintf("%.2f", 1e6*c.Seconds/float64(rep.Events))
		}
		if err := t.Append(c.Part, partNames[c.Part], fmt.Sprintf("%.2f", c.Seconds), fmt.Sprintf("%.1f%%", 100*c.Share), perEvent); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s: %d runs, %d events, %.0f events/s under the profile; with faultline and reseeding free, at most %.0f events/s\n",
		rep.Target, rep.Runs, rep.Events, rep.EventsPerSec, rep.BoundPerSec)
	if len(rep.Lost) > 0 {
		fmt.Fprintf(w, "not profiled: runs %s ended their worker (a panic in the system's own goroutines), each with the part of its stretch of runs already made\n", joinInts(rep.Lost))
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
