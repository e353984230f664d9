package fuzz

import (
	"github.com/faultline-dev/faultline/interpose"
)

// Workload is a target's default fuzzing workload: what happens after the
// nodes' starts, which kinds of events, which client payloads, and how long
// its runs are. A campaign uses it wherever its options leave a field unset.
type Workload struct {
	// Prologue returns the events after the starts of n nodes (an actor
	// Raft's bootstrap configuration).
	Prologue func(n int) []interpose.Event `json:"-"`
	// Weights of the event kinds.
	Weights *Weights `json:"weights,omitempty"`
	// Clients are the payloads of client operations.
	Clients []string `json:"clients,omitempty"`
	// Reads is the percentage of reads among the built-in KV's client
	// operations (Options.Reads).
	Reads int `json:"reads,omitempty"`
	// Events and CheckEvery are the length of the target's runs and how
	// often their invariants are checked, from event CheckFrom on (0: the
	// campaign's own).
	Events     int `json:"events,omitempty"`
	CheckEvery int `json:"check_every,omitempty"`
	CheckFrom  int `json:"check_from,omitempty"`
}

// Apply fills in a campaign's options with the workload, where the options
// leave them unset: the prologue (for opts.Nodes nodes, or nodes when that is
// 0), the weights and the client payloads. Events, CheckEvery and CheckFrom
// are left to the caller, who knows whether the user set them.
func (w *Workload) Apply(opts Options, nodes int) Options {
	if w == nil {
		return opts
	}
	n := opts.Nodes
	if n <= 0 {
		n = nodes
	}
	if opts.Prologue == nil && w.Prologue != nil {
		opts.Prologue = w.Prologue(n)
	}
	if opts.Weights == nil {
		opts.Weights = w.Weights
	}
	if opts.Clients == nil {
		opts.Clients = w.Clients
	}
	if opts.Reads == 0 {
		opts.Reads = w.Reads
	}
	return opts
}

// Workloader is a target with a default workload of its own. The command
// line (package cli), campaigns and faultlinetest fuzz it with that
// workload unless told otherwise.
type Workloader interface {
	interpose.Target
	Workload() *Workload
}

// WithWorkload returns target with w as its default workload: how a
// service of your own tells `faultline fuzz` and campaigns which client
// operations it takes (say, "a,b,10" transfers instead of the built-in
// key-value writes). The result is a Holder when target is.
func WithWorkload(target interpose.Target, w *Workload) interpose.Target {
	return &withWorkload{Target: target, w: w}
}

type withWorkload struct {
	interpose.Target
	w *Workload
}

func (t *withWorkload) Workload() *Workload { return t.w }

// Unwrap returns the target the workload was added to.
func (t *withWorkload) Unwrap() interpose.Target { return t.Target }

// Hold holds the process for the wrapped target when it is a Holder.
func (t *withWorkload) Hold() func() {
	if h, ok := t.Target.(interpose.Holder); ok {
		return h.Hold()
	}
	return func() {}
}

// WorkloadOf returns a target's default workload (nil: none).
func WorkloadOf(target interpose.Target) *Workload {
	if w, ok := target.(Workloader); ok {
		return w.Workload()
	}
	return nil
}

// TargetWeights are the weights target's runs take unless told otherwise:
// its workload's, else DefaultWeights. --weights and ParseWeights change
// some of them over these.
func TargetWeights(target interpose.Target) Weights {
	if w := WorkloadOf(target); w != nil && w.Weights != nil {
		return *w.Weights
	}
	return DefaultWeights()
}

// ApplyWorkload fills in opts with target's default workload (see
// Workload.Apply): the options a run of target takes by default.
func ApplyWorkload(target interpose.Target, opts Options) Options {
	w := WorkloadOf(target)
	if w == nil {
		return opts
	}
	return w.Apply(opts, target.Spec(opts.Nodes, 0).Nodes)
}

// Lengths fills in the length of opts' runs and how often they are checked
// (Events, CheckEvery, CheckFrom) from the workload, where opts leaves them
// zero.
func (w *Workload) Lengths(opts Options) Options {
	if w == nil {
		return opts
	}
	if opts.Events == 0 {
		opts.Events = w.Events
	}
	if opts.CheckEvery == 0 {
		opts.CheckEvery = w.CheckEvery
	}
	if opts.CheckFrom == 0 {
		opts.CheckFrom = w.CheckFrom
	}
	return opts
}
