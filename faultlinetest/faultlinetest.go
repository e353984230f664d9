package faultlinetest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/faultline-dev/faultline/minimize"
	"github.com/faultline-dev/faultline/report"
)

// Options configure Fuzz. The zero value replays the corpus in
// testdata/faultline/<test name> three times per schedule, fuzzes for 10
// seconds (2 under -short) with seed 1 and fuzz.Options' defaults, and
// minimizes a violation for at most a minute.
type Options struct {
	// Time bounds the fuzzing (0: 10 s). Under -short the bound is a fifth
	// of it. It decides how many runs there are, not what they do. The
	// corpus's replays and the minimization are not counted.
	Time time.Duration
	// Seed seeds the campaign (0: Fuzz.Seed when that is set, else 1).
	Seed uint64
	// Fuzz is the walk: cluster size, events per run, client payloads,
	// weights, checker. Its Seed is used as Seed says; Time, KeepGoing and
	// Out are set by Fuzz; Runs, if set, bounds the runs too (0: no bound
	// but Time).
	Fuzz fuzz.Options
	// MinimizeBudget bounds the minimization of each violation found (0: one
	// minute; negative: no minimization, the schedule is saved as found).
	MinimizeBudget time.Duration
	// Dir is the corpus directory ("": testdata/faultline/<test name>,
	// relative to the package's directory, the test name's characters other
	// than letters, digits, '-', '_' and '.' made '_').
	Dir string
	// Repeat is how many times each schedule of the corpus is replayed (0:
	// 3); one replay that shows its violation fails the test.
	Repeat int
	// InProcess runs everything in the test's own process instead of worker
	// processes (the test binary, re-executed to run only this test). It
	// starts a little sooner, but a panic in raft's own goroutines then ends
	// the test binary instead of failing the test with its schedule.
	InProcess bool
	// PassOverUpstream passes over the violations that are known bugs of
	// hashicorp/raft itself (invariants.KnownUpstream; for #695, confirmed
	// by a replay without the heartbeat fast path, fuzz.Upstream): they are
	// logged with their issue and fuzzing goes on for the whole Time, so
	// that a correct service's test does not fail because of raft. A saved
	// schedule that still shows one is logged too. Without it they fail the
	// test like any violation, the message naming the issue ("known
	// upstream: hashicorp/raft#695 (...)"). #85 is matched by its panic's
	// fingerprint only: a LogStore of yours that loses entries can panic
	// NewRaft the same way.
	PassOverUpstream bool
}

// Fuzz replays the corpus of schedules saved for this test, then fuzzes
// target for a bounded time; a violation, old or new, fails the test with
// the command that replays it (see the package documentation).
func Fuzz(t *testing.T, target interpose.Target, opts Options) {
	t.Helper()
	if o := run(t, t, target, opts); o.failed {
		t.FailNow()
	}
}

// reporter is the part of testing.TB Fuzz reports through: the test itself,
// or a recorder in this package's tests. Fuzz never calls FailNow through
// it.
type reporter interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
}

// outcome is what one call did.
type outcome struct {
	// replayed counts the corpus's schedules replayed; runs the fuzz runs
	// (0 when the corpus failed and nothing was fuzzed), in elapsed;
	// passed the hits of known upstream bugs passed over (corpus and runs).
	replayed, runs, passed int
	elapsed                time.Duration
	// saved lists the schedules written.
	saved  []string
	failed bool
}

// session is one call of Fuzz with its options resolved.
type session struct {
	r       reporter
	t       *testing.T
	w       *campaign.Workers
	target  interpose.Target
	opts    Options
	dir     string
	command string
	checker func() interpose.Checker
	out     outcome
}

func run(t *testing.T, r reporter, target interpose.Target, opts Options) outcome {
	r.Helper()
	if *workerDir != "" {
		work(t, target, opts) // a worker process: it ends here
	}
	s := &session{r: r, t: t, w: workers(t, opts), target: target, opts: opts, dir: opts.Dir, checker: opts.Fuzz.Checker,
		command: replayCommand(r.Name(), packageDir())}
	if s.dir == "" {
		s.dir = corpusDir(r.Name())
	}
	s.corpus()
	if !s.out.failed {
		s.fuzz()
	}
	return s.out
}

func (s *session) errorf(format string, args ...any) {
	s.r.Helper()
	s.out.failed = true
	s.r.Errorf(format, args...)
}

