package faultlinetest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/casestudies"
	akka "github.com/faultline-dev/faultline/casestudies/raft"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
)

// recorder stands in for the test Fuzz reports to, so that a test can look
// at the failures Fuzz reports without failing itself.
type recorder struct {
	name string

	mu           sync.Mutex
	logs, errors []string
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// workload returns a case study's target and its fuzzing workload.
func workload(t *testing.T, name string) (interpose.Target, fuzz.Options) {
	t.Helper()
	st, err := casestudies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	w := st.Workload
	return st.Target, st.Options(fuzz.Options{Events: w.Events, CheckEvery: w.CheckEvery, CheckFrom: w.CheckFrom})
}

// files lists the names in dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestFindSaveReplay follows one bug through three runs of a test: the
// first finds raft-46's ElectionSafety, minimizes it, saves it with its
// report and fails; the second fails on the saved schedule before fuzzing;
// the third, against the same target fixed, logs the schedule as fixed,
// keeps it, fuzzes and passes.
func TestFindSaveReplay(t *testing.T) {
	target, fo := workload(t, "raft-46")
	dir := filepath.Join(t.TempDir(), "corpus")
	opts := Options{Time: 20 * time.Second, Fuzz: fo, Dir: dir}
	command := "go test -run '^TestFuzzRaft$' ./faultlinetest"

	r := &recorder{name: "TestFuzzRaft"}
	o := run(t, r, target, opts)
	if !o.failed || o.runs == 0 || len(r.errors) != 1 || len(o.saved) != 1 {
		t.Fatalf("first run: %+v\nerrors: %q", o, r.errors)
	}
	saved := o.saved[0]
	md := strings.TrimSuffix(saved, ".json") + ".md"
	if got, want := files(t, dir), []string{"ElectionSafety.json", "ElectionSafety.md"}; !slices.Equal(got, want) {
		t.Errorf("corpus holds %q, want %q", got, want)
	}
	msg := r.errors[0]
	for _, want := range []string{"ElectionSafety: ", "both leaders of term", "schedule: " + saved, "minimized from",
		"report:   " + md, "replay:   " + command} {
		if !strings.Contains(msg, want) {
			t.Errorf("the failure does not say %q:\n%s", want, msg)
		}
	}
	s, err := interpose.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if s.Minimization == nil || len(s.Events) > 40 || s.Origin == nil || s.Origin.Command != command {
		t.Errorf("saved schedule: %d events, minimization %+v, origin %+v", len(s.Events), s.Minimization, s.Origin)
	}
	report, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(report), "```sh\n"+command+"\n```") || !strings.Contains(string(report), "```mermaid") {
		t.Errorf("report: %v\n%s", err, report)
	}

	r = &recorder{name: "TestFuzzRaft"}
	o = run(t, r, target, opts)
	if !o.failed || o.runs != 0 || o.replayed != 1 || len(o.saved) != 0 || len(r.errors) != 1 {
		t.Fatalf("second run: %+v\nerrors: %q", o, r.errors)
	}
	for _, want := range []string{saved + " still shows ElectionSafety (3 of 3 replays)", "report:   " + md, "replay:   " + command} {
		if !strings.Contains(r.errors[0], want) {
			t.Errorf("the corpus failure does not say %q:\n%s", want, r.errors[0])
		}
	}

	fixed := actor.NewTarget("raft-46", "", akka.Program(akka.Correct))
	r = &recorder{name: "TestFuzzRaft"}
	opts.Time = time.Second
	o = run(t, r, fixed, opts)
	if o.failed || o.replayed != 1 || o.runs == 0 || len(r.errors) != 0 {
		t.Fatalf("fixed: %+v\nerrors: %q", o, r.errors)
	}
	if len(r.logs) != 2 || !strings.Contains(r.logs[0], saved+" no longer shows ElectionSafety in 3 replays (fixed?); kept") ||
		!strings.Contains(r.logs[1], "no violation") {
		t.Errorf("logs: %q", r.logs)
	}
	if got := files(t, dir); len(got) != 2 {
		t.Errorf("corpus after the fix: %q", got)
	}
}

// TestCorrectTargetPasses fuzzes the correct actor Raft through the public
// entry point: the test passes and nothing is written.
func TestCorrectTargetPasses(t *testing.T) {
	target, fo := workload(t, "raft")
	dir := filepath.Join(t.TempDir(), "corpus")
	Fuzz(t, target, Options{Time: time.Second, Fuzz: fo, Dir: dir})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the corpus directory was made (%v): %q", err, files(t, dir))
	}
}

