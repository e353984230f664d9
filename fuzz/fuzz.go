package fuzz

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/internal/cputime"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// Options configure a campaign. The zero value runs 1,000 walks of 300 events
// on the target's default cluster with seed 0, every fault enabled, stops at
// the first violation and writes nothing.
type Options struct {
	// Nodes is the cluster size (0: the target's default).
	Nodes int `json:"nodes,omitempty"`
	// Seed seeds the campaign; run i of seed s is the same walk every time.
	Seed uint64 `json:"seed"`
	// Runs is the number of walks (0: 1000).
	Runs int `json:"runs,omitempty"`
	// Events is the length of a walk, counting the nodes' starts (0: 300).
	Events int `json:"events,omitempty"`
	// Time bounds the campaign's wall-clock time (0: no bound). A run in
	// progress finishes.
	Time time.Duration `json:"time,omitempty"`
	// KeepGoing goes on after a violation, to find distinct bugs. Without
	// it a campaign stops at the first violation whose schedule replays
	// (see Confirm); a flaky one met before is listed too.
	KeepGoing bool `json:"keep_going,omitempty"`
	// Out is the directory violating schedules are written to ("": none).
	Out string `json:"out,omitempty"`
	// CheckEvery checks invariants every CheckEvery events only (0: every
	// event), and always at the end of a run.
	CheckEvery int `json:"check_every,omitempty"`
	// CheckFrom checks no invariant before event CheckFrom (what happened
	// is checked then): failures at least that long, as DEMi's were.
	CheckFrom int `json:"check_from,omitempty"`
	// Want, if set, is the violation the campaign hunts: a run counts as
	// violating only when it shows a violation whose fingerprint starts
	// with Want, which becomes the schedule's violation (others that come
	// first are passed over).
	Want string `json:"want,omitempty"`
	// Weights of the event kinds (nil: DefaultWeights).
	Weights *Weights `json:"weights,omitempty"`
	// MaxDown bounds the nodes down at once (0: a minority, (n-1)/2).
	MaxDown int `json:"max_down,omitempty"`
	// Clients are the payloads of client operations, picked at random
	// (nil: the target's own, when it is a ClientMaker; else "k<i>=<n>"
	// writes for the built-in key-value FSM).
	Clients []string `json:"clients,omitempty"`
	// Prologue is applied after the nodes' starts, before the walk (the
	// bootstrap configuration of an actor Raft, for instance).
	Prologue []interpose.Event `json:"prologue,omitempty"`
	// Checker returns the checker of one run (nil: invariants.NewRaft).
	Checker func() interpose.Checker `json:"-"`
	// Progress, if set, is called about once a second and at the end.
	Progress func(Progress) `json:"-"`
	// Command is recorded in each schedule's origin, to make it again.
	Command string `json:"command,omitempty"`
	// FirstRun is the index of the campaign's first run (0: from the
	// start), so that a campaign can be resumed after a run that crashed the
	// process.
	FirstRun int `json:"first_run,omitempty"`
	// OnRun, if set, is called before each run with its index and the
	// campaign's result so far (not to be kept or changed).
	OnRun func(run int, sofar *Result) `json:"-"`
	// OnStep, if set, is called every stepEvery events of a walk with the
	// run and how many events it has applied: progress within one long run.
	OnStep func(run, events int) `json:"-"`
	// Journal, if set, receives each event of a walk as a JSON line before
	// the event is applied, so that what a run did survives the process when
	// a panic in raft's own goroutines ends it.
	Journal io.Writer `json:"-"`
	// Strategy is how a walk picks its events: Random (""), PCT,
	// Portfolio, Swarm or Guided. PCTDepth is PCT's depth d (0: 3), d-1
	// priority changes per run.
	Strategy string `json:"strategy,omitempty"`
	PCTDepth int    `json:"pct_depth,omitempty"`
	// Known, if set, reports fingerprints the caller has already recorded
	// (a campaign's earlier pieces): their runs are counted, but their
	// schedules are neither confirmed nor kept (Found.Sched stays nil), and
	// they do not stop the campaign.
	Known func(fingerprint string) bool `json:"-"`
	// PassOverUpstream passes over, inside a walk, the violations that are
	// known bugs of hashicorp/raft (invariants.Upstream), as Want passes
	// over others: the walk goes on, so a later violation of the same run
	// is still caught (one with another fingerprint: the checker reports
	// each fingerprint once per run). After the walk each one passed over
	// is confirmed on the schedule up to it (Upstream: for #695, a replay
	// without the heartbeat fast path must not show it) and counted in
	// Result.PassedOver; one that is not confirmed is the run's violation
	// after all. Off, a walk is exactly what it was without the option.
	PassOverUpstream bool `json:"pass_over_upstream,omitempty"`
	// Liveness is checked by default: each walk is followed by a
	// stabilization phase (a Stabilize event, the faults healed, fair
	// delivery and timers, client writes) and liveness monitors are judged
	// at its end: Raft's (invariants.RaftMonitors) unless Checker returns
	// an interpose.Settler of its own. A monitor still hot is a violation
	// "Liveness:NAME". NoLiveness turns the phase off: a walk then checks
	// safety only (and Liveness:Stuck, which needs no phase). Stabilize
	// bounds the phase (0: 20): election timeouts of virtual time on a
	// target with clocks, turns of each node on one whose timers are
	// messages; it ends sooner once no monitor is hot.
	NoLiveness bool `json:"no_liveness,omitempty"`
	Stabilize  int  `json:"stabilize,omitempty"`
	// Permanent, with liveness on a cluster of three nodes or more, keeps
	// a fault for good through each run's phase, drawn from the run's
	// seed: one node cut off both ways, cut off in what it sends (a
	// one-way partition: it hears the others, they do not hear it), or
	// down (interpose.Permanents). The others must make progress without
	// it; the Stabilize event records the fault, so that replays and the
	// minimizer keep it.
	Permanent bool `json:"permanent,omitempty"`
	// Reads is the percentage of the built-in key-value store's client
	// operations that are reads ("?k": through the log, or served locally
	// on a target that reads stale on purpose); 0 draws none, so that walks
	// without it are what they were. Reads and writes make the run's
	// client history, checked for linearizability at its end.
	Reads int `json:"reads,omitempty"`
	// Disk, when positive, is the weight of storage faults in the walk
	// (Weights.Disk, whatever the weights): stalls, slow disks and failed
	// log writes on the nodes of a target with disks (hashicorp/raft).
	Disk int `json:"disk,omitempty"`
	// Confirm is how many replays in a row a violating schedule must pass,
	// showing the same fingerprint, before it is saved (0: 5; negative: no
	// check). Candidates are the replays of the run's own schedule that show
	// the violation; up to 10 are tried. A schedule that passes records a
	// typical execution rather than a rare interleaving of raft's
	// goroutines. When none passes, the run's schedule is saved, marked
	// flaky.
	Confirm int `json:"confirm,omitempty"`
}

