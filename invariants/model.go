package invariants

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline-dev/faultline/interpose"
)

// Model is the sequential specification of a service's own client
// operations: what one copy of the service, taking them one at a time,
// answers. A run's history of such operations (each command as sent, with
// what the service answered) is linearizable when some order of them,
// within their call and return, makes this model give every answer seen.
//
// Give Init and Step (a step function), or Porcupine (a porcupine.Model
// whose inputs and outputs are the commands and answers, as strings).
type Model struct {
	// Init returns the state before any operation.
	Init func() any
	// Step applies command op to state and returns the next state and
	// the answer the service must give (as the service's answer is
	// recorded: fmt.Sprint of what its state machine returned, "" for
	// nil). States are compared with Equal, or == when Equal is nil: a
	// map is not comparable, a struct or string of the state is.
	Step func(state any, op string) (next any, answer string)
	// Equal compares two states (nil: ==).
	Equal func(a, b any) bool

	// Porcupine, when set, replaces Init, Step and Equal: porcupine's
	// own model, called with commands and answers as strings.
	Porcupine *porcupine.Model

	// Key, when set, names the part of the state a command touches:
	// commands of different keys are checked apart (porcupine's
	// partitioning; a history is linearizable when each key's is), which
	// keeps the search small. Nil: one key for all.
	Key func(op string) string
	// Read, when set, tells the commands that change nothing (a read):
	// one left without an answer is dropped from the history, and a
	// witness is shrunk by dropping reads.
	Read func(op string) bool
}

// ModelOf returns the model of a target that has one (a Model() method
// returning *Model, as hraft.Target has, under any wrapper), else nil.
func ModelOf(target interpose.Target) *Model {
	if target == nil {
		return nil
	}
	if m, ok := interpose.Unwrap(target).(interface{ Model() *Model }); ok {
		return m.Model()
	}
	return nil
}

// porcupine returns m as a porcupine model over string inputs and outputs.
func (m *Model) porcupine() porcupine.Model {
	if m.Porcupine != nil {
		return *m.Porcupine
	}
	step, equal := m.Step, m.Equal
	pm := porcupine.Model{
		Init: m.Init,
		Step: func(state, input, output any) (bool, any) {
			next, want := step(state, input.(string))
			return want == output.(string), next
		},
		DescribeOperation: func(input, output any) string { return fmt.Sprintf("%s → %q", input, output) },
		DescribeState:     func(state any) string { return fmt.Sprintf("%v", state) },
	}
	if pm.Init == nil {
		pm.Init = func() any { return nil }
	}
	if equal != nil {
		pm.Equal = equal
	}
	return pm
}

// Valid reports what is wrong with m, for a target to refuse it at once
// rather than at the end of a run.
func (m *Model) Valid() error {
	if m.Porcupine == nil && m.Step == nil {
		return fmt.Errorf("model: neither Step nor Porcupine is set")
	}
	return nil
}

// CheckModel checks a history of a service's own operations (KVOp.Op set)
// against m, key by key (Model.Key), with porcupine's search bounded by
// opts.Timeout per key (Unknown when it runs out: never a violation). There
// is no fast path: the log order of writes that CheckKV uses needs to know
// what each write wrote. A violation's witness is the key's operations
// with as many reads left out as can be while they still cannot be
// ordered (a read changes nothing, so any order of the whole history would
// order what is left).
func CheckModel(history []KVOp, m *Model, opts LinOptions) LinResult {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	pm := m.porcupine()
	ops := make([]KVOp, 0, len(history))
	for _, o := range history {
		if o.Op == "" {
			continue
		}
		if o.Pending && m.Read != nil && m.Read(o.Op) {
			continue // a read without an answer says nothing
		}
		o.Key = ""
		if m.Key != nil {
			o.Key = m.Key(o.Op)
		}
		ops = append(ops, o)
	}
	res := LinResult{Verdict: Linearizable}
	var unknown *LinResult
	for part, key := range byKey(ops) {
		res.Searched++
		r := searchModel(pm, part, timeout)
		switch r.Verdict {
		case Unknown:
			if unknown == nil {
				r.Key = key
				unknown = &r
			}
			continue
		case Linearizable:
			continue
		}
		r.Key, r.Searched = key, res.Searched
		r.Witness = shrinkWitness(pm, part, m.Read, timeout)
		where := ""
		if key != "" {
			where = " on " + key
		}
		r.Detail = fmt.Sprintf("no order of the %d operations%s gives the answers seen, by the model; nor of %d of them",
			len(part), where, len(r.Witness))
		return r
	}
	if unknown != nil {
		unknown.Searched = res.Searched
		unknown.Detail = fmt.Sprintf("the search of %q's history ran out of its %v", unknown.Key, timeout)
		return *unknown
	}
	return res
}

// searchModel runs porcupine on one key's operations of a service's model.
func searchModel(pm porcupine.Model, ops []KVOp, timeout time.Duration) LinResult {
	return porcupineSearch(pm, ops, func(o KVOp) any { return o.Op }, timeout)
}

// shrinkWitness drops, one at a time, each completed read whose removal
// leaves ops still impossible to order, and returns what is left. Only
// reads go: dropping a write could make the rest impossible when the whole
// was not for that reason. Each try is one bounded search; a try that runs
// out keeps the read.
func shrinkWitness(pm porcupine.Model, ops []KVOp, read func(string) bool, timeout time.Duration) []KVOp {
	out := slices.Clone(ops)
	if read == nil {
		return out
	}
	for i := len(out) - 1; i >= 0; i-- {
		if !read(out[i].Op) {
			continue
		}
		try := slices.Delete(slices.Clone(out), i, i+1)
		if searchModel(pm, try, timeout).Verdict == NotLinearizable {
			out = try
		}
	}
	slices.SortFunc(out, func(a, b KVOp) int { return cmp.Compare(a.Call, b.Call) })
	return out
}
