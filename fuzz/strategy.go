package fuzz

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
)

// Exploration strategies (Options.Strategy).
const (
	// Random picks, at each step, a kind of event by the weights and then
	// one of the candidates uniformly: a random walk.
	Random = "random"
	// PCT picks the kind the same way, but a delivery is the oldest message
	// of the channel with the highest priority (Burckhardt et al., ASPLOS
	// 2010, with channels for threads): priorities are random, and at d-1
	// random steps the channel just delivered drops below every other.
	// Timers fire as often as in the random walk.
	PCT = "pct"
	// Portfolio alternates strategies by run, as Coyote does: run i uses
	// portfolio[i mod 3], random, PCT with depth 3, PCT with depth 10.
	Portfolio = "portfolio"
	// Swarm is the random walk over a fault mix of the run's own (swarm
	// testing, Groce et al., ISSTA 2012): each kind of fault is on or off,
	// and its weight scaled, by a draw from the run's seed (SwarmWeights),
	// so that one run restarts nodes often and never partitions, another
	// the other way round. The mix is recorded in the schedule's origin.
	Swarm = "swarm"
)

// portfolioDepths are the portfolio's strategies: 0 is the random walk,
// d > 0 PCT with depth d. A shallow and a deep PCT: most Raft bugs need one
// or two late messages (depth 3), some a longer starvation (depth 10).
var portfolioDepths = []int{0, 3, 10}

// defaultPCTDepth is PCT's depth when Options.PCTDepth is 0.
const defaultPCTDepth = 3

// StrategyName is the strategy run uses under opts, as findings record it
// ("random", "pct:3"); "" for an unknown strategy.
func StrategyName(opts Options, run int) string {
	_, name, _ := strategyOf(opts, run)
	return name
}

// strategyOf returns the PCT depth of run (0: the random walk) and the
// strategy's name as findings record it ("random", "pct:3").
func strategyOf(opts Options, run int) (depth int, name string, err error) {
	switch opts.Strategy {
	case "", Random:
		depth = 0
	case PCT:
		depth = opts.PCTDepth
		if depth <= 0 {
			depth = defaultPCTDepth
		}
	case Portfolio:
		depth = portfolioDepths[run%len(portfolioDepths)]
	case Swarm, Guided:
		return 0, opts.Strategy, nil
	default:
		return 0, "", fmt.Errorf("fuzz: unknown strategy %q (want random, pct, portfolio, swarm or guided)", opts.Strategy)
	}
	if depth == 0 {
		return 0, Random, nil
	}
	return depth, PCT + ":" + strconv.Itoa(depth), nil
}

// pct is the state of a PCT run. The "threads" it gives priorities to are
// channels: the messages of one source to one destination.
type pct struct {
	rng    *rand.Rand
	stride int          // nodes + 1
	prio   []float64    // by from*stride + to; 0: not drawn yet
	change map[int]bool // the steps after which the channel delivered is demoted
	low    float64      // the next demoted priority, below all others
}

// newPCT draws depth-1 change points among the steps [1, events).
func newPCT(rng *rand.Rand, depth, events, nodes int) *pct {
	stride := nodes + 1
	p := &pct{rng: rng, stride: stride, prio: make([]float64, stride*stride), change: map[int]bool{}, low: 0.5}
	for range depth - 1 {
		if events > 1 {
			p.change[1+rng.IntN(events-1)] = true
		}
	}
	return p
}

// priority returns the priority of m's channel, drawing it when the channel
// is new: drawn priorities lie in (1, 2), above every demoted one (0.5,
// -0.5, ...), so a uniform draw is a random place among the others.
func (p *pct) priority(m interpose.Message) float64 {
	from, to := m.Msg.From, m.Msg.To
	if from < 0 || to < 0 || from >= p.stride || to >= p.stride {
		return 1 // not a node's message: a channel of middling priority
	}
	i := from*p.stride + to
	if p.prio[i] == 0 {
		p.prio[i] = 1 + p.rng.Float64()
	}
	return p.prio[i]
}