// MonitorCoverage says, for each liveness monitor by name, in how many runs
// its phase saw it hot (Result.Monitors): "Accepts never hot (it checked
// nothing), Commit hot in 300 runs, Leader hot in 296 runs".
func MonitorCoverage(m map[string]int) string {
	names := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(names))
	for i, n := range names {
		if m[n] == 0 {
			parts[i] = n + " never hot (it checked nothing)"
		} else {
			parts[i] = fmt.Sprintf("%s hot in %d runs", n, m[n])
		}
	}
	return strings.Join(parts, ", ")
}

// Progress reports a campaign in flight.
type Progress struct {
	Runs, Events, Violations int
	Elapsed                  time.Duration
}

// Found is a distinct violation: the first run that showed its fingerprint,
// and how many runs did.
type Found struct {
	Invariant   string `json:"invariant"`
	Fingerprint string `json:"fingerprint"`
	Detail      string `json:"detail"`
	// Schedule is the file the violating schedule was written to ("" when
	// Options.Out is empty).
	Schedule string `json:"schedule"`
	// Events is the length of that schedule.
	Events int `json:"events"`
	// Run is the index of the run whose schedule is kept (the one Schedule,
	// its file name and its origin name); First the run that found it
	// first; Count the runs that found it.
	Run   int `json:"run"`
	First int `json:"first_run"`
	Count int `json:"count"`
	// Flaky is set when no replay confirmed the violation.
	Flaky bool `json:"flaky,omitempty"`
	// Strategy is the strategy of Run ("random", "pct:3").
	Strategy string `json:"strategy,omitempty"`
	// Upstream is the ID of the known hashicorp/raft bug the kept schedule
	// shows ("hashicorp/raft#695"), confirmed on it by Upstream; "" for
	// none, and for a Known fingerprint (no schedule is kept). A schedule
	// that is not a known bug is kept over one that is: the runs of one
	// fingerprint can have several causes, and the unknown one is news.
	// invariants.UpstreamLabel gives the label from a fingerprint and spec.
	Upstream string `json:"upstream,omitempty"`
	// After is the campaign's wall-clock time when it was first found.
	After time.Duration `json:"-"`
	// AfterS is After in seconds, for JSON.
	AfterS float64 `json:"after_s"`
	// CPUS is the CPU time, in seconds, the process had spent since the
	// campaign started when it was first found (all its goroutines: the
	// walk's and the system's): a measurement, as After is.
	CPUS float64 `json:"cpu_s,omitempty"`

	Sched *interpose.Schedule `json:"-"`
}

