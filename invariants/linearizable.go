package invariants

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline-dev/faultline/interpose"
)

// Linearizability is the name of a client history that no sequential
// key-value store could have produced.
const Linearizability = interpose.LinearizabilityName

// KVOp is one client operation of a history on a key-value store: a write
// of Value to Key, or a read of Key that returned Value ("" for a key never
// written). Times are the run's virtual time (or any clock that orders the
// run's events); intervals are closed, as porcupine reads them: operations
// that share an instant are concurrent.
type KVOp struct {
	// ID identifies the operation (the event that issued it); Client is
	// who issued it (a node), for drawings.
	ID     int
	Client int
	Key    string
	Write  bool
	Value  string
	Call   int64
	Return int64
	// Pending is an operation without a definite result: a write that may
	// or may not have taken effect (a timeout, a leader lost while it was
	// committing), or a read with no answer (dropped from the check).
	// Return is then ignored. A write known not to have taken effect
	// ("not the leader") is left out of the history by its caller.
	Pending bool
	// Index is the log index a write took, when known: the order of
	// writes the fast path tries first.
	Index uint64
	// Op is the command of an operation of a service's own Model (Value is
	// then its answer, Write false for one that changes nothing); "" for a
	// key-value operation. CheckKV ignores it; CheckModel reads it.
	Op string
}

func (o KVOp) String() string {
	what := fmt.Sprintf("read %s → %q", o.Key, o.Value)
	switch {
	case o.Op != "":
		what = fmt.Sprintf("%q", o.Op)
		if !o.Pending {
			what += fmt.Sprintf(" → %q", o.Value)
		}
		if o.Index != 0 {
			what += fmt.Sprintf(" at index %d", o.Index)
		}
	case o.Write:
		what = fmt.Sprintf("write %s=%q", o.Key, o.Value)
		if o.Index != 0 {
			what += fmt.Sprintf(" at index %d", o.Index)
		}
	}
	if o.Pending {
		return fmt.Sprintf("op %d: %s from %d, no result", o.ID, what, o.Call)
	}
	return fmt.Sprintf("op %d: %s, %d..%d", o.ID, what, o.Call, o.Return)
}

// Verdict is what a linearizability check concluded.
type Verdict int

const (
	Linearizable Verdict = iota
	NotLinearizable
	// Unknown: the full search ran out of its time budget.
	Unknown
)

func (v Verdict) String() string {
	return [...]string{"linearizable", "not linearizable", "unknown"}[v]
}

// LinOptions configure CheckKV. The zero value gives the full search a
// second per key.
type LinOptions struct {
	// Timeout is porcupine's budget for each key the fast path could not
	// decide (0: one second). It is the one part of a check that reads the
	// wall clock: a search that runs out says Unknown, never a violation.
	Timeout time.Duration
}

// LinResult is a history's verdict. For a violation, Key is the key whose
// operations cannot be ordered and Witness the fewest of them found that
// cannot (the fast path's, confirmed by the search; else the key's
// history); Detail says why in words.
type LinResult struct {
	Verdict Verdict
	Key     string
	Witness []KVOp
	Detail  string
	// Searched counts the keys the fast path left to porcupine.
	Searched int

	info  porcupine.LinearizationInfo
	full  bool             // info holds a search's result
	model *porcupine.Model // the search's model (nil: a key's register)
}

// Violation is the result as a violation (nil unless NotLinearizable): its
// detail is Detail, then the witness's operations.
func (r LinResult) Violation() *interpose.Violation {
	if r.Verdict != NotLinearizable {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Detail)
	b.WriteString(" (times are event numbers); witness:")
	for _, o := range r.Witness {
		b.WriteString(" [")
		b.WriteString(o.String())
		b.WriteString("]")
	}
	return &interpose.Violation{Invariant: Linearizability, Fingerprint: Linearizability, Detail: b.String()}
}

// WriteHTML writes porcupine's visualization of the key the search
// decided (the violating one, for a violation): each client's operations
// on a time line, and the longest orders the search found. It is an error
// when no search ran (the fast path decided everything).
func (r LinResult) WriteHTML(w io.Writer) error {
	if !r.full {
		return errors.New("linearizability: no search ran, nothing to draw")
	}
	m := kvModel
	if r.model != nil {
		m = *r.model
	}
	return porcupine.Visualize(m, r.info, w)
}

