package cli

import (
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
)

// TestWeightsChangeTheTargetsOwn: --weights changes the kinds it names in
// the target's own weights (its workload's, else the defaults) and keeps
// the others; without it the options are left to the workload.
func TestWeightsChangeTheTargetsOwn(t *testing.T) {
	c, err := newCatalog(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target, flag string
	}{
		{"pool-no-etag", "client=9,crash=0"}, // a workload with weights of its own
		{"hraft", "client=9,crash=0"},        // none: the defaults
		{"hraft", ""},
	} {
		s, err := c.lookup(tc.target)
		if err != nil {
			t.Fatal(err)
		}
		var opts fuzz.Options
		var wf weightsFlag
		if tc.flag != "" {
			if err := wf.Set(tc.flag); err != nil {
				t.Fatal(err)
			}
		}
		wf.apply(&opts, s.Target)
		if tc.flag == "" {
			if opts.Weights != nil {
				t.Errorf("%s without --weights: weights %+v; want them left to the workload", tc.target, *opts.Weights)
			}
			continue
		}
		want := fuzz.TargetWeights(s.Target)
		want.Client, want.Crash = 9, 0
		if opts.Weights == nil || *opts.Weights != want {
			t.Errorf("%s --weights %s: %+v; want %+v", tc.target, tc.flag, opts.Weights, want)
		}
	}
	if pool, _ := c.lookup("pool-no-etag"); fuzz.TargetWeights(pool.Target) == fuzz.DefaultWeights() {
		t.Errorf("pool-no-etag's weights are the defaults: the test would not tell a workload from none")
	}
}

// TestShellQuote: the command line a result file prints runs again in a
// shell: an empty argument, spaces and quotes survive.
func TestShellQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"--weights", "--weights"},
		{"crash=15,recover=30", "crash=15,recover=30"},
		{"", "''"},
		{"NoPanic: raft.NewRaft panicked", "'NoPanic: raft.NewRaft panicked'"},
		{"it's", `'it'\''s'`},
	} {
		if got := shellQuote(c.in); got != c.want {
			t.Errorf("shellQuote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