// Outranks reports whether f's schedule should be kept over g's, of the
// same fingerprint: one that replays over a flaky one, then one that is not
// a known upstream bug over one that is (a fingerprint can have several
// causes, and the unknown one is news), then the shorter.
func (f Found) Outranks(g Found) bool {
	if f.Flaky != g.Flaky {
		return !f.Flaky
	}
	if known, wasKnown := f.Upstream != "", g.Upstream != ""; known != wasKnown {
		return !known
	}
	return f.Events < g.Events
}

// Result is what a campaign did.
type Result struct {
	Target     string        `json:"target"`
	Nodes      int           `json:"nodes"`
	Seed       uint64        `json:"seed"`
	Runs       int           `json:"runs"`
	Events     int           `json:"events"`
	Elapsed    time.Duration `json:"-"`
	ElapsedS   float64       `json:"elapsed_s"`
	EventsPerS float64       `json:"events_per_s"`
	Violations []Found       `json:"violations"`
	// Kinds counts the events applied, by kind; Delivered counts delivered
	// messages by type: what the campaign exercised.
	Kinds     map[string]int `json:"kinds"`
	Delivered map[string]int `json:"delivered"`
	// PassedOver counts the hits of known upstream bugs that walks passed
	// over (Options.PassOverUpstream), by bug and fingerprint, in the order
	// first met.
	PassedOver []Passed `json:"passed_over,omitempty"`
	// Monitors counts, for each liveness monitor (unless
	// Options.NoLiveness), the runs whose stabilization phase saw it hot
	// at least once; a monitor at 0 never turned hot: nothing it watches
	// was ever owed, so it checked nothing.
	Monitors map[string]int `json:"monitors,omitempty"`
	// Faults counts each fault that fired, by kind (FaultKinds), one-way
	// partitions, storage faults by what they did ("disk tear"), torn
	// crashes, and faults a phase kept ("kept mute").
	Faults map[string]int `json:"faults"`
	// Checks counts, for each safety property, the comparisons it made
	// over the runs (invariants.Raft.Exercised): 0 is a property that
	// never had anything to check.
	Checks map[string]int `json:"checks,omitempty"`
	// Warnings name the fault kinds that never fired and the properties
	// that never had anything to check (Warn).
	Warnings []string `json:"warnings,omitempty"`
}

// FaultKinds are the kinds of events that are faults, or end one.
var FaultKinds = []interpose.Kind{interpose.Drop, interpose.Duplicate, interpose.Crash, interpose.Recover,
	interpose.Partition, interpose.Heal, interpose.Membership, interpose.Transfer, interpose.Disk}

// counts counts strings of which there are few distinct ones, without
// hashing them: an event's kind, a message's type.
type counts struct {
	keys [16]string
	n    [16]int
	len  int
	more map[string]int // past the 16th distinct string
}

func (c *counts) add(k string) {
	for i := range c.len {
		if c.keys[i] == k {
			c.n[i]++
			return
		}
	}
	if c.len < len(c.keys) {
		c.keys[c.len], c.n[c.len] = k, 1
		c.len++
		return
	}
	if c.more == nil {
		c.more = map[string]int{}
	}
	c.more[k]++
}

