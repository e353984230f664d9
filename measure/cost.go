package measure

import (
	"bytes"
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
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
// every package outside faultline and Go's standard library as the
// system's.
type CostOptions struct {
	// System lists package path prefixes of the system. A package of
	// faultline's module can be the system's (an actor program in
	// casestudies); the other packages of faultline are faultline's.
	System []string
}

// Costs splits a CPU profile (runtime/pprof's format) of a walk into
// Parts: each sample goes to the part of its stack's innermost function
// outside Go's standard library (reseeding whatever is under math/rand's
// Seed, faultline's own code split by whether the system called it).
// Every part is listed, in Parts' order, with zero time when it has none.
func Costs(prof io.Reader, opts CostOptions) ([]CostShare, error) {
	p, err := profile.Parse(prof)
	if err != nil {
		return nil, fmt.Errorf("cost: %w", err)
	}
	cpu := slices.IndexFunc(p.SampleType, func(t *profile.ValueType) bool { return t.Type == "cpu" })
	if cpu < 0 {
		return nil, fmt.Errorf("cost: not a CPU profile (sample types %v)", p.SampleType)
	}
	ns := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[cpu]
		ns[opts.part(s)] += v
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
	return out, nil
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
	if len(o.System) > 0 {
		for _, p := range o.System {
			if pkg == p || strings.HasPrefix(pkg, p+"/") {
				return PartSystem
			}
		}
	}
	switch {
	case strings.HasPrefix(pkg, faultlineModule):
		return PartFaultline
	case !strings.Contains(firstElem(pkg), "."):
		return "" // a standard library path has no dot in its first element
	case len(o.System) == 0:
		return PartSystem
	}
	return "" // another module's, neither the system's nor ours: a library the system calls
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
	var seconds float64
	for _, c := range costs {
		seconds += c.Seconds
	}
	if seconds < minProfile {
		// The benchmark's first round of one run, or too short a
		// -benchtime: too few samples (100 a second) to split.
		return
	}
	var rest float64
	var line []string
	for _, c := range costs {
		b.ReportMetric(100*c.Share, c.Part+"-%")
		line = append(line, fmt.Sprintf("%s %.1f%%", c.Part, 100*c.Share))
		if c.Part == PartSystem || c.Part == PartRuntime {
			rest += c.Share
		}
	}
	if rest > 0 {
		b.ReportMetric(eventsPerSec/rest, "bound-events/s")
		line = append(line, fmt.Sprintf("bound %.0f events/s", eventsPerSec/rest))
	}
	b.Log(strings.Join(line, ", "))
}
