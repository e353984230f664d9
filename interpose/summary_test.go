package interpose_test

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

// TestBits: random insertions, removals and sets against a list of bools,
// across word boundaries.
func TestBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var b, c interpose.Bits
	var model, other []bool
	for step := range 20000 {
		switch op := rng.IntN(8); {
		case op < 3 || len(model) == 0:
			i := rng.IntN(len(model) + 1)
			b.Insert(i)
			c.Insert(i)
			model = slices.Insert(model, i, false)
			other = slices.Insert(other, i, false)
		case op < 5 && (step/3000)%2 == 1: // shrinking stretches
			i := rng.IntN(len(model))
			b.Remove(i)
			c.Remove(i)
			model = slices.Delete(model, i, i+1)
			other = slices.Delete(other, i, i+1)
		default:
			i, on := rng.IntN(len(model)), rng.IntN(2) == 0
			if rng.IntN(2) == 0 {
				b.Set(i, on)
				model[i] = on
			} else {
				c.Set(i, on)
				other[i] = on
			}
		}
		var set, either []int
		for i := range model {
			if b.Has(i) != model[i] {
				t.Fatalf("step %d: position %d is %v, want %v", step, i, b.Has(i), model[i])
			}
			if model[i] {
				set = append(set, i)
			}
			if model[i] || other[i] {
				either = append(either, i)
			}
		}
		if b.Count() != len(set) {
			t.Fatalf("step %d: count %d, want %d", step, b.Count(), len(set))
		}
		for k, i := range set {
			if got := b.Select(k); got != i {
				t.Fatalf("step %d: select %d = %d, want %d", step, k, got, i)
			}
		}
		for k, i := range either {
			if got := interpose.SelectEither(&b, &c, k); got != i {
				t.Fatalf("step %d: select either %d = %d, want %d", step, k, got, i)
			}
		}
		if b.Select(len(set)) != -1 {
			t.Fatalf("step %d: select past the end found something", step)
		}
	}
}

// TestSummaryMatchesAScan: the summary an Inflight keeps says what a pass
// over its messages says, through insertions, removals, flags set again
// for every message (as after a partition), and Resets.
func TestSummaryMatchesAScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var f interpose.Inflight[int]
	sum := f.Summarize()
	epoch := 0
	// A fingerprint's flags: its destination and kind decide them, so all
	// messages of one fingerprint share them.
	flags := func(m interpose.Msg) (timer, deliverable bool) {
		timer = m.Type == "Timer"
		return timer, (m.To+epoch)%3 != 0
	}
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case step%997 == 996:
			// Emptied for reuse, it starts over as a new one would.
			f.Reset()
			if len(f.Msgs) != 0 || len(f.Load) != 0 {
				t.Fatalf("step %d: %d messages after Reset", step, len(f.Msgs))
			}
			if seq, _ := f.Insert(interpose.Msg{Type: "A"}, 0, true); seq != 1 {
				t.Fatalf("step %d: the first message after Reset arrived %d-th", step, seq)
			}
			f.SetFlags(0, false, true)
		case op == 0:
			epoch++
			for i := range f.Msgs {
				timer, deliverable := flags(f.Msgs[i].Msg)
				f.SetFlags(i, timer, deliverable)
			}
		case op < 5 && len(f.Msgs) > 0 && !((step/2000)%2 == 0 && op == 4):
			f.RemoveAt(rng.IntN(len(f.Msgs)))
		default:
			typ := []string{"A", "B", "Timer"}[rng.IntN(3)]
			fp := interpose.Msg{Type: typ, From: rng.IntN(3), To: rng.IntN(4), Key: strconv.Itoa(rng.IntN(2))}
			_, at := f.Insert(fp, 0, typ == "A")
			timer, deliverable := flags(fp)
			f.SetFlags(at, timer, deliverable)
		}
		requests, timers := 0, 0
		var deliver, fire []int
		for i, m := range f.Msgs {
			if m.Request {
				requests++
			}
			if m.Timer {
				timers++
			}
			if m.Deliverable && (i == 0 || f.Msgs[i-1].Msg != m.Msg) {
				if m.Timer {
					fire = append(fire, i)
				} else {
					deliver = append(deliver, i)
				}
			}
			if m.Repeat != (i > 0 && f.Msgs[i-1].Msg == m.Msg) {
				t.Fatalf("step %d: message %d's Repeat is %v", step, i, m.Repeat)
			}
		}
		if sum.Requests != requests || sum.Timers != timers {
			t.Fatalf("step %d: summary counts %d requests, %d timers; a scan %d, %d", step, sum.Requests, sum.Timers, requests, timers)
		}
		for _, c := range []struct {
			name string
			b    *interpose.Bits
			want []int
		}{{"deliver", &sum.Deliver, deliver}, {"fire", &sum.Fire, fire}} {
			var got []int
			for k := 0; c.b.Select(k) >= 0; k++ {
				got = append(got, c.b.Select(k))
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("step %d: %s marks %v, a scan %v", step, c.name, got, c.want)
			}
		}
	}
}
