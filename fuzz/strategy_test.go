package fuzz_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// walkHash is the SHA-256 of the events of one walk.
func walkHash(t *testing.T, name string, opts fuzz.Options, run int) string {
	t.Helper()
	st, err := casestudies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fuzz.Walk(t, st.Target, st.Options(opts), run)
	if err != nil {
		t.Fatal(err)
	}
	// Took (recorded since) is left out, so that the hashes pinned before
	// it existed still pin the walk.
	for i := range s.Events {
		s.Events[i].Took = 0
	}
	data, err := json.Marshal(s.Events)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:8])
}

// TestRandomWalkUnchanged pins the random walk of a few runs: adding
// strategies must not change what a seed explores, or saved campaigns and
// seeds in bug reports would mean something else.
func TestRandomWalkUnchanged(t *testing.T) {
	cases := []struct {
		target string
		run    int
		want   string
	}{
		{"raft-45", 0, "7ae38c7e38169fdb"},
		{"raft-45", 7, "16a9c37eed4bf69c"},
		// Since hraft's specs say reseed=sparse (hraft.ReseedSparse):
		// schedules recorded before replay as they were (their specs
		// do not say it), new walks are these.
		{"hraft-forgetful", 3, "5b226fa30d7e8da9"},
	}
	for _, c := range cases {
		opts := fuzz.Options{Seed: 1, Events: 400, NoLiveness: true} // the walk itself, without a phase
		if got := walkHash(t, c.target, opts, c.run); got != c.want {
			t.Errorf("%s run %d: walk %s, want %s", c.target, c.run, got, c.want)
		}
		opts.Strategy = fuzz.Random
		if got := walkHash(t, c.target, opts, c.run); got != c.want {
			t.Errorf("%s run %d with Strategy %q: walk %s, want %s", c.target, c.run, fuzz.Random, got, c.want)
		}
	}
}

func TestPCTIsDeterministicAndDiffers(t *testing.T) {
	for _, name := range []string{"raft-45", "hraft-forgetful"} {
		opts := fuzz.Options{Seed: 2, Events: 400, Strategy: fuzz.PCT}
		a, b := walkHash(t, name, opts, 5), walkHash(t, name, opts, 5)
		if a != b {
			t.Errorf("%s: PCT run 5 walked %s, then %s", name, a, b)
		}
		if r := walkHash(t, name, fuzz.Options{Seed: 2, Events: 400}, 5); r == a {
			t.Errorf("%s: PCT walked the random walk", name)
		}
		opts.PCTDepth = 10
		if d := walkHash(t, name, opts, 5); d == a {
			t.Errorf("%s: depth 10 walked as depth 3", name)
		}
	}
}

// TestPortfolio: runs take the portfolio's strategies in turn, and a
// finding records the strategy of the run that found it.
func TestPortfolio(t *testing.T) {
	st, err := casestudies.Lookup("raft-45")
	if err != nil {
		t.Fatal(err)
	}
	for run, want := range []string{"random", "pct:3", "pct:10", "random"} {
		p := walkHash(t, "raft-45", fuzz.Options{Seed: 1, Events: 300, Strategy: fuzz.Portfolio}, run)
		o := fuzz.Options{Seed: 1, Events: 300, Strategy: fuzz.PCT}
		switch want {
		case "random":
			o.Strategy = ""
		case "pct:10":
			o.PCTDepth = 10
		}
		if q := walkHash(t, "raft-45", o, run); p != q {
			t.Errorf("portfolio run %d did not walk as %s", run, want)
		}
	}
	res, err := fuzz.Run(t, st.Target, st.Options(fuzz.Options{Seed: 1, Runs: 60, Events: 2000, Strategy: fuzz.Portfolio,
		KeepGoing: true, Confirm: -1}))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		want := []string{"random", "pct:3", "pct:10"}[v.Run%3]
		if v.Strategy != want || v.Sched.Origin.Strategy != want {
			t.Errorf("violation of run %d recorded strategy %q (origin %q), want %q", v.Run, v.Strategy, v.Sched.Origin.Strategy, want)
		}
	}
	if len(res.Violations) == 0 {
		t.Error("no violation in 60 runs of raft-45")
	}
}

