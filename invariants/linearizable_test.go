package invariants

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func w(id int, key, v string, call, ret int64, index uint64) KVOp {
	return KVOp{ID: id, Key: key, Write: true, Value: v, Call: call, Return: ret, Index: index}
}

func r(id int, key, v string, call, ret int64) KVOp {
	return KVOp{ID: id, Key: key, Value: v, Call: call, Return: ret}
}

func TestCheckKV(t *testing.T) {
	pending := func(o KVOp) KVOp { o.Pending = true; o.Index = 0; return o }
	for _, c := range []struct {
		name     string
		ops      []KVOp
		want     Verdict
		searched int
		witness  []int  // the IDs of the witness, for a violation
		detail   string // part of the detail
	}{
		{name: "empty", want: Linearizable},
		{name: "write then read", ops: []KVOp{w(1, "x", "a", 0, 10, 1), r(2, "x", "a", 20, 30)}, want: Linearizable},
		{name: "read of the initial value before a write", ops: []KVOp{r(1, "x", "", 0, 5), w(2, "x", "a", 10, 20, 1)}, want: Linearizable},
		{name: "concurrent read sees either", ops: []KVOp{w(1, "x", "a", 0, 10, 1), w(2, "x", "b", 20, 40, 2), r(3, "x", "a", 25, 30), r(4, "x", "b", 26, 31)}, want: Linearizable},
		{name: "closed intervals: a read issued as the write returns", ops: []KVOp{w(1, "x", "a", 0, 10, 1), w(2, "x", "b", 10, 20, 2), r(3, "x", "a", 10, 10)}, want: Linearizable},
		{
			name: "stale read", ops: []KVOp{w(1, "x", "a", 0, 10, 1), w(2, "x", "b", 20, 30, 2), r(3, "x", "a", 40, 50)},
			want: NotLinearizable, searched: 1, witness: []int{2, 3}, detail: `the write of "b" (index 2) returned at 30, and a read issued later, at 40, returned "a", older`,
		},
		{
			name: "read of a value never written", ops: []KVOp{w(1, "x", "a", 0, 10, 1), r(2, "x", "z", 20, 30)},
			want: NotLinearizable, searched: 1, witness: []int{2}, detail: `no write of x wrote "z"`,
		},
		{
			name: "a read sees a write before it was issued", ops: []KVOp{r(1, "x", "a", 0, 5), w(2, "x", "a", 10, 20, 1)},
			want: NotLinearizable, searched: 1, witness: []int{1, 2}, detail: `a read returned "a" at 5, before the write of it (index 1) was issued at 10`,
		},
		{
			name: "the log orders two writes against real time",
			ops:  []KVOp{w(1, "x", "a", 20, 30, 1), w(2, "x", "b", 0, 10, 2), r(3, "x", "b", 40, 50)},
			want: NotLinearizable, searched: 1, witness: []int{2, 1}, detail: "the write at index 1 was issued at 20, after the write at index 2, later in the log, had returned at 10",
		},
		{
			name: "log order fails, another order holds: the search decides",
			ops:  []KVOp{w(1, "x", "a", 0, 10, 1), w(2, "x", "b", 0, 10, 2), r(3, "x", "a", 20, 30)},
			want: Linearizable, searched: 1,
		},
		{
			name: "a pending write read later: the search places it",
			ops:  []KVOp{w(1, "x", "a", 0, 10, 1), pending(w(2, "x", "b", 5, 0, 0)), r(3, "x", "b", 20, 30)},
			want: Linearizable, searched: 1,
		},
		{
			name: "a pending write never read is left out",
			ops:  []KVOp{w(1, "x", "a", 0, 10, 1), pending(w(2, "x", "b", 5, 0, 0)), r(3, "x", "a", 20, 30)},
			want: Linearizable,
		},
		{
			name: "keys are independent",
			ops:  []KVOp{w(1, "x", "a", 0, 10, 1), w(2, "y", "a", 0, 10, 2), r(3, "y", "a", 20, 30), r(4, "x", "a", 20, 30)},
			want: Linearizable,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := CheckKV(c.ops, LinOptions{})
			if res.Verdict != c.want || res.Searched != c.searched {
				t.Fatalf("verdict %v after searching %d keys (%s); want %v after %d", res.Verdict, res.Searched, res.Detail, c.want, c.searched)
			}
			if c.want != NotLinearizable {
				if res.Violation() != nil {
					t.Error("a violation for a linearizable history")
				}
				return
			}
			var ids []int
			for _, o := range res.Witness {
				ids = append(ids, o.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(c.witness) || !strings.Contains(res.Detail, c.detail) || res.Key != "x" {
				t.Errorf("witness %v on %q, %q; want %v and %q", ids, res.Key, res.Detail, c.witness, c.detail)
			}
			if v := res.Violation(); v == nil || v.Fingerprint != Linearizability {
				t.Errorf("violation %+v", v)
			}
			var html bytes.Buffer
			if err := res.WriteHTML(&html); err != nil || !strings.Contains(html.String(), "<html") {
				t.Errorf("WriteHTML: %v, %d bytes", err, html.Len())
			}
		})
	}
}

// history makes a random history of a register: writes of unique values
// applied in a random order at random points of their intervals, reads
// answered at random points; with stale set, one read returns an old
// value, which may or may not break linearizability.
func history(rng *rand.Rand, n int, stale bool) []KVOp {
	type point struct {
		at int64
		op int
	}
	var ops []KVOp
	var points []point
	index := uint64(0)
	for i := range n {
		call := rng.Int64N(100)
		ret := call + rng.Int64N(30)
		at := call + rng.Int64N(ret-call+1)
		key := "k" + fmt.Sprint(rng.IntN(2))
		o := KVOp{ID: i + 1, Client: 1 + rng.IntN(3), Key: key, Call: call, Return: ret}
		if rng.IntN(2) == 0 {
			o.Write, o.Value = true, fmt.Sprintf("v%d", i)
		}
		ops = append(ops, o)
		points = append(points, point{at, i})
	}
	// Apply in the order of the points: writes get log indexes, reads the
	// value of the moment.
	for i := range points {
		for j := i + 1; j < len(points); j++ {
			if points[j].at < points[i].at {
				points[i], points[j] = points[j], points[i]
			}
		}
	}
	state := map[string]string{}
	var old []string
	for _, p := range points {
		o := &ops[p.op]
		if o.Write {
			index++
			o.Index = index
			old = append(old, state[o.Key])
			state[o.Key] = o.Value
		} else {
			o.Value = state[o.Key]
		}
	}
	if stale && len(old) > 0 {
		for i := range ops {
			if !ops[i].Write {
				ops[i].Value = old[rng.IntN(len(old))]
				break
			}
		}
	}
	return ops
}

// TestCheckKVAgreesWithSearch: on random histories, linearizable by
// construction or with a read made stale, the fast path with its fallback
// gives porcupine's own verdict on every key.
func TestCheckKVAgreesWithSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fast, broken := 0, 0
	for i := range 2000 {
		ops := history(rng, 2+rng.IntN(12), i%2 == 1)
		got := CheckKV(ops, LinOptions{})
		want := Linearizable
		byKey := map[string][]KVOp{}
		for _, o := range ops {
			byKey[o.Key] = append(byKey[o.Key], o)
		}
		for _, kops := range byKey {
			if search(kops, time.Second).Verdict == NotLinearizable {
				want = NotLinearizable
			}
		}
		if got.Verdict != want {
			t.Fatalf("history %d: %v, porcupine says %v\n%v", i, got.Verdict, want, ops)
		}
		if got.Searched == 0 {
			fast++
		}
		if want == NotLinearizable {
			broken++
		}
		if i%2 == 0 && got.Verdict != Linearizable {
			t.Fatalf("history %d, linearizable by construction: %v (%s)", i, got.Verdict, got.Detail)
		}
	}
	t.Logf("2000 histories: %d not linearizable, %d decided by the fast path alone", broken, fast)
	if broken == 0 || fast < 1000 {
		t.Errorf("%d broken, %d by the fast path: the generator tests too little", broken, fast)
	}
}

// BenchmarkCheckKV: a 300-operation history over 4 keys, decided by the
// fast path.
func BenchmarkCheckKV(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ops []KVOp
	index := uint64(0)
	at := int64(0)
	state := map[string]string{}
	for i := range 300 {
		key := "k" + fmt.Sprint(rng.IntN(4))
		at += 10
		o := KVOp{ID: i, Key: key, Call: at - 5, Return: at + 5}
		if rng.IntN(2) == 0 {
			index++
			o.Write, o.Value, o.Index = true, fmt.Sprintf("v%d", i), index
			state[key] = o.Value
		} else {
			o.Value = state[key]
		}
		ops = append(ops, o)
	}
	if r := CheckKV(ops, LinOptions{}); r.Verdict != Linearizable || r.Searched != 0 {
		b.Fatalf("%v, searched %d", r.Verdict, r.Searched)
	}
	b.ReportAllocs()
	for b.Loop() {
		CheckKV(ops, LinOptions{})
	}
}