// corpus replays every schedule in the corpus directory.
func (s *session) corpus() {
	s.r.Helper()
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		s.errorf("faultline: corpus: %v", err)
		return
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			s.replay(filepath.Join(s.dir, e.Name()))
		}
	}
}

// replay replays one schedule of the corpus.
func (s *session) replay(path string) {
	s.r.Helper()
	sched, err := interpose.ReadFile(path)
	if err != nil {
		s.errorf("faultline: %s; fix or delete the file", oneLine(err.Error()))
		return
	}
	v := sched.Violation
	switch {
	case v == nil:
		s.r.Logf("faultline: %s records no violation; skipped", path)
		return
	case v.Crash && s.w.Command == nil:
		s.r.Logf("faultline: %s ended in a crash of the process that ran it; replaying it in the test's process would end it: skipped", path)
		return
	}
	repeat := s.opts.Repeat
	if repeat <= 0 {
		repeat = 3
	}
	var rep *fuzz.ReplayReport
	if v.Crash {
		rep, err = s.w.ReplayCrash(path, sched, repeat)
	} else {
		rep, err = fuzz.Replay(s.t, s.target, sched, fuzz.ReplayOptions{Repeat: repeat, Checker: s.checker})
	}
	if err != nil {
		s.errorf("faultline: %s: %s", path, oneLine(err.Error()))
		return
	}
	s.out.replayed++
	if rep.Reproduced == 0 && flaky(sched) {
		s.r.Logf("faultline: %s showed %s in none of %d replays%s: not a sign of a fix; kept (seen: %s)",
			path, v.Invariant, rep.Runs, flakyNote(sched), seen(rep.Seen))
		return
	}
	if rep.Reproduced == 0 {
		s.r.Logf("faultline: %s no longer shows %s in %d replays (fixed?); kept, delete it once the fix is in (seen: %s)",
			path, v.Invariant, rep.Runs, seen(rep.Seen))
		return
	}
	detail := v.Detail
	if rep.Last != nil {
		if last := rep.Last.Violation; last != nil && last.Fingerprint == v.Fingerprint {
			detail = last.Detail
		}
	}
	known, err := s.upstream(sched)
	if err != nil {
		s.errorf("faultline: %s: %s", path, oneLine(err.Error()))
		return
	}
	if known != nil && s.opts.PassOverUpstream {
		s.out.passed++
		s.r.Logf("faultline: %s still shows %s (%d of %d replays), %s: passed over (PassOverUpstream)",
			path, v.Invariant, rep.Reproduced, rep.Runs, known.Label())
		return
	}
	s.errorf("faultline: %s still shows %s (%d of %d replays)%s: %s%s\n  report:   %s\n  replay:   %s",
		path, v.Invariant, rep.Reproduced, rep.Runs, flakyNote(sched), oneLine(detail), upstreamLine(known), reportOf(path), s.command)
}

// upstream is the known upstream bug (of hashicorp/raft, of etcd's raft
// library) sched's violation is, confirmed by fuzz.Upstream, or nil.
func (s *session) upstream(sched *interpose.Schedule) (*invariants.KnownBug, error) {
	bug, ok, err := fuzz.Upstream(s.t, s.target, sched, fuzz.ReplayOptions{Checker: s.checker})
	if err != nil || !ok {
		return nil, err
	}
	return &bug, nil
}

// upstreamLine is the line a failure gives a known upstream bug ("" for
// none).
func upstreamLine(b *invariants.KnownBug) string {
	if b == nil {
		return ""
	}
	return "\n  " + b.Label() + ": a bug of " + b.Of() + " itself, not of your service; Options.PassOverUpstream passes over it"
}