func TestUnknownStrategy(t *testing.T) {
	_, err := fuzz.Run(t, target(t, "raft"), fuzz.Options{Runs: 1, Strategy: "dfs"})
	if err == nil || !strings.Contains(err.Error(), `unknown strategy "dfs"`) {
		t.Errorf("err = %v", err)
	}
}

// TestSwarm: a swarm run walks the random walk over its own fault mix and
// length, drawn from the run's seed: the same run walks the same way again,
// runs differ in their mixes (some with a kind of fault off, some with it
// scaled, client operations scaled up) and lengths, and a finding records
// its run's mix and length bound in its origin.
func TestSwarm(t *testing.T) {
	opts := fuzz.Options{Seed: 1, Events: 400, NoLiveness: true, Strategy: fuzz.Swarm}
	if a, b := walkHash(t, "hraft-forgetful", opts, 3), walkHash(t, "hraft-forgetful", opts, 3); a != b {
		t.Errorf("swarm run 3 walked %s, then %s", a, b)
	}
	base := fuzz.DefaultWeights()
	off, scaled, same := 0, 0, 0
	clients, lengths := map[int]bool{}, map[int]bool{}
	for run := range 40 {
		w := fuzz.SwarmWeights(base, fuzz.RunSeed(1, run))
		if w.Deliver != base.Deliver || w.Advance != base.Advance {
			t.Fatalf("run %d: swarm changed deliveries or advances: %+v", run, w)
		}
		if !slices.Contains(fuzz.SwarmClients, w.Client/base.Client) || w.Client%base.Client != 0 {
			t.Fatalf("run %d: client weight %d is not %d times one of %v", run, w.Client, base.Client, fuzz.SwarmClients)
		}
		clients[w.Client] = true
		n := fuzz.RunEvents(fuzz.Options{Seed: 1, Events: 100, Strategy: fuzz.Swarm}, run)
		if n%100 != 0 || !slices.Contains(fuzz.SwarmLengths, n/100) {
			t.Fatalf("run %d: %d events for 100 in the options; want 100 times one of %v", run, n, fuzz.SwarmLengths)
		}
		lengths[n] = true
		if (w.Crash == 0) != (w.Recover == 0) || (w.Partition == 0) != (w.Heal == 0) {
			t.Fatalf("run %d: a crash without its recovery or a partition without its heal: %+v", run, w)
		}
		switch {
		case w.Crash == 0:
			off++
		case w.Crash != base.Crash:
			scaled++
		default:
			same++
		}
		if w.Disk != 0 {
			t.Errorf("run %d: swarm turned on storage faults the base leaves off", run)
		}
	}
	if off == 0 || scaled == 0 || same == 0 {
		t.Errorf("crash weights over 40 runs: %d off, %d scaled, %d as they were; want some of each", off, scaled, same)
	}
	if len(clients) != len(fuzz.SwarmClients) || len(lengths) < len(slices.Compact(slices.Sorted(slices.Values(fuzz.SwarmLengths)))) {
		t.Errorf("over 40 runs: client weights %v, lengths %v; want every factor drawn", clients, lengths)
	}
	if n := fuzz.RunEvents(fuzz.Options{Seed: 1, Events: 100}, 7); n != 100 {
		t.Errorf("a random run's length is %d; want the options' 100", n)
	}
	st, err := casestudies.Lookup("raft-45")
	if err != nil {
		t.Fatal(err)
	}
	res, err := fuzz.Run(t, st.Target, st.Options(fuzz.Options{Seed: 1, Runs: 200, Events: 2000, Strategy: fuzz.Swarm, Confirm: -1}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 {
		t.Fatal("no violation in 200 swarm runs of raft-45")
	}
	v := res.Violations[0]
	want := fuzz.RunMix(st.Options(fuzz.Options{Seed: 1, Strategy: fuzz.Swarm}), v.Run)
	if v.Strategy != fuzz.Swarm || fmt.Sprint(v.Sched.Origin.Weights) != fmt.Sprint(want) || len(want) == 0 {
		t.Errorf("violation of run %d: strategy %q, origin weights %v; want swarm, %v", v.Run, v.Strategy, v.Sched.Origin.Weights, want)
	}
	if n := fuzz.RunEvents(st.Options(fuzz.Options{Seed: 1, Events: 2000, Strategy: fuzz.Swarm}), v.Run); v.Sched.Origin.Events != n || len(v.Sched.Events) > n {
		t.Errorf("violation of run %d: origin's length bound %d, %d events; want %d, at most that", v.Run, v.Sched.Origin.Events, len(v.Sched.Events), n)
	}
}

// TestGuided: a guided campaign is the same every time from the same first
// run; its runs that start from a corpus run say so in their origin, and
// their schedules replay alone.
func TestGuided(t *testing.T) {
	st, a, b := guidedTwice(t, "raft-45", fuzz.Options{Seed: 3, Runs: 80, Events: 2000})
	mutated := 0
	for i, v := range a.Violations {
		if v.Run != b.Violations[i].Run || v.Fingerprint != b.Violations[i].Fingerprint {
			t.Errorf("violation %d: run %d %s, then run %d %s", i, v.Run, v.Fingerprint, b.Violations[i].Run, b.Violations[i].Fingerprint)
		}
		if v.Strategy != fuzz.Guided {
			t.Errorf("violation of run %d recorded strategy %q", v.Run, v.Strategy)
		}
		if v.Sched.Origin.Mutation == "" {
			continue
		}
		mutated++
		rep, err := fuzz.Replay(t, st.Target, v.Sched, fuzz.ReplayOptions{Repeat: 3})
		if err != nil || rep.Reproduced != 3 {
			t.Errorf("run %d (%s): replayed %d/3 (%v)", v.Run, v.Sched.Origin.Mutation, rep.Reproduced, err)
		}
	}
	if mutated == 0 {
		t.Errorf("none of %d violations came from a run that started from the corpus", len(a.Violations))
	}
}

// TestGuidedSteppingStones: a guided campaign that wants one invariant
// starts runs from those that broke another on the way (raft-58b's
// followers append past their log's end, LogMatching, before two state
// machines disagree), says so in their origin, and is the same campaign
// every time.
func TestGuidedSteppingStones(t *testing.T) {
	_, a, _ := guidedTwice(t, "raft-58b", fuzz.Options{Seed: 1, Runs: 60, Events: 400, Want: "StateMachineSafety"})
	stones := 0
	for _, v := range a.Violations {
		if v.Invariant != "StateMachineSafety" {
			t.Errorf("run %d recorded %s; want only StateMachineSafety", v.Run, v.Invariant)
		}
		if strings.Contains(v.Sched.Origin.Mutation, "(past its LogMatching)") {
			stones++
		}
	}
	if stones == 0 {
		t.Fatalf("none of %d violations started past a LogMatching: %+v", len(a.Violations), a.Violations)
	}
}

// guidedTwice runs the same guided campaign (o, with the guided strategy,
// keep-going, safety only, no confirmation) on a study twice, and fails
// unless both ran as many events and found as many violations.
func guidedTwice(t *testing.T, study string, o fuzz.Options) (casestudies.Study, *fuzz.Result, *fuzz.Result) {
	t.Helper()
	st, err := casestudies.Lookup(study)
	if err != nil {
		t.Fatal(err)
	}
	o.Strategy, o.KeepGoing, o.NoLiveness, o.Confirm = fuzz.Guided, true, true, -1
	opts := st.Options(o)
	var res [2]*fuzz.Result
	for i := range res {
		if res[i], err = fuzz.Run(t, st.Target, opts); err != nil {
			t.Fatal(err)
		}
	}
	a, b := res[0], res[1]
	if a.Events != b.Events || len(a.Violations) != len(b.Violations) {
		t.Fatalf("two guided campaigns: %d events, %d violations, then %d, %d", a.Events, len(a.Violations), b.Events, len(b.Violations))
	}
	return st, a, b
}

// TestKeptSchedulesSurviveLaterRuns: the runs after a clean one record
// their fingerprints over its (MsgBlock.Reuse), never over a schedule that
// was kept: each violation's schedule, after the whole session, is still
// the walk of its run.
func TestKeptSchedulesSurviveLaterRuns(t *testing.T) {
	st, err := casestudies.Lookup("raft-45")
	if err != nil {
		t.Fatal(err)
	}
	for _, strategy := range []string{fuzz.Random, fuzz.Guided} {
		opts := st.Options(fuzz.Options{Seed: 2, Runs: 1000, Events: 400, KeepGoing: true, Strategy: strategy})
		res, err := fuzz.Run(t, st.Target, opts)
		if err != nil {
			t.Fatal(err)
		}
		kept := 0
		for _, f := range res.Violations {
			if f.Sched == nil {
				continue
			}
			kept++
			again, err := fuzz.Walk(t, st.Target, opts, f.Run)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(f.Sched.Events)
			b, _ := json.Marshal(again.Events[:len(f.Sched.Events)])
			if !bytes.Equal(a, b) {
				t.Errorf("%s: run %d's kept schedule is not its walk any more", strategy, f.Run)
			}
		}
		if kept == 0 {
			t.Fatalf("%s: no schedule kept (%d violations in %d runs): nothing to check", strategy, len(res.Violations), res.Runs)
		}
	}
}

// checkedTarget opens systems whose summary (interpose.Summarizer) is
// checked, at every event of a walk, against a pass over Pending.
type checkedTarget struct {
	interpose.Target
	t      *testing.T
	checks *int
}

func (c checkedTarget) Open(t *testing.T, spec interpose.TargetSpec) (interpose.System, error) {
	sys, err := c.Target.Open(t, spec)
	if err != nil {
		return nil, err
	}
	if _, ok := sys.(interpose.Summarizer); !ok {
		c.t.Fatalf("%s keeps no summary", c.Name())
	}
	return checkedSystem{System: sys, c: c}, nil
}

type checkedSystem struct {
	interpose.System
	c checkedTarget
}

func (checkedSystem) MarksRepeats() {}

func (s checkedSystem) Summary() *interpose.Summary {
	sum := s.System.(interpose.Summarizer).Summary()
	requests, timers := 0, 0
	var deliver, fire []int
	for i, m := range s.Pending() {
		if m.Request {
			requests++
		}
		if m.Timer {
			timers++
		}
		if m.Deliverable && !m.Repeat {
			if m.Timer {
				fire = append(fire, i)
			} else {
				deliver = append(deliver, i)
			}
		}
	}
	marked := func(b *interpose.Bits) []int {
		var out []int
		for k := 0; b.Select(k) >= 0; k++ {
			out = append(out, b.Select(k))
		}
		return out
	}
	*s.c.checks++
	if sum.Requests != requests || sum.Timers != timers || !slices.Equal(marked(&sum.Deliver), deliver) || !slices.Equal(marked(&sum.Fire), fire) {
		s.c.t.Fatalf("%s: the summary (%d requests, %d timers, deliver %v, fire %v) is not what a scan says (%d, %d, %v, %v)",
			s.c.Name(), sum.Requests, sum.Timers, marked(&sum.Deliver), marked(&sum.Fire), requests, timers, deliver, fire)
	}
	return sum
}

// TestSummariesMatchPending: the actor runtime's and etcd raft's summaries
// of their pending messages say, at every event of walks with every fault
// kind they take, what a pass over the messages says.
func TestSummariesMatchPending(t *testing.T) {
	for _, name := range []string{"raft", "pool", "etcdraft", "etcdraft-async"} {
		st, err := casestudies.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		checks := 0
		tg := checkedTarget{Target: st.Target, t: t, checks: &checks}
		if _, err := fuzz.Run(t, tg, st.Options(fuzz.Options{Seed: 3, Runs: 40, Events: 300, KeepGoing: true, Permanent: true})); err != nil {
			t.Fatal(err)
		}
		if checks < 5000 {
			t.Errorf("%s: only %d summaries checked", name, checks)
		}
	}
}
