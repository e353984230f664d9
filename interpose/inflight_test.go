package interpose_test

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

// TestInflightMarksRepeats puts messages of a few fingerprints in flight
// and takes them out in a random order: after each step, Repeat marks
// exactly the messages whose fingerprint is that of the one before them,
// and FindAt, hinted at any position, answers what Find answers.
func TestInflightMarksRepeats(t *testing.T) {
	fps := []interpose.Msg{
		{Type: "AppendEntries", From: 1, To: 2, Key: "term=1"},
		{Type: "AppendEntries", From: 1, To: 2, Key: "term=2"},
		{Type: "AppendEntries", From: 1, To: 3, Key: "term=1"},
		{Type: "RequestVote", From: 2, To: 1, Key: "term=2"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var f interpose.Inflight[int]
	check := func(step int) {
		t.Helper()
		for i, m := range f.Msgs {
			if want := i > 0 && f.Msgs[i-1].Msg == m.Msg; m.Repeat != want {
				t.Fatalf("step %d: message %d (%v) Repeat = %v, want %v", step, i, m.Msg, m.Repeat, want)
			}
		}
		for _, fp := range fps {
			want := f.Find(&fp)
			for at := 0; at <= len(f.Msgs)+1; at++ {
				if got := f.FindAt(&fp, at); got != want {
					t.Fatalf("step %d: FindAt(%v, %d) = %d, Find = %d", step, fp, at, got, want)
				}
			}
		}
	}
	for step := range 2000 {
		if len(f.Msgs) > 0 && rng.IntN(2) == 0 {
			f.RemoveAt(rng.IntN(len(f.Msgs)))
		} else {
			f.Insert(fps[rng.IntN(len(fps))], step, true)
		}
		check(step)
	}
}

// TestInflightKeepsOrder: through random insertions and removals (at the
// front, the back and between), Msgs and Load are the canonical order of
// the messages in flight, each with its own payload, as a plain sorted
// slice keeps them.
func TestInflightKeepsOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var f interpose.Inflight[uint64]
	var model []interpose.Message
	for step := range 5000 {
		// Long stretches of growth and of shrinking, so that both ends
		// fill up and empty out.
		removeOdds := 1 // in 4
		if (step/500)%2 == 1 {
			removeOdds = 3
		}
		if len(f.Msgs) > 0 && rng.IntN(4) < removeOdds {
			i := rng.IntN(len(f.Msgs))
			f.RemoveAt(i)
			model = slices.Delete(model, i, i+1)
		} else {
			fp := interpose.Msg{Type: "T", From: rng.IntN(3), To: rng.IntN(3), Key: strconv.Itoa(rng.IntN(4))}
			seq, at := f.Insert(fp, 0, true)
			f.Load[at] = seq // the payload names its message
			m := interpose.Message{Seq: seq, Msg: fp, Request: true}
			i, _ := slices.BinarySearchFunc(model, m, func(a, b interpose.Message) int { return interpose.CompareMessages(&a, &b) })
			if i != at {
				t.Fatalf("step %d: inserted at %d, want %d", step, at, i)
			}
			model = slices.Insert(model, i, m)
		}
		if len(f.Msgs) != len(model) || len(f.Load) != len(model) {
			t.Fatalf("step %d: %d messages, %d payloads, want %d", step, len(f.Msgs), len(f.Load), len(model))
		}
		for i := range model {
			got := f.Msgs[i]
			got.Repeat = false
			if got != model[i] || f.Load[i] != model[i].Seq {
				t.Fatalf("step %d: message %d is %+v with payload %d, want %+v", step, i, f.Msgs[i], f.Load[i], model[i])
			}
		}
	}
}
