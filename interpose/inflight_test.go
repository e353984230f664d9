package interpose_test

import (
	"math/rand/v2"
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