// fuzz runs the campaign and handles what it found.
func (s *session) fuzz() {
	s.r.Helper()
	fopts := s.opts.Fuzz
	fopts.Seed = s.opts.Seed
	if fopts.Seed == 0 {
		fopts.Seed = s.opts.Fuzz.Seed
	}
	if fopts.Seed == 0 {
		fopts.Seed = 1
	}
	fopts.Time = s.opts.Time
	if fopts.Time <= 0 {
		fopts.Time = 10 * time.Second
	}
	if testing.Short() {
		fopts.Time /= 5
	}
	if fopts.Runs <= 0 {
		fopts.Runs = math.MaxInt
	}
	fopts.KeepGoing, fopts.Out = false, ""
	fopts.PassOverUpstream = s.opts.PassOverUpstream
	fopts.Command = s.command
	res, err := s.w.Fuzz(s.target, fopts)
	if res != nil {
		s.out.runs, s.out.elapsed = res.Runs, res.Elapsed
	}
	if err != nil {
		s.errorf("faultline: fuzzing: %s", oneLine(err.Error()))
	}
	if res == nil {
		return
	}
	for _, p := range res.PassedOver {
		s.out.passed += p.Count
		hits := "hits"
		if p.Count == 1 {
			hits = "hit"
		}
		of := "hashicorp/raft"
		if b, ok := invariants.UpstreamByID(p.Upstream); ok {
			of = b.Of()
		}
		s.r.Logf("faultline: passed over %d %s of %s (%s, first in run %d): a bug of %s itself (PassOverUpstream)",
			p.Count, hits, p.Label, p.Fingerprint, p.Run, of)
	}
	failed := 0
	for _, v := range res.Violations {
		if v.Sched == nil {
			// A fingerprint of Options.Fuzz.Known: counted, no schedule kept.
			s.r.Logf("faultline: %s in %d runs (first in run %d), known to Fuzz.Known: not minimized or saved", v.Fingerprint, v.Count, v.Run)
			continue
		}
		failed++
		s.found(v)
	}
	if failed == 0 && err == nil {
		corpus := ""
		if s.out.replayed > 0 {
			corpus = fmt.Sprintf(", after %d saved schedules replayed", s.out.replayed)
		}
		s.r.Logf("faultline: %d runs, %d events in %.1fs (seed %d)%s: no violation", res.Runs, res.Events, res.ElapsedS, fopts.Seed, corpus)
	}
}

// found minimizes a violation, saves it with its report and fails the test.
func (s *session) found(v fuzz.Found) {
	s.r.Helper()
	sched, how := s.minimize(v)
	path, err := s.save(sched)
	if err != nil {
		s.errorf("faultline: %s: %s\n  the schedule could not be saved: %s", v.Invariant, oneLine(v.Detail), oneLine(err.Error()))
		return
	}
	s.out.saved = append(s.out.saved, path)
	env := report.CurrentEnv()
	env.Replay, env.Model = s.command, invariants.ModelOf(s.target)
	md, err := report.WriteMarkdown(path, env)
	if err != nil {
		md = "not written: " + oneLine(err.Error())
	}
	var known *invariants.KnownBug
	if b, ok := invariants.UpstreamIn(v.Sched); ok && v.Upstream != "" {
		known = &b
	}
	s.errorf("faultline: %s: %s%s\n  schedule: %s (%d events; %s)\n  report:   %s\n  replay:   %s",
		v.Invariant, oneLine(sched.Violation.Detail), upstreamLine(known), path, len(sched.Events), how, md, s.command)
}

// minimize returns the schedule to save for v, minimized when that worked,
// and says how it was made.
func (s *session) minimize(v fuzz.Found) (*interpose.Schedule, string) {
	found := v.Sched
	asFound := fmt.Sprintf("as found in run %d", v.Run)
	budget := s.opts.MinimizeBudget
	switch {
	case v.Flaky:
		return found, asFound + ", flaky: its replays did not show it reliably, so it was not minimized"
	case found.Violation.Crash && s.w.Command == nil:
		return found, asFound + ", not minimized: it crashed the process"
	case budget < 0:
		return found, asFound
	case budget == 0:
		budget = time.Minute
	}
	m, err := s.minimizeIn(found, budget)
	switch {
	case err != nil:
		return found, asFound + ", not minimized: " + oneLine(err.Error())
	case m.Flaky:
		return found, asFound + ", not minimized: it did not reproduce in the minimizer's first replays"
	case m.Schedule == nil || m.Schedule.Violation == nil:
		return found, asFound + ", not minimized: the minimizer returned no violating schedule"
	case m.Reproduced == 0:
		return found, fmt.Sprintf("%s, not minimized: the minimized schedule reproduced in 0 of %d replays", asFound, m.Runs)
	}
	how := fmt.Sprintf("minimized from %d events in %.1fs, reproduced %d of %d", m.InitialEvents, m.ElapsedS, m.Reproduced, m.Runs)
	if m.Minimization.Flaky {
		how += ", FLAKY: it does not show the violation every time"
	}
	if !m.Complete {
		how += ", budget spent"
	}
	return m.Schedule, how
}