// TestDamagedCorpus: files that are not schedules of this target fail the
// test, each with one line naming the file; nothing panics, nothing is
// fuzzed. Other files and schedules without a violation are passed over.
func TestDamagedCorpus(t *testing.T) {
	target, fo := workload(t, "raft-46")
	dir := t.TempDir()
	other, err := casestudies.Minimal("raft-45") // another target's schedule
	if err != nil {
		t.Fatal(err)
	}
	if err := other.WriteFile(filepath.Join(dir, "other.json")); err != nil {
		t.Fatal(err)
	}
	data, err := other.Encode()
	if err != nil {
		t.Fatal(err)
	}
	clean, err := casestudies.Minimal("raft-46")
	if err != nil {
		t.Fatal(err)
	}
	clean.Violation = nil
	if err := clean.WriteFile(filepath.Join(dir, "clean.json")); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"garbage.json":   "{not json",
		"truncated.json": string(data[:len(data)/2]),
		"v3.json":        `{"version": 3, "target": {"name": "raft-46", "nodes": 4}, "events": [], "future": true}`,
		"nodes.json":     `{"version": 1, "target": {"name": "raft-46", "nodes": 0}, "events": []}`,
		"notes.txt":      "not a schedule",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := &recorder{name: "TestFuzzRaft"}
	o := run(t, r, target, Options{Time: 5 * time.Second, Fuzz: fo, Dir: dir})
	if !o.failed || o.runs != 0 || len(r.errors) != 5 {
		t.Fatalf("%+v\nerrors: %q", o, r.errors)
	}
	for i, want := range []string{"garbage.json: damaged schedule", "nodes.json: damaged schedule: target has 0 nodes",
		`other.json: replay: schedule is for target "raft-45", not "raft-46"`, "truncated.json: damaged schedule",
		"v3.json: unsupported schedule version 3"} {
		if msg := r.errors[i]; !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("error %d: %q, want one line with %q", i, msg, want)
		}
	}
	if len(r.logs) != 1 || !strings.Contains(r.logs[0], "clean.json records no violation; skipped") {
		t.Errorf("logs: %q", r.logs)
	}
}

// TestUnminimized: with minimization off, the schedule is saved as found.
func TestUnminimized(t *testing.T) {
	target, fo := workload(t, "raft-46")
	r := &recorder{name: "TestFuzzRaft"}
	o := run(t, r, target, Options{Time: 20 * time.Second, Fuzz: fo, Dir: t.TempDir(), MinimizeBudget: -1})
	if !o.failed || len(o.saved) != 1 || len(r.errors) != 1 || !strings.Contains(r.errors[0], "events; as found in run ") {
		t.Fatalf("%+v\nerrors: %q", o, r.errors)
	}
	s, err := interpose.ReadFile(o.saved[0])
	if err != nil {
		t.Fatal(err)
	}
	if s.Minimization != nil || len(s.Events) < 1000 {
		t.Errorf("saved %d events, minimization %+v", len(s.Events), s.Minimization)
	}
}