// addTo adds the counts to m.
func (c *counts) addTo(m map[string]int) {
	for i := range c.len {
		m[c.keys[i]] += c.n[i]
	}
	for k, n := range c.more {
		m[k] += n
	}
}

// Tally counts a run's events into the result.
func (res *Result) Tally(s *interpose.Schedule) {
	res.Events += len(s.Events)
	for _, m := range []*map[string]int{&res.Faults, &res.Kinds, &res.Delivered} {
		if *m == nil {
			*m = map[string]int{}
		}
	}
	// Kinds and message types are few and repeat from event to event:
	// counted here first, then added to the maps once.
	var kinds, types counts
	defer kinds.addTo(res.Kinds)
	defer types.addTo(res.Delivered)
	for _, e := range s.Events {
		kinds.add(string(e.Kind))
		switch e.Kind {
		case interpose.Deliver:
			if e.Msg != nil {
				types.add(e.Msg.Type)
			}
		case interpose.Drop, interpose.Duplicate, interpose.Crash, interpose.Recover, interpose.Heal,
			interpose.Membership, interpose.Transfer:
			res.Faults[string(e.Kind)]++
		case interpose.Partition:
			res.Faults[string(e.Kind)]++
			if e.Op == interpose.OneWay {
				res.Faults["partition one-way"]++
			}
		case interpose.Disk:
			res.Faults[string(e.Kind)]++
			res.Faults["disk "+e.Op]++
		case interpose.Choice:
			res.Faults[string(e.Kind)]++
			res.Faults["choice "+e.Data+" → "+e.Op]++
		case interpose.Stabilize:
			if e.Op != "" {
				res.Faults["kept "+e.Op]++
			}
		}
		if strings.HasSuffix(e.Result, "(torn)") {
			res.Faults["torn crash"]++
		}
	}
}

// Warn sets Warnings: the fault kinds of FaultKinds that never fired, and
// the properties of Checks that never had anything to check. A campaign
// that reports no violation says little about what it never exercised.
func (res *Result) Warn() {
	res.Warnings = res.Warnings[:0]
	var never []string
	for _, k := range FaultKinds {
		if res.Faults[string(k)] == 0 {
			never = append(never, string(k))
		}
	}
	if len(never) > 0 {
		hint := " (a weight of 0 draws none)"
		if slices.Contains(never, string(interpose.Disk)) {
			hint = " (a weight of 0 draws none; --disk N draws storage faults)"
		}
		res.Warnings = append(res.Warnings, "faults that never fired: "+strings.Join(never, ", ")+hint)
	}
	var idle []string
	for _, k := range slices.Sorted(maps.Keys(res.Checks)) {
		if res.Checks[k] == 0 {
			idle = append(idle, k)
		}
	}
	if len(idle) > 0 {
		hint := ""
		if slices.Contains(idle, invariants.Linearizability) {
			hint = " (Linearizability needs reads of the built-in key-value store: --reads N)"
		}
		res.Warnings = append(res.Warnings, "checks that never had anything to check: "+strings.Join(idle, ", ")+hint)
	}
	if len(res.Warnings) == 0 {
		res.Warnings = nil
	}
}

// RunSeed is the seed of run i of a campaign with seed s: it seeds both the
// walk and the system.
func RunSeed(s uint64, i int) uint64 {
	x := s*0x9e3779b97f4a7c15 + uint64(i) + 1
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return x
}