// pick returns the oldest message that passes keep on the channel of
// highest priority; ok is false when none passes.
func (p *pct) pick(pending []interpose.Message, keep func(*interpose.Message) bool) (best interpose.Message, ok bool) {
	var bestPrio float64
	for i := range pending {
		m := &pending[i]
		if !keep(m) {
			continue
		}
		pr := p.priority(*m)
		if !ok || pr > bestPrio || pr == bestPrio && m.Seq < best.Seq {
			best, bestPrio, ok = *m, pr, true
		}
	}
	return best, ok
}

// delivered is told of each delivery PCT chose, at step: at a change point
// the message's channel drops below every other.
func (p *pct) delivered(m interpose.Message, step int) {
	if !p.change[step] {
		return
	}
	from, to := m.Msg.From, m.Msg.To
	if from >= 0 && to >= 0 && from < p.stride && to < p.stride {
		p.prio[from*p.stride+to] = p.low
		p.low--
	}
}

// SwarmWeights is the fault mix of a swarm run whose seed is seed, drawn
// from base: each kind of fault (drops, duplicates, crashes with their
// recoveries, partitions with their heals, membership changes, leadership
// transfers, storage faults, controlled choices) is off with probability
// one half, else its weight is scaled by 1/2, 1, 2 or 4; client operations
// are scaled by 1, 2 or 4 (SwarmClients); deliveries, clock advances and
// timers keep their weights. A kind base leaves at 0 stays off.
func SwarmWeights(base Weights, seed uint64) Weights {
	w, _ := swarmDraw(base, seed)
	return w
}

// SwarmLengths are the factors a swarm run draws its length from, each as
// likely: Options.Events times one of them. Most bugs show in a fresh
// cluster's first few hundred events; some need a history first, and a
// run that ends before it pays off finds nothing (hashicorp/raft#85 on
// hraft-serial: a stale snapshot leaves a node's log with a gap in about
// one 300-event run in 200, but the node seldom restarts before the run
// ends; with 1,000-event runs it does).
var SwarmLengths = []int{1, 1, 3, 10}

// SwarmClients are the factors a swarm run scales its client operations by,
// each as likely: a history of writes is what snapshots, compactions and
// InstallSnapshot come from.
var SwarmClients = []int{1, 2, 4}

// swarmDraw draws a swarm run's mix and the factor of its length.
func swarmDraw(base Weights, seed uint64) (Weights, int) {
	rng := rand.New(rand.NewPCG(seed, 0x5357_4152_4d21)) // its own stream: the walk's is untouched
	w := base
	for _, group := range [][]*int{{&w.Drop}, {&w.Duplicate}, {&w.Crash, &w.Recover}, {&w.Partition, &w.Heal},
		{&w.Membership}, {&w.Transfer}, {&w.Disk}, {&w.Choice}} {
		on, scale := rng.IntN(2) == 1, rng.IntN(4) // drawn for every group, so that one group's draw never moves another's
		for _, k := range group {
			switch {
			case *k == 0: // off in the base: off in every mix
			case !on:
				*k = 0
			case scale == 0:
				*k = max(1, *k/2)
			default:
				*k <<= scale - 1
			}
		}
	}
	// Drawn after the faults, so that a run's fault mix is what it was
	// before these were.
	w.Client *= SwarmClients[rng.IntN(len(SwarmClients))]
	return w, SwarmLengths[rng.IntN(len(SwarmLengths))]
}

// RunEvents is the length bound of run under opts: Options.Events (0: 300),
// times the factor a swarm run draws (SwarmLengths).
func RunEvents(opts Options, run int) int {
	_, events := runDraw(opts, run)
	return events
}

// runDraw is run's weights and length bound under opts, drawn once: the
// options' (baseWeights, baseEvents), or a swarm run's own.
func runDraw(opts Options, run int) (Weights, int) {
	w, events := baseWeights(opts), baseEvents(opts)
	if opts.Strategy != Swarm {
		return w, events
	}
	w, f := swarmDraw(w, RunSeed(opts.Seed, run))
	return w, events * f
}