// TestSaveOneFilePerFingerprint: a schedule of a fingerprint already saved
// replaces it when it is better (shorter, or steady where the saved one is
// flaky) and is dropped otherwise; the same schedule again keeps its file; a
// violation of another fingerprint whose name is cut the same way gets a
// suffix, and so does a name whose report is left over.
func TestSaveOneFilePerFingerprint(t *testing.T) {
	a, err := casestudies.Minimal("raft-46")
	if err != nil {
		t.Fatal(err)
	}
	cut := func(n int) interpose.Schedule {
		c := *a
		c.Events = a.Events[:n]
		v := *a.Violation
		v.Step = n
		c.Violation = &v
		return c
	}
	shorter := cut(len(a.Events) - 1)
	flakyShort := cut(len(a.Events) - 2)
	flakyShort.Minimization = &interpose.Minimization{Reproduced: 7, Runs: 20, Flaky: true}
	s := &session{dir: filepath.Join(t.TempDir(), "corpus")}
	slug := fuzz.Slug(a.Violation.Fingerprint)
	for i, c := range []struct {
		sched  *interpose.Schedule
		events int // of the file afterwards
	}{
		{a, len(a.Events)},
		{&shorter, len(shorter.Events)},    // shorter: replaces
		{a, len(shorter.Events)},           // longer: dropped
		{&flakyShort, len(shorter.Events)}, // flaky, over a steady one: dropped
	} {
		path, err := s.save(c.sched)
		if err != nil || filepath.Base(path) != slug+".json" {
			t.Fatalf("save %d: %q, %v; want %s.json", i, path, err, slug)
		}
		got, err := interpose.ReadFile(path)
		if err != nil || len(got.Events) != c.events {
			t.Errorf("save %d: the file holds %d events (%v), want %d", i, len(got.Events), err, c.events)
		}
	}
	if got := files(t, s.dir); len(got) != 1 {
		t.Errorf("corpus %q, want one file", got)
	}
	// Two fingerprints that share their first 40 characters share a name.
	long := strings.Repeat("x", 50)
	other := *a
	other.Violation = &interpose.Violation{Invariant: "X", Fingerprint: "X: " + long + " one", Step: 1}
	another := other
	another.Violation = &interpose.Violation{Invariant: "X", Fingerprint: "X: " + long + " two", Step: 1}
	p1, err1 := s.save(&other)
	p2, err2 := s.save(&another)
	if err1 != nil || err2 != nil || p1 == p2 || !strings.HasSuffix(p2, "-2.json") {
		t.Errorf("two fingerprints cut alike: %q (%v), %q (%v)", p1, err1, p2, err2)
	}
	base := fuzz.Slug(other.Violation.Fingerprint)
	third := other
	third.Violation = &interpose.Violation{Invariant: "X", Fingerprint: "X: " + long + " three", Step: 1}
	if err := os.WriteFile(filepath.Join(s.dir, base+"-3.md"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if path, err := s.save(&third); err != nil || filepath.Base(path) != base+"-4.json" {
		t.Errorf("save beside a left-over report: %q, %v", path, err)
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ name, dir, want string }{
		{"TestFuzzBank", "./bank", "go test -run '^TestFuzzBank$' ./bank"},
		{"TestFuzz/n=3", ".", "go test -run '^TestFuzz$/^n=3$' ."},
		{"TestFuzz/it's_(odd)", ".", `go test -run '^TestFuzz$/^it'\''s_\(odd\)$' .`},
	} {
		if got := replayCommand(c.name, c.dir); got != c.want {
			t.Errorf("replayCommand(%q): %s, want %s", c.name, got, c.want)
		}
	}
	if got := corpusDir("TestFuzz/n=3 it's"); got != filepath.Join("testdata", "faultline", "TestFuzz_n_3_it_s") {
		t.Errorf("corpusDir: %q", got)
	}
	if got := packageDir(); got != "./faultlinetest" {
		t.Errorf("packageDir: %q", got)
	}
}

// TestHashicorpRaft runs the whole path on hashicorp/raft with a store that
// forgets the vote at a crash: a violation found, minimized within its
// budget, saved with its report, and failed on again from the corpus.
func TestHashicorpRaft(t *testing.T) {
	st, err := casestudies.Lookup("hraft-forgetful")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts := Options{Time: 20 * time.Second, MinimizeBudget: 6 * time.Second, Dir: dir}
	r := &recorder{name: "TestFuzzForgetful"}
	o := run(t, r, st.Target, opts)
	if !o.failed || len(o.saved) != 1 || len(r.errors) != 1 || !strings.Contains(r.errors[0], "replay:   go test -run '^TestFuzzForgetful$' ./faultlinetest") {
		t.Fatalf("%+v\nerrors: %q", o, r.errors)
	}
	t.Log(r.errors[0])
	if _, err := os.Stat(strings.TrimSuffix(o.saved[0], ".json") + ".md"); err != nil {
		t.Error(err)
	}
	r = &recorder{name: "TestFuzzForgetful"}
	if o := run(t, r, st.Target, opts); !o.failed || o.runs != 0 || len(r.errors) != 1 || !strings.Contains(r.errors[0], " still shows ") {
		t.Fatalf("second run: %+v\nerrors: %q", o, r.errors)
	}
}

// TestRaftPanicIsAFinding: a StableStore whose disk fills up makes raft
// panic in its own goroutine (setCurrentTerm), which in the test's process
// would end the test binary. Fuzz runs in worker processes, so the panic
// ends a worker: the test fails with a NoPanic violation, its schedule
// (ending in the crash) and its report, and the next run of the test fails
// on it again from the corpus, replayed in workers too.
func TestRaftPanicIsAFinding(t *testing.T) {
	st, err := casestudies.Lookup("hraft-fulldisk")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "corpus")
	opts := Options{Time: 20 * time.Second, MinimizeBudget: -1, Dir: dir}
	var saved string
	t.Run("find", func(t *testing.T) {
		r := &recorder{name: "TestFullDisk"}
		o := run(t, r, st.Target, opts)
		if !o.failed || len(o.saved) != 1 || len(r.errors) != 1 {
			t.Fatalf("%+v\nerrors: %q", o, r.errors)
		}
		saved = o.saved[0]
		msg := r.errors[0]
		for _, want := range []string{"faultline: NoPanic: the process crashed: failed to save current term", "schedule: " + saved,
			"report:   " + strings.TrimSuffix(saved, ".json") + ".md", "replay:   go test -run '^TestFullDisk$' ./faultlinetest"} {
			if !strings.Contains(msg, want) {
				t.Errorf("the failure does not say %q:\n%s", want, msg)
			}
		}
		s, err := interpose.ReadFile(saved)
		if err != nil {
			t.Fatal(err)
		}
		if v := s.Violation; v == nil || !v.Crash || v.Invariant != "NoPanic" || !strings.Contains(v.Fingerprint, "(github.com/hashicorp/raft.(*Raft).setCurrentTerm)") {
			t.Errorf("saved violation %+v", s.Violation)
		}
		if _, err := os.Stat(strings.TrimSuffix(saved, ".json") + ".md"); err != nil {
			t.Error(err)
		}
	})
	// A worker re-runs the test up to its Fuzz call: what comes before the
	// call must not depend on another subtest (in a worker, "find" did not
	// run).
	t.Run("corpus", func(t *testing.T) {
		r := &recorder{name: "TestFullDisk"}
		o := run(t, r, st.Target, opts)
		if saved == "" {
			t.Fatal("nothing was found")
		}
		if !o.failed || o.runs != 0 || o.replayed != 1 || len(r.errors) != 1 || !strings.Contains(r.errors[0], saved+" still shows NoPanic") {
			t.Fatalf("%+v\nerrors: %q\nlogs: %q", o, r.errors, r.logs)
		}
	})
}

// TestStuckApplyIsAFinding: a state machine whose Apply blocks for good at
// its fourth command made Fuzz hang with no output until go test's own
// timeout; it is a Liveness:Stuck failure, minimized, saved and reported.
func TestStuckApplyIsAFinding(t *testing.T) {
	st, err := casestudies.Lookup("hraft-stuck-apply")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "corpus")
	r := &recorder{name: "TestStuckApply"}
	o := run(t, r, st.Target, Options{Time: 30 * time.Second, MinimizeBudget: 5 * time.Second, Dir: dir})
	if !o.failed || len(o.saved) != 1 || len(r.errors) != 1 {
		t.Fatalf("%+v\nerrors: %q", o, r.errors)
	}
	if msg := r.errors[0]; !strings.Contains(msg, "faultline: Liveness:Stuck: ") || !strings.Contains(msg, "StuckFSM).Apply [chan receive (durable)]") {
		t.Errorf("the failure does not say where the node is stuck:\n%s", msg)
	}
	s, err := interpose.ReadFile(o.saved[0])
	if err != nil {
		t.Fatal(err)
	}
	if v := s.Violation; v == nil || v.Fingerprint != "Liveness:Stuck: casestudies.(*StuckFSM).Apply" || s.Minimization == nil {
		t.Errorf("saved %+v, minimization %+v", s.Violation, s.Minimization)
	}
}

