package invariants

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// kvCommands is the built-in store's register as a service's own model:
// "k=v" writes, "?k" reads, partitioned by key.
var kvCommands = &Model{
	Init: func() any { return "" },
	Step: func(state any, op string) (any, string) {
		if k, v, ok := strings.Cut(op, "="); ok && k != "" {
			return v, ""
		}
		return state, state.(string)
	},
	Key: func(op string) string {
		if k, _, ok := strings.Cut(op, "="); ok {
			return k
		}
		return strings.TrimPrefix(op, "?")
	},
	Read: func(op string) bool { return strings.HasPrefix(op, "?") },
}

// asCommands rewrites a key-value history as commands of kvCommands.
func asCommands(ops []KVOp) []KVOp {
	out := make([]KVOp, len(ops))
	for i, o := range ops {
		o.Op = "?" + o.Key
		if o.Write {
			o.Op, o.Value = o.Key+"="+o.Value, ""
		}
		out[i] = o
	}
	return out
}

// TestCheckModelAgreesWithCheckKV: the same random histories as
// TestCheckKVAgreesWithSearch, as commands of a model of the register,
// get CheckKV's verdict.
func TestCheckModelAgreesWithCheckKV(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	broken := 0
	for i := range 1000 {
		ops := history(rng, 2+rng.IntN(12), i%2 == 1)
		want := CheckKV(ops, LinOptions{})
		got := CheckModel(asCommands(ops), kvCommands, LinOptions{})
		if got.Verdict != want.Verdict {
			t.Fatalf("history %d: model says %v, CheckKV %v\n%v", i, got.Verdict, want.Verdict, ops)
		}
		if got.Verdict == NotLinearizable {
			broken++
			if got.Key != want.Key {
				t.Errorf("history %d: model's key %q, CheckKV's %q", i, got.Key, want.Key)
			}
			// The witness cannot be ordered on its own.
			if r := searchModel(kvCommands.porcupine(), got.Witness, 0); r.Verdict != NotLinearizable {
				t.Fatalf("history %d: the witness %v is %v", i, got.Witness, r.Verdict)
			}
		}
	}
	if broken == 0 {
		t.Error("no history was broken: the generator tests too little")
	}
}

// bankModel is three accounts; "a,b,10" moves 10 from a to b, "?a" reads a's
// balance. The state is a comparable array.
var bankModel = &Model{
	Init: func() any { return [3]int{100, 100, 100} },
	Step: func(state any, op string) (any, string) {
		s := state.([3]int)
		if acct, ok := strings.CutPrefix(op, "?"); ok {
			return s, strconv.Itoa(s[acct[0]-'a'])
		}
		p := strings.Split(op, ",")
		amount, _ := strconv.Atoi(p[2])
		s[p[0][0]-'a'] -= amount
		s[p[1][0]-'a'] += amount
		return s, ""
	},
	Read: func(op string) bool { return strings.HasPrefix(op, "?") },
}

func TestCheckModel(t *testing.T) {
	op := func(id int, cmd, out string, call, ret int64) KVOp {
		return KVOp{ID: id, Client: 1, Op: cmd, Value: out, Call: call, Return: ret, Write: !strings.HasPrefix(cmd, "?")}
	}
	pending := func(o KVOp) KVOp { o.Pending = true; return o }
	for _, c := range []struct {
		name    string
		ops     []KVOp
		want    Verdict
		witness []int
	}{
		{name: "a read after a transfer sees it", want: Linearizable,
			ops: []KVOp{op(1, "a,b,10", "", 1, 3), op(2, "?a", "90", 4, 5), op(3, "?b", "110", 6, 7)}},
		{name: "a read concurrent with a transfer sees either", want: Linearizable,
			ops: []KVOp{op(1, "a,b,10", "", 1, 5), op(2, "?a", "100", 2, 3), op(3, "?a", "90", 4, 6)}},
		{name: "a pending transfer may have happened", want: Linearizable,
			ops: []KVOp{pending(op(1, "a,b,10", "", 1, 0)), op(2, "?b", "110", 4, 5)}},
		{name: "a pending read is dropped", want: Linearizable,
			ops: []KVOp{op(1, "a,b,10", "", 1, 3), pending(op(2, "?a", "", 4, 0))}},
		{name: "a stale read: the witness keeps the reads it needs", want: NotLinearizable, witness: []int{1, 3},
			ops: []KVOp{op(1, "a,b,10", "", 1, 3), op(2, "?c", "100", 4, 5), op(3, "?a", "100", 6, 7), op(4, "?b", "110", 8, 9)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := CheckModel(c.ops, bankModel, LinOptions{})
			if res.Verdict != c.want {
				t.Fatalf("%v (%s), want %v", res.Verdict, res.Detail, c.want)
			}
			if c.want != NotLinearizable {
				return
			}
			var ids []int
			for _, o := range res.Witness {
				ids = append(ids, o.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(c.witness) {
				t.Errorf("witness %v, want %v", ids, c.witness)
			}
			v := res.Violation()
			if v == nil || !strings.Contains(v.Detail, `op 3: "?a" → "100", 6..7`) {
				t.Errorf("violation %+v", v)
			}
			var html bytes.Buffer
			if err := res.WriteHTML(&html); err != nil || !strings.Contains(html.String(), "<html") {
				t.Errorf("WriteHTML: %v, %d bytes", err, html.Len())
			}
		})
	}
}

// TestCheckModelPorcupine: porcupine's own model, over strings, decides
// as the step function does.
func TestCheckModelPorcupine(t *testing.T) {
	pm := bankModel.porcupine()
	m := &Model{Porcupine: &porcupine.Model{Init: pm.Init, Step: pm.Step}, Read: bankModel.Read}
	ops := []KVOp{{ID: 1, Op: "a,b,10", Call: 1, Return: 3, Write: true}, {ID: 2, Op: "?a", Value: "100", Call: 4, Return: 5}}
	if r := CheckModel(ops, m, LinOptions{}); r.Verdict != NotLinearizable {
		t.Fatalf("%v, want a violation", r.Verdict)
	}
	if err := (&Model{}).Valid(); err == nil {
		t.Error("a model with neither Step nor Porcupine is valid")
	}
}