// baseEvents is Options.Events, 300 when unset.
func baseEvents(opts Options) int {
	if opts.Events <= 0 {
		return 300
	}
	return opts.Events
}

// kinds names each weight as Mix, Args and ParseWeights do.
func (w *Weights) kinds() []struct {
	name string
	p    *int
} {
	return []struct {
		name string
		p    *int
	}{{"deliver", &w.Deliver}, {"timer", &w.Timer}, {"drop", &w.Drop}, {"duplicate", &w.Duplicate}, {"advance", &w.Advance},
		{"crash", &w.Crash}, {"recover", &w.Recover}, {"client", &w.Client}, {"partition", &w.Partition}, {"heal", &w.Heal},
		{"membership", &w.Membership}, {"transfer", &w.Transfer}, {"disk", &w.Disk}, {"choice", &w.Choice}}
}

// Mix is a run's weights as a schedule's origin records them (by kind, the
// kinds drawn at all).
func (w Weights) Mix() map[string]int {
	m := map[string]int{}
	for _, k := range w.kinds() {
		if *k.p > 0 {
			m[k.name] = *k.p
		}
	}
	return m
}

// Args is every weight, 0 included, as --weights and ParseWeights read them
// ("deliver=100,timer=0,..."): over any base, the same weights.
func (w Weights) Args() string {
	var b strings.Builder
	for i, k := range w.kinds() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.name + "=" + strconv.Itoa(*k.p))
	}
	return b.String()
}

// baseWeights are the options' weights (or DefaultWeights), storage
// faults as Disk asks.
func baseWeights(opts Options) Weights {
	w := DefaultWeights()
	if opts.Weights != nil {
		w = *opts.Weights
	}
	if opts.Disk > 0 {
		w.Disk = opts.Disk
	}
	return w
}

// MeanEvents is the mean of RunEvents over runs under opts: Options.Events
// (0: 300), times the mean of SwarmLengths for Swarm. A campaign sizes its
// chunks by it.
func MeanEvents(opts Options) int {
	events := baseEvents(opts)
	if opts.Strategy == Swarm {
		sum := 0
		for _, f := range SwarmLengths {
			sum += f
		}
		events = events * sum / len(SwarmLengths)
	}
	return events
}

// RunOrigin is how run under opts came about, for its schedule: the
// campaign, the run, its strategy, and what a swarm run drew (its mix and
// length bound); mutation is a guided run's.
func RunOrigin(opts Options, run int, mutation string) *interpose.Origin {
	o := &interpose.Origin{Command: opts.Command, FuzzSeed: opts.Seed, Run: run, Strategy: StrategyName(opts, run),
		Mutation: mutation}
	if opts.Strategy == Swarm {
		w, events := runDraw(opts, run)
		o.Weights, o.Events = w.Mix(), events
	}
	return o
}

// RunMix is the fault mix of run under opts as its schedule's origin
// records it: nil but for Swarm, whose runs each draw their own.
func RunMix(opts Options, run int) map[string]int {
	if opts.Strategy != Swarm {
		return nil
	}
	w, _ := runDraw(opts, run)
	return w.Mix()
}

// ParseWeights reads weights as "kind=N,kind=N" (the kinds as Mix names
// them: deliver, timer, drop, duplicate, advance, crash, recover, client,
// partition, heal, membership, transfer, disk, choice) over base: the kinds
// it names take their N, the others keep base's.
func ParseWeights(s string, base Weights) (Weights, error) {
	w := base
	fields := map[string]*int{}
	for _, k := range w.kinds() {
		fields[k.name] = k.p
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		p := fields[k]
		n, err := strconv.Atoi(v)
		switch {
		case !ok || p == nil:
			return base, fmt.Errorf("weight %q: want kind=N with a kind of %s", kv, strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		case err != nil || n < 0 || n > 1_000_000:
			return base, fmt.Errorf("weight %q: want a whole number 0..1000000", kv)
		}
		*p = n
	}
	return w, nil
}