// Run fuzzes target. t is the test the systems run under (testing.Main's test
// when run from the CLI).
func Run(t *testing.T, target interpose.Target, opts Options) (*Result, error) {
	runs := opts.Runs
	if runs <= 0 {
		runs = 1000
	}
	if opts.Out != "" {
		if err := os.MkdirAll(opts.Out, 0o755); err != nil {
			return nil, fmt.Errorf("fuzz: %w", err)
		}
	}
	if _, _, err := strategyOf(opts, 0); err != nil {
		return nil, err
	}
	spec0 := target.Spec(opts.Nodes, 0)
	if h, ok := target.(interpose.Holder); ok {
		defer h.Hold()()
	}
	res := &Result{Target: target.Name(), Nodes: spec0.Nodes, Seed: opts.Seed, Violations: []Found{},
		Kinds: map[string]int{}, Delivered: map[string]int{}, Faults: map[string]int{}}
	index := map[string]int{}
	start, cpu0 := time.Now(), cputime.Self()
	lastProgress := start
	var spare []interpose.Event // a clean run's events, recorded over by the next run
	// spareMsgs are a clean run's fingerprints, which the next run's
	// overwrite when nothing kept them (guided search keeps its corpus's).
	var spareMsgs *interpose.MsgBlock
	var guided *guide // Guided's corpus and coverage
	if opts.Strategy == Guided {
		guided = newGuide()
	}
	report := func() {
		if opts.Progress != nil {
			opts.Progress(Progress{Runs: res.Runs, Events: res.Events, Violations: len(res.Violations), Elapsed: time.Since(start)})
		}
	}
	end := opts.FirstRun + runs
	if end < opts.FirstRun {
		end = math.MaxInt // Runs "unbounded", with a Time bound
	}
	if opts.Progress != nil {
		// A long run reports as it goes, not only when it ends.
		onStep := opts.OnStep
		opts.OnStep = func(run, events int) {
			if onStep != nil {
				onStep(run, events)
			}
			if time.Since(lastProgress) >= time.Second {
				lastProgress = time.Now()
				opts.Progress(Progress{Runs: res.Runs, Events: res.Events + events, Violations: len(res.Violations),
					Elapsed: time.Since(start)})
			}
		}
	}
	for run := opts.FirstRun; run < end; run++ {
		if opts.Time > 0 && time.Since(start) >= opts.Time {
			break
		}
		if opts.OnRun != nil {
			opts.OnRun(run, res)
		}
		plan := guided.plan(opts.Seed, run, spec0.Nodes)
		s, passed, cover, err := walk(t, target, opts, run, spare, spareMsgs, plan)
		spare, spareMsgs = nil, nil
		res.Runs++
		if err != nil {
			return res, fmt.Errorf("fuzz: run %d: %w", run, err)
		}
		res.Tally(s)
		if guided != nil {
			guided.learn(s, run, s.Target.Seed, cover.bypassed)
		}
		for name, n := range cover.checks {
			if res.Checks == nil {
				res.Checks = map[string]int{}
			}
			res.Checks[name] += n
		}
		for name, hot := range cover.monitors {
			if res.Monitors == nil {
				res.Monitors = map[string]int{}
			}
			n := 0
			if hot {
				n = 1
			}
			res.Monitors[name] += n // listed at 0 until one turns hot
		}
		if len(passed) > 0 {
			if s, err = res.passOver(t, target, s, passed, opts, run); err != nil {
				return res, err
			}
		}
		if s.Violation != nil {
			stop, err := res.record(t, target, s, opts, run, plan.String(), index, time.Since(start), cputime.Self()-cpu0)
			if err != nil {
				return res, err
			}
			if !opts.KeepGoing && stop {
				break // a flaky violation is listed, and the search goes on for one that replays
			}
		} else {
			spare = s.Events // nothing keeps a clean run's schedule: the next run records in it
			if guided == nil {
				spareMsgs = cover.msgs
				spareMsgs.Reuse()
			}
		}
		if opts.Progress != nil && time.Since(lastProgress) >= time.Second {
			lastProgress = time.Now()
			report()
		}
	}
	res.Warn()
	res.Elapsed = time.Since(start)
	res.ElapsedS = res.Elapsed.Seconds()
	if res.ElapsedS > 0 {
		res.EventsPerS = float64(res.Events) / res.ElapsedS
	}
	report()
	return res, nil
}

// stepEvery is how often, in events, a walk calls Options.OnStep.
const stepEvery = 1024

// confirmAttempts bounds the replays of a run's schedule that Confirm tries
// as candidates.
const confirmAttempts = 10

