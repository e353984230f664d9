package report

import (
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

// TestDrawn: `show` says what a swarm run drew (its length bound and
// weights, in a stable order) and nothing for a run that drew nothing.
func TestDrawn(t *testing.T) {
	for _, c := range []struct {
		o    interpose.Origin
		want string
	}{
		{interpose.Origin{Strategy: "random"}, ""},
		{interpose.Origin{Strategy: "swarm", Events: 3000, Weights: map[string]int{"deliver": 100, "crash": 12}},
			", swarm: up to 3000 events, weights crash=12,deliver=100"},
		{interpose.Origin{Strategy: "swarm", Weights: map[string]int{"drop": 1}}, ", swarm: weights drop=1"},
	} {
		if got := drawn(&c.o); got != c.want {
			t.Errorf("drawn(%+v) = %q, want %q", c.o, got, c.want)
		}
	}
}