// minimizeIn minimizes found within budget, in worker processes when the
// test has them.
func (s *session) minimizeIn(found *interpose.Schedule, budget time.Duration) (*minimize.Result, error) {
	dir, err := campaign.MkdirTemp("faultline-minimize-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "found.json")
	if err := found.WriteFile(in); err != nil {
		return nil, err
	}
	m, _, err := s.w.Minimize(s.target, in, found, campaign.MinimizeJob{Budget: budget, Command: s.command,
		Out: filepath.Join(dir, "minimized.json")})
	return m, err
}

// save writes sched into the corpus as <fingerprint>.json, or with a suffix
// when a different schedule (or a report) already has the name; a file that
// holds the same schedule is kept as it is.
func (s *session) save(sched *interpose.Schedule) (string, error) {
	data, err := sched.Encode()
	if err != nil {
		return "", fmt.Errorf("faultline: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return "", fmt.Errorf("faultline: %w", err)
	}
	base := fuzz.Slug(sched.Violation.Fingerprint)
	if base == "" {
		base = "violation"
	}
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		path := filepath.Join(s.dir, name+".json")
		old, err := os.ReadFile(path)
		switch {
		case err == nil && bytes.Equal(old, data):
			return path, nil
		case err == nil:
			// One file per fingerprint: a schedule of the same violation
			// replaces the one saved when it is better (steady where the
			// other is flaky, or shorter), else the saved one stays.
			kept, rerr := interpose.ReadFile(path)
			if rerr != nil || kept.Violation == nil || kept.Violation.Fingerprint != sched.Violation.Fingerprint {
				continue // another violation whose name is cut the same way
			}
			if better := flaky(kept) && !flaky(sched) || flaky(kept) == flaky(sched) && len(sched.Events) < len(kept.Events); !better {
				return path, nil
			}
			if err := sched.WriteFile(path); err != nil {
				return "", fmt.Errorf("faultline: %w", err)
			}
			return path, nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("faultline: %w", err)
		}
		if _, err := os.Lstat(filepath.Join(s.dir, name+".md")); err == nil {
			continue // the report of a schedule that is gone: left alone
		}
		if err := sched.WriteFile(path); err != nil {
			return "", fmt.Errorf("faultline: %w", err)
		}
		return path, nil
	}
}

// flaky reports whether a saved schedule is marked as reproducing in fewer
// than all of its final replays.
func flaky(s *interpose.Schedule) bool {
	m := s.Minimization
	return m != nil && (m.Flaky || m.Reproduced < m.Runs)
}

// flakyNote says how often a flaky schedule reproduced when it was made.
func flakyNote(s *interpose.Schedule) string {
	if !flaky(s) {
		return ""
	}
	return fmt.Sprintf(" (flaky: it showed the violation in %d of %d replays when it was minimized)",
		s.Minimization.Reproduced, s.Minimization.Runs)
}

// reportOf is the report next to a schedule of the corpus, or a note that
// there is none.
func reportOf(path string) string {
	md := strings.TrimSuffix(path, ".json") + ".md"
	if _, err := os.Stat(md); err != nil {
		return "none (faultline report " + path + " writes one for a built-in target)"
	}
	return md
}

// seen lists the fingerprints replays ended with.
func seen(m map[string]int) string {
	var parts []string
	for fp, n := range m {
		if fp == "" {
			fp = "no violation"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", fp, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// replayCommand is the go test command line that runs the test called name
// (a subtest's parts each anchored) in the package at dir.
func replayCommand(name, dir string) string {
	pattern := strings.ReplaceAll(runPattern(name), "'", `'\''`)
	return fmt.Sprintf("go test -run '%s' %s", pattern, dir)
}

// runPattern is the -run pattern that selects the test called name and
// nothing else: each part of a subtest's name anchored.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// packageDir is the test's working directory (its package's directory)
// relative to the module root, as go test takes it: "./path/to/pkg", or "."
// when the module root is not found.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for root := wd; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "."
		}
		root = parent
	}
}

// corpusDir is the default corpus directory of the test called name.
func corpusDir(name string) string {
	return filepath.Join("testdata", "faultline", sanitize(name))
}

// sanitize makes a test name a directory name.
func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}

// oneLine joins the lines of a message.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