// record counts a violating run and saves its schedule when its fingerprint
// is new, when the schedule kept so far is flaky and this one is not, or when
// it is shorter (and no flakier): after Confirm, so that what is saved
// replays. A new fingerprint's schedule is also matched against the known
// upstream bugs (Upstream). It reports whether the campaign may stop here:
// the schedule kept for the fingerprint replays, and the fingerprint is not
// one of Options.Known.
func (res *Result) record(t *testing.T, target interpose.Target, s *interpose.Schedule, opts Options,
	run int, mutation string, index map[string]int, after, cpu time.Duration) (stop bool, err error) {
	fp := s.Violation.Fingerprint
	i, seen := index[fp]
	if seen {
		g := &res.Violations[i]
		g.Count++
		if g.Sched == nil {
			return false, nil // a Known fingerprint
		}
		if !g.Flaky && len(s.Events) >= g.Events {
			return true, nil
		}
	}
	if !seen && opts.Known != nil && opts.Known(fp) {
		index[fp] = len(res.Violations)
		_, strategy, _ := strategyOf(opts, run)
		res.Violations = append(res.Violations, Found{Invariant: s.Violation.Invariant, Fingerprint: fp,
			Detail: s.Violation.Detail, Run: run, First: run, Count: 1, Events: len(s.Events), After: after, AfterS: after.Seconds(),
			CPUS: cpu.Seconds(), Strategy: strategy})
		return false, nil
	}
	s, flaky, err := Confirm(t, target, s, opts)
	if err != nil {
		return false, fmt.Errorf("fuzz: run %d: %w", run, err)
	}
	_, strategy, _ := strategyOf(opts, run)
	s.Origin = RunOrigin(opts, run, mutation)
	// A fingerprint's runs can have different causes (a liveness monitor's
	// is its name): each schedule is matched against the known upstream
	// bugs, and one that is not a known bug is kept over one that is.
	bug, ok, err := Upstream(t, target, s, ReplayOptions{CheckEvery: opts.CheckEvery, CheckFrom: opts.CheckFrom, Checker: opts.Checker})
	if err != nil {
		return false, fmt.Errorf("fuzz: run %d: %w", run, err)
	}
	upstream := ""
	if ok {
		upstream = bug.ID
	}
	if seen {
		g := &res.Violations[i]
		if !(Found{Flaky: flaky, Upstream: upstream, Events: len(s.Events)}).Outranks(*g) {
			return !g.Flaky, nil
		}
		g.Flaky, g.Detail, g.Run, g.Strategy, g.Upstream = flaky, s.Violation.Detail, run, strategy, upstream
		return !flaky, save(g, s, opts.Out, target.Name(), opts.Seed, run)
	}
	f := Found{Invariant: s.Violation.Invariant, Fingerprint: fp, Detail: s.Violation.Detail, Run: run, First: run, Count: 1,
		Flaky: flaky, After: after, AfterS: after.Seconds(), CPUS: cpu.Seconds(), Strategy: strategy, Upstream: upstream}
	if err := save(&f, s, opts.Out, target.Name(), opts.Seed, run); err != nil {
		return false, err
	}
	index[fp] = len(res.Violations)
	res.Violations = append(res.Violations, f)
	return !flaky, nil
}

// Confirm looks for a schedule of the violation in s that replays reliably:
// among replays of s that show its fingerprint, the first whose own replays
// show it opts.Confirm times in a row. A replay that went another way is a
// real execution, and its record can be kept; for a monitor's verdict on a
// phase, Replay judges such an execution on a phase made afresh
// (JudgedOnPhase), so that what is kept ran a fair phase. When none is
// found, it returns s and flaky = true.
func Confirm(t *testing.T, target interpose.Target, s *interpose.Schedule, opts Options) (_ *interpose.Schedule, flaky bool, err error) {
	need := opts.Confirm
	if need == 0 {
		need = 5
	}
	if need < 0 || s.Violation == nil {
		return s, false, nil
	}
	ropts := ReplayOptions{CheckEvery: opts.CheckEvery, CheckFrom: opts.CheckFrom, Checker: opts.Checker}
	for range confirmAttempts {
		rep, err := Replay(t, target, s, ropts)
		if err != nil {
			return s, false, err
		}
		if rep.Reproduced == 0 {
			continue
		}
		cand := rep.Last.Schedule
		ropts.Repeat = need
		check, err := Replay(t, target, cand, ropts)
		ropts.Repeat = 1
		if err != nil {
			return s, false, err
		}
		if check.Reproduced == need {
			return cand, false, nil
		}
	}
	return s, true, nil
}