// CheckKV checks a key-value history for linearizability, key by key (a
// history is linearizable if and only if each key's is). The fast path
// tries the order the log gives the writes: with every completed write's
// index known and every value written once, it places each operation in
// that order in linear time after a sort. What it cannot place, or cannot
// decide (a log order that fails may not be the only order), goes to
// porcupine's search, bounded by opts.Timeout.
func CheckKV(history []KVOp, opts LinOptions) LinResult {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	// One copy, grouped by key (stable: each key's operations keep their
	// order); a read without an answer says nothing and is left out.
	sorted := make([]KVOp, 0, len(history))
	for _, o := range history {
		if o.Write || !o.Pending {
			sorted = append(sorted, o)
		}
	}
	res := LinResult{Verdict: Linearizable}
	unknown := LinResult{}
	for ops, key := range byKey(sorted) {
		fast, ok := fastPath(ops)
		if ok && fast.Verdict == Linearizable {
			continue
		}
		res.Searched++
		r := search(ops, timeout)
		switch r.Verdict {
		case Unknown:
			if unknown.Key == "" {
				unknown = r
				unknown.Key = key
			}
			continue
		case Linearizable:
			continue
		}
		r.Key = key
		if ok && fast.Verdict == NotLinearizable {
			r.Witness, r.Detail = fast.Witness, fast.Detail
		} else {
			r.Witness = ops
			r.Detail = fmt.Sprintf("the %d operations on %s cannot be ordered (porcupine's search)", len(ops), key)
		}
		r.Searched = res.Searched
		return r
	}
	if unknown.Key != "" {
		unknown.Searched = res.Searched
		unknown.Detail = fmt.Sprintf("the search of %s's history ran out of its %v", unknown.Key, timeout)
		return unknown
	}
	return res
}

// byKey sorts ops by key, keeping each key's order, and yields each key's
// operations in turn.
func byKey(ops []KVOp) iter.Seq2[[]KVOp, string] {
	slices.SortStableFunc(ops, func(a, b KVOp) int { return strings.Compare(a.Key, b.Key) })
	return func(yield func([]KVOp, string) bool) {
		for len(ops) > 0 {
			n := 1
			for n < len(ops) && ops[n].Key == ops[0].Key {
				n++
			}
			if !yield(ops[:n:n], ops[0].Key) {
				return
			}
			ops = ops[n:]
		}
	}
}

// fastPath decides one key's history in the log's order of writes; ok is
// false when that order is not known (a completed write without an index,
// a value written twice, a read of a pending write's value). A verdict of
// NotLinearizable says only that the log's order fails: the caller
// confirms it with the search.
func fastPath(ops []KVOp) (LinResult, bool) {
	var writes []KVOp
	var pendingValue map[string]bool
	nw := 0
	for _, o := range ops {
		if o.Write {
			nw++
		}
	}
	writes = make([]KVOp, 0, nw)
	for _, o := range ops {
		if !o.Write {
			continue
		}
		if o.Pending {
			if pendingValue == nil {
				pendingValue = map[string]bool{}
			}
			pendingValue[o.Value] = true
			continue
		}
		if o.Index == 0 || o.Value == "" {
			return LinResult{}, false
		}
		writes = append(writes, o)
	}
	slices.SortFunc(writes, func(a, b KVOp) int { return cmp.Compare(a.Index, b.Index) })
	written := make(map[string]int, len(writes)) // value → its write's position, 1..n; 0 is the initial value
	for k, w := range writes {
		if _, dup := written[w.Value]; dup || pendingValue[w.Value] || k > 0 && writes[k-1].Index == w.Index {
			return LinResult{}, false
		}
		written[w.Value] = k + 1
	}
	n := len(writes)
	// b[k].lo, b[k].hi bound write k's point (k = 1..n); the sources name
	// the operations that set them, for the witness; b[j].read is a read
	// of value j whose return bounds every write up to j.
	type bounds struct {
		lo, hi             int64
		loSrc, hiSrc, read *KVOp
	}
	b := make([]bounds, n+2)
	for k := 1; k <= n; k++ {
		w := &writes[k-1]
		b[k] = bounds{lo: w.Call, hi: w.Return, loSrc: w, hiSrc: w}
	}
	for i := range ops {
		r := &ops[i]
		if r.Write {
			continue
		}
		j, ok := 0, r.Value == ""
		if !ok {
			j, ok = written[r.Value]
		}
		if !ok {
			if pendingValue[r.Value] {
				return LinResult{}, false
			}
			return LinResult{Verdict: NotLinearizable, Witness: []KVOp{*r},
				Detail: fmt.Sprintf("%s: no write of %s wrote %q", r, r.Key, r.Value)}, true
		}
		// Read after write j and before write j+1: write j+1 cannot come
		// before the read was issued, writes up to j not after it returned.
		if j+1 <= n && r.Call > b[j+1].lo {
			b[j+1].lo, b[j+1].loSrc = r.Call, r
		}
		if b[j].read == nil || r.Return < b[j].read.Return {
			b[j].read = r
		}
	}
	// A read of value j bounds every write up to j: fold them from the end.
	var bound int64 = math.MaxInt64
	var bsrc *KVOp
	for k := n; k >= 1; k-- {
		if r := b[k].read; r != nil && r.Return < bound {
			bound, bsrc = r.Return, r
		}
		if bound < b[k].hi {
			b[k].hi, b[k].hiSrc = bound, bsrc
		}
	}
	// Greedy: each write at the earliest point its bounds and the order allow.
	t, from := int64(math.MinInt64), 0
	for k := 1; k <= n; k++ {
		if b[k].lo >= t {
			t, from = b[k].lo, k
		}
		if t > b[k].hi {
			return LinResult{Verdict: NotLinearizable, Witness: witness(writes, b[from].loSrc, b[k].hiSrc, from, k),
				Detail: explain(writes, b[from].loSrc, b[k].hiSrc, from, k)}, true
		}
	}
	return LinResult{Verdict: Linearizable}, true
}