// TestLivenessFromGoTest: by default, a test's walks end with a
// stabilization phase in the worker processes; a leader that refuses every
// write is a Liveness:Accepts failure, minimized over the events before the
// phase and saved; the next run replays it from the corpus, phase and all.
func TestLivenessFromGoTest(t *testing.T) {
	target, fo := workload(t, "raft-busy-leader")
	fo.Events, fo.CheckEvery, fo.CheckFrom = 300, 0, 0
	dir := filepath.Join(t.TempDir(), "corpus")
	opts := Options{Time: 10 * time.Second, MinimizeBudget: 10 * time.Second, Dir: dir, Fuzz: fo}
	t.Run("find", func(t *testing.T) {
		r := &recorder{name: "TestBusyLeader"}
		o := run(t, r, target, opts)
		if !o.failed || len(o.saved) != 1 || len(r.errors) != 1 || !strings.Contains(r.errors[0], "faultline: Liveness:Accepts: ") {
			t.Fatalf("%+v\nerrors: %q", o, r.errors)
		}
		s, err := interpose.ReadFile(o.saved[0])
		if err != nil {
			t.Fatal(err)
		}
		if !s.Stabilizes() || s.Minimization == nil || s.Minimization.PhaseEvents == 0 {
			t.Errorf("saved schedule: phase %v, minimization %+v", s.Stabilizes(), s.Minimization)
		}
	})
	t.Run("corpus", func(t *testing.T) {
		r := &recorder{name: "TestBusyLeader"}
		o := run(t, r, target, opts)
		if !o.failed || o.runs != 0 || o.replayed != 1 || len(r.errors) != 1 || !strings.Contains(r.errors[0], "still shows Liveness:Accepts") {
			t.Fatalf("%+v\nerrors: %q\nlogs: %q", o, r.errors, r.logs)
		}
	})
}