// ClientMaker is a target that makes its own client operations (a
// service's commands, reads and writes, with their arguments), drawn from
// the walk's seeded source so that a seed's walk stays reproducible: ok
// false leaves the walk to its default. Options.Clients, when set, comes
// first.
type ClientMaker interface {
	MakeClient(r *rand.Rand) (data string, ok bool)
}

// Walk performs run number run of the campaign opts describes (its seed is
// RunSeed(opts.Seed, run)) and returns the schedule it recorded, with the
// first violation if one was seen (with PassOverUpstream, the first that is
// not a known upstream bug by invariants.Upstream's match, unconfirmed).
// Runs, Time, KeepGoing, Out and Progress are ignored.
func Walk(t *testing.T, target interpose.Target, opts Options, run int) (*interpose.Schedule, error) {
	s, _, _, err := walk(t, target, opts, run, nil, nil, nil)
	return s, err
}

// walk is Walk, and also returns the violations it passed over as known
// upstream bugs (PassOverUpstream), in order, and the liveness monitors'
// coverage (nil when the run had no phase or its checker says none).
// runCover is what one run exercised: each liveness monitor, whether it
// turned hot in the phase; each safety property, how many comparisons it
// made (invariants.Raft.Exercised).
type runCover struct {
	monitors map[string]bool
	checks   map[string]int
	// bypassed are the violations other than the one wanted
	// (Options.Want) the run went past, each at its step.
	bypassed []interpose.Violation
	// msgs holds the fingerprints of the run's events.
	msgs *interpose.MsgBlock
}