// witness lists the operations of a failed order: the one that pushed
// write from's point up, the writes from..k the log orders, and the one
// that held write k's point down.
func witness(writes []KVOp, lo, hi *KVOp, from, k int) []KVOp {
	var out []KVOp
	add := func(o *KVOp) {
		if o != nil && !slices.ContainsFunc(out, func(x KVOp) bool { return x.ID == o.ID && x.Write == o.Write }) {
			out = append(out, *o)
		}
	}
	add(lo)
	for i := from; i <= k; i++ {
		add(&writes[i-1])
	}
	add(hi)
	slices.SortFunc(out, func(a, b KVOp) int { return cmp.Compare(a.Call, b.Call) })
	return out
}

func explain(writes []KVOp, lo, hi *KVOp, from, k int) string {
	w := &writes[k-1]
	prefix := w.Key + ": "
	switch {
	case !lo.Write && hi.Write:
		return prefix + fmt.Sprintf("the write of %q (index %d) returned at %d, and a read issued later, at %d, returned %q, older",
			hi.Value, hi.Index, hi.Return, lo.Call, lo.Value)
	case !lo.Write && !hi.Write:
		return prefix + fmt.Sprintf("a read returned %q at %d, and a read issued later, at %d, returned %q, older",
			hi.Value, hi.Return, lo.Call, lo.Value)
	case lo.Write && !hi.Write:
		return prefix + fmt.Sprintf("a read returned %q at %d, before the write of it (index %d) was issued at %d",
			hi.Value, hi.Return, lo.Index, lo.Call)
	}
	return prefix + fmt.Sprintf("the write at index %d was issued at %d, after the write at index %d, later in the log, had returned at %d",
		lo.Index, lo.Call, hi.Index, hi.Return)
}

// kvInput is a porcupine operation's input on one key's register.
type kvInput struct {
	write bool
	value string
}

// kvModel is one key's register: reads return the last value written.
var kvModel = porcupine.Model{
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in := input.(kvInput)
		if in.write {
			return true, in.value
		}
		return output.(string) == state.(string), state
	},
	DescribeOperation: func(input, output any) string {
		in := input.(kvInput)
		if in.write {
			return fmt.Sprintf("write %q", in.value)
		}
		return fmt.Sprintf("read → %q", output)
	},
	DescribeState: func(state any) string { return fmt.Sprintf("%q", state) },
}

// search runs porcupine on one key's operations: a pending write may take
// effect at any point after it was issued, or never (its return is the end
// of time).
func search(ops []KVOp, timeout time.Duration) LinResult {
	return porcupineSearch(kvModel, ops, func(o KVOp) any { return kvInput{o.Write, o.Value} }, timeout)
}

// porcupineSearch runs porcupine with model m on ops, whose inputs input
// makes and whose outputs are their Values: a pending operation may take
// effect at any point after it was issued, or never (its return is the end
// of time).
func porcupineSearch(m porcupine.Model, ops []KVOp, input func(KVOp) any, timeout time.Duration) LinResult {
	hist := make([]porcupine.Operation, 0, len(ops))
	for _, o := range ops {
		ret := o.Return
		if o.Pending {
			ret = math.MaxInt64
		}
		hist = append(hist, porcupine.Operation{ClientId: max(o.Client-1, 0), Input: input(o), Call: o.Call,
			Output: o.Value, Return: ret, Metadata: o.String()})
	}
	r, info := porcupine.CheckOperationsVerbose(m, hist, timeout)
	out := LinResult{info: info, full: true, model: &m}
	switch r {
	case porcupine.Ok:
		out.Verdict = Linearizable
	case porcupine.Illegal:
		out.Verdict = NotLinearizable
	default:
		out.Verdict = Unknown
	}
	return out
}

// HistoryOf turns a run's client operations (interpose.ClientOp, as views
// and schedules carry them) into a history for CheckKV: operations that
// failed for sure are left out.
func HistoryOf(ops []interpose.ClientOp) []KVOp {
	hist := make([]KVOp, 0, len(ops))
	for _, o := range ops {
		if o.Failed {
			continue
		}
		hist = append(hist, KVOp{ID: o.Event, Client: o.Node, Key: o.Key, Write: o.Write, Value: o.Value,
			Call: int64(o.Call), Return: int64(o.Return), Pending: o.Pending, Index: o.Index, Op: o.Op})
	}
	return hist
}