func walk(t *testing.T, target interpose.Target, opts Options, run int, buf []interpose.Event,
	msgs *interpose.MsgBlock, plan *mutation) (*interpose.Schedule, []interpose.Violation, runCover, error) {
	weights, events := runDraw(opts, run)
	if plan != nil {
		events = max(events, plan.cut+events/2) // the corpus run's prefix, then a walk of its own
	}
	live := !opts.NoLiveness
	check := invariants.CheckerFor(target, opts.Checker, live)
	seed := RunSeed(opts.Seed, run)
	spec := target.Spec(opts.Nodes, seed)
	if plan != nil {
		spec = target.Spec(opts.Nodes, plan.seed) // the corpus run's cluster, for its prefix to replay
	}
	maxDown := opts.MaxDown
	if maxDown <= 0 {
		maxDown = (spec.Nodes - 1) / 2
	}
	sys, err := target.Open(t, spec)
	if err != nil {
		return nil, nil, runCover{}, err
	}
	ctl := interpose.NewController(sys, check, spec)
	ctl.CheckEvery, ctl.CheckFrom = opts.CheckEvery, opts.CheckFrom
	ctl.Reuse(buf)
	ctl.Reserve(events)
	depth, _, err := strategyOf(opts, run)
	if err != nil {
		sys.Close()
		return nil, nil, runCover{}, err
	}
	w := newWalker(sys, seed, weights, maxDown)
	if msgs != nil {
		w.msgs = msgs
	}
	if depth > 0 {
		w.pct = newPCT(w.rng, depth, events, spec.Nodes)
	}
	w.clients = opts.Clients
	if cm, ok := target.(ClientMaker); ok && len(opts.Clients) == 0 {
		w.makeClient = cm.MakeClient
	}
	w.reads = opts.Reads
	w.prologue = opts.Prologue
	if plan != nil {
		w.prologue = plan.prefix // its prologue included
	}
	passOver := func(v interpose.Violation) bool {
		if !opts.PassOverUpstream {
			return false
		}
		if _, ok := invariants.Upstream(spec, v.Fingerprint, ctl.Nodes()); ok || !invariants.UpstreamNeedsState(spec, v.Fingerprint) {
			return ok
		}
		// A bug told by the phase's answers: the run so far.
		s := ctl.Schedule()
		s.Violation = &v
		_, ok := invariants.UpstreamIn(s)
		return ok
	}
	wanted := func() *interpose.Violation {
		if opts.Want == "" && !opts.PassOverUpstream {
			return ctl.Violation()
		}
		phase := -1 // the step of a monitor passed over
		for _, v := range ctl.Violations() {
			if passOver(v) {
				if monitored(v) {
					phase = v.Step
				}
				continue
			}
			if monitored(v) && v.Step == phase {
				// Judged at the same end of the phase as a monitor
				// passed over, and after it: monitors are reported in
				// order of cause (no leader, so no write accepted, so
				// none committed), this one is its consequence.
				continue
			}
			if strings.HasPrefix(v.Fingerprint, opts.Want) {
				return &v
			}
		}
		return nil
	}
	for ctl.Len() < events && wanted() == nil {
		ev, ok := w.next()
		if !ok {
			break
		}
		if opts.Journal != nil {
			line, _ := json.Marshal(ev)
			if _, err := opts.Journal.Write(append(line, '\n')); err != nil {
				sys.Close()
				return nil, nil, runCover{}, fmt.Errorf("journal: %w", err)
			}
		}
		if _, err := ctl.Step(ev); err != nil && !errors.Is(err, interpose.ErrNotEnabled) {
			sys.Close()
			return nil, nil, runCover{}, err
		}
		if opts.OnStep != nil && ctl.Len()%stepEvery == 0 {
			opts.OnStep(run, ctl.Len())
		}
	}
	cover := runCover{msgs: w.msgs}
	if live {
		ctl.Check() // the last events' violations decide whether a phase runs
	}
	if live && wanted() == nil {
		so := interpose.StabilizeOptions{Bound: opts.Stabilize, Clocks: weights.Advance > 0, Writes: opts.Clients,
			NoWrites: weights.Client == 0, Msgs: w.msgs}
		if et, err := time.ParseDuration(spec.Config["election_timeout"]); err == nil {
			so.ElectionTimeout = et
		}
		if opts.Permanent && spec.Nodes >= 3 {
			so.Keep = interpose.Permanent{Kind: interpose.Permanents[w.rng.IntN(len(interpose.Permanents))], Node: 1 + w.rng.IntN(spec.Nodes)}
		}
		if err := ctl.Stabilize(so); err != nil {
			sys.Close()
			return nil, nil, runCover{}, err
		}
	}
	ctl.Finish() // the run's last check, and its nodes stopped
	if c, ok := check.(interface{ Coverage() map[string]bool }); ok && ctl.Stabilizing() {
		cover.monitors = c.Coverage()
	}
	if c, ok := check.(interface{ Exercised() map[string]int }); ok {
		cover.checks = c.Exercised()
	}
	if err := sys.Close(); err != nil {
		return nil, nil, runCover{}, err
	}
	v := wanted()
	var passed []interpose.Violation
	for _, p := range ctl.Violations() {
		if passOver(p) {
			passed = append(passed, p)
		}
	}
	if opts.Want != "" {
		for _, o := range ctl.Violations() {
			if !strings.HasPrefix(o.Fingerprint, opts.Want) {
				cover.bypassed = append(cover.bypassed, o)
			}
		}
	}
	s := ctl.Take()
	if opts.Want != "" || opts.PassOverUpstream {
		s.Violation = v
	}
	return s, passed, cover, nil
}

// monitored reports whether v is a liveness monitor's violation, judged at
// the end of a stabilization phase (Liveness:Stuck is not: it is found
// where a node stops).
func monitored(v interpose.Violation) bool {
	return strings.HasPrefix(v.Fingerprint, invariants.LivenessPrefix) && v.Fingerprint != interpose.Stuck
}

func save(f *Found, s *interpose.Schedule, dir, target string, seed uint64, run int) error {
	f.Sched = s
	f.Events = len(s.Events)
	if dir == "" {
		return nil
	}
	name := fmt.Sprintf("%s-%s-seed%d-run%d.json", target, Slug(f.Fingerprint), seed, run)
	path := filepath.Join(dir, name)
	if err := s.WriteFile(path); err != nil {
		return fmt.Errorf("fuzz: %w", err)
	}
	if f.Schedule != "" && f.Schedule != path {
		os.Remove(f.Schedule)
	}
	f.Schedule = path
	return nil
}

// Slug turns a fingerprint into a short file-name part: letters and digits,
// other runs of characters as one '-', at most about 40 bytes.
func Slug(fp string) string {
	var b strings.Builder
	for _, r := range fp {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
