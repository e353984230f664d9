package bisect

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// ErrInput is wrapped by the errors of bad input: a release that does not
// exist, a range in the wrong order, a schedule that is not of a
// hashicorp/raft target or shows no violation.
var ErrInput = errors.New("bad input")

// Options configures Run. The zero value bisects every release from v1.1.0
// with 5 replays each, building ./cmd/faultline of the module of the
// current directory.
type Options struct {
	// Module is the directory of the Go module whose main package is built
	// ("": the module of the current directory).
	Module string
	// Main is the main package to build, as go build takes it, relative
	// to Module ("": ./cmd/faultline). It must run faultline's command line
	// (cli.Main) with the schedule's target.
	Main string
	// Releases is the range to test (zero: every release from v1.1.0).
	Releases Range
	// All tests every release of the range instead of bisecting.
	All bool
	// Repeat is the number of replays on each release (0: 5).
	Repeat int
	// Fuzz, when positive, fuzzes each release for this long on the
	// schedule's target, looking for the schedule's fingerprint, instead
	// of replaying the schedule.
	Fuzz time.Duration
	// Seed is the fuzzer's seed with Fuzz (0: 1).
	Seed uint64
	// Go is the go command ("": go).
	Go string
	// WorkDir holds the module files and binaries ("": a temporary
	// directory, removed when Run returns).
	WorkDir string
	// Progress, when not nil, receives a line as each release is built
	// and tested.
	Progress io.Writer
}

// Row is one release's answer.
type Row struct {
	Release string `json:"release"`
	// Tag is the build tag of the release's API generation.
	Tag string `json:"tag,omitempty"`
	// Tested is false for a release the search did not need.
	Tested bool `json:"tested"`
	// Error says why the release could not be fetched, built or run.
	Error string `json:"error,omitempty"`
	// Note says what of the schedule the release cannot carry out.
	Note string `json:"note,omitempty"`
	// Shows is whether the release showed the violation.
	Shows bool `json:"shows"`
	// Runs and Reproduced count the replays and those that showed the
	// violation; Seen counts the fingerprints they ended with ("" for
	// none).
	Runs       int            `json:"runs,omitempty"`
	Reproduced int            `json:"reproduced,omitempty"`
	Seen       map[string]int `json:"seen,omitempty"`
	// Skipped and Wildcards are the last replay's events that found
	// nothing to act on, and its deliveries matched by type only; ByType
	// is whether the answer is the wildcard replay's (the exact one showed
	// less).
	Skipped   int  `json:"skipped,omitempty"`
	Wildcards int  `json:"wildcards,omitempty"`
	ByType    bool `json:"by_type,omitempty"`
	// FuzzRuns is the number of runs the fuzzer made, FoundAfter the time
	// it took to find the violation (Options.Fuzz).
	FuzzRuns   int     `json:"fuzz_runs,omitempty"`
	FoundAfter float64 `json:"found_after_s,omitempty"`
	// Took is the time the release took, build included.
	Took float64 `json:"took_s"`
}

// ok reports whether the row has an answer.
func (r *Row) ok() bool { return r.Tested && r.Error == "" }

// Report is Run's answer.
type Report struct {
	Schedule    string `json:"schedule"`
	Target      string `json:"target"`
	Fingerprint string `json:"fingerprint"`
	// Recorded is the release the schedule was recorded on.
	Recorded string `json:"recorded_on,omitempty"`
	Mode     string `json:"mode"` // "replay" or "fuzz"
	Repeat   int    `json:"repeat,omitempty"`
	Fuzz     string `json:"fuzz,omitempty"`
	// Rows has a row for each release of the range, newest first.
	Rows []Row `json:"rows"`
	// Changes lists each pair of neighbouring tested releases whose
	// answers differ, oldest first.
	Changes []Change `json:"changes"`
	// FirstShows is the oldest release of the newest run of tested
	// releases that show the violation (the release that brought it in,
	// when the one tested before it does not show it); FirstFixed is the
	// tested release just after that run, which does not (the release that
	// took it out). Either is "" when there is none.
	FirstShows string `json:"first_shows,omitempty"`
	FirstFixed string `json:"first_fixed,omitempty"`
}

// Change is a pair of neighbouring tested releases whose answers differ.
type Change struct {
	// Before is the older release, After the newer.
	Before, After string
	// CameIn is true when After shows the violation and Before does not.
	CameIn bool
}

// Run bisects the schedule file at path across the releases of
// opts.Releases.
func Run(ctx context.Context, path string, opts Options) (*Report, error) {
	s, err := interpose.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	if lib := s.Target.Config["raft"]; !strings.HasPrefix(lib, "hashicorp/raft") {
		return nil, fmt.Errorf("%w: %s is a schedule of %s, which does not run hashicorp/raft", ErrInput, path, s.Target.Name)
	}
	if s.Violation == nil || s.Violation.Fingerprint == "" {
		return nil, fmt.Errorf("%w: %s records no violation to look for", ErrInput, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	b, cleanup, err := newBuilder(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	versions, err := b.releases(ctx, opts.Releases)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("%w: no hashicorp/raft release in %s", ErrInput, opts.Releases)
	}
	rep := &Report{
		Schedule:    path,
		Target:      s.Target.Name,
		Fingerprint: s.Violation.Fingerprint,
		Recorded:    strings.TrimSpace(strings.TrimPrefix(s.Target.Config["raft"], "hashicorp/raft")),
		Mode:        "replay",
		Repeat:      max(cmp.Or(opts.Repeat, 5), 1),
	}
	if opts.Fuzz > 0 {
		rep.Mode, rep.Repeat, rep.Fuzz = "fuzz", 0, opts.Fuzz.String()
	}
	rows := make([]Row, len(versions)) // oldest first, until the report
	prevotes := 0
	for _, ev := range s.Events {
		if ev.Msg != nil && strings.HasPrefix(ev.Msg.Type, "RequestPreVote") {
			prevotes++
		}
	}
	for i, v := range versions {
		rows[i].Release = v
		g, err := hraft.GenerationOf(v)
		if err != nil {
			continue
		}
		rows[i].Tag = g.Tag
		if !g.PreVote && prevotes > 0 && rep.Mode == "replay" {
			rows[i].Note = fmt.Sprintf("the schedule's %d pre-vote messages do not exist before v1.7.0", prevotes)
		}
	}
	t := &tester{b: b, opts: opts, schedule: abs, sched: s, rep: rep, rows: rows}
	if err := t.search(ctx); err != nil {
		return nil, err
	}
	rep.Changes, rep.FirstShows, rep.FirstFixed = changes(rows)
	for i := len(rows) - 1; i >= 0; i-- {
		rep.Rows = append(rep.Rows, rows[i])
	}
	return rep, nil
}

// newBuilder finds the module to build and the directory to build in.
func newBuilder(ctx context.Context, opts Options) (*builder, func(), error) {
	b := &builder{goBin: opts.Go, module: opts.Module, main: opts.Main, work: opts.WorkDir}
	if b.goBin == "" {
		b.goBin = "go"
	}
	if b.main == "" {
		b.main = "./cmd/faultline"
	}
	if b.module == "" {
		out, err := b.goCmd(ctx, "env", "GOMOD")
		gomod := strings.TrimSpace(string(out))
		if err != nil || gomod == "" || gomod == os.DevNull {
			return nil, nil, fmt.Errorf("%w: bisect builds %s of a Go module against each release: run it in that module's directory (or name it with --module DIR)", ErrInput, b.main)
		}
		b.module = filepath.Dir(gomod)
	}
	if _, err := os.Stat(filepath.Join(b.module, "go.mod")); err != nil {
		return nil, nil, fmt.Errorf("%w: %s is not a Go module's directory: %w", ErrInput, b.module, err)
	}
	cleanup := func() {}
	if b.work == "" {
		dir, err := os.MkdirTemp("", "faultline-bisect-")
		if err != nil {
			return nil, nil, err
		}
		b.work = dir
		cleanup = func() { os.RemoveAll(dir) }
	}
	return b, cleanup, nil
}

// tester tests releases and keeps their rows.
type tester struct {
	b        *builder
	opts     Options
	schedule string // absolute path
	sched    *interpose.Schedule
	rep      *Report
	rows     []Row // oldest first
	done     int
	// probe answers for one release (nil: build it and run the schedule).
	probe func(ctx context.Context, row *Row) error
}

// search tests the newest and the oldest release, then bisects each span
// whose ends differ (or tests every release with All).
func (t *tester) search(ctx context.Context) error {
	n := len(t.rows)
	if t.opts.All {
		for i := n - 1; i >= 0; i-- {
			if err := t.test(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	hi, err := t.answered(ctx, n-1, -1, -1)
	if err != nil || hi < 0 {
		return err
	}
	lo, err := t.answered(ctx, 0, 1, hi)
	if err != nil || lo < 0 {
		return err
	}
	// Invariant: rows lo and hi are answered and differ, or the search is
	// over.
	for t.rows[lo].Shows != t.rows[hi].Shows {
		mid := (lo + hi) / 2
		if mid == lo {
			return nil
		}
		// The nearest release to mid that can be answered, within the span.
		m, err := t.answered(ctx, mid, -1, lo)
		if err != nil {
			return err
		}
		if m < 0 {
			if m, err = t.answered(ctx, mid+1, 1, hi); err != nil || m < 0 {
				return err
			}
		}
		if t.rows[m].Shows == t.rows[lo].Shows {
			lo = m
		} else {
			hi = m
		}
	}
	return nil
}

// answered tests releases from i in steps of step, stopping before stop,
// until one has an answer, and returns its index (-1 for none).
func (t *tester) answered(ctx context.Context, i, step, stop int) (int, error) {
	for ; i != stop && i >= 0 && i < len(t.rows); i += step {
		if !t.rows[i].Tested {
			if err := t.test(ctx, i); err != nil {
				return -1, err
			}
		}
		if t.rows[i].ok() {
			return i, nil
		}
	}
	return -1, nil
}

// test builds and tests release i. Only a cancelled context is an error:
// whatever else goes wrong is the row's Error.
func (t *tester) test(ctx context.Context, i int) error {
	row := &t.rows[i]
	row.Tested = true
	start := time.Now()
	t.done++
	t.progress("%s (%d tested): building", row.Release, t.done)
	probe := t.probe
	if probe == nil {
		probe = t.buildAndRun
	}
	err := probe(ctx, row)
	row.Took = time.Since(start).Seconds()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		row.Error = err.Error()
		t.progress("%s: %s", row.Release, row.Error)
		return nil
	}
	t.progress("%s: %s (%.1fs)", row.Release, Verdict(*row, t.rep), row.Took)
	return nil
}

// buildAndRun builds the release and runs the schedule on it.
func (t *tester) buildAndRun(ctx context.Context, row *Row) error {
	bin, err := t.b.build(ctx, row.Release)
	if err != nil {
		return err
	}
	if t.opts.Fuzz > 0 {
		t.progress("%s: fuzzing %s for %s", row.Release, t.sched.Target.Name, t.opts.Fuzz)
		return t.fuzz(ctx, bin, row)
	}
	t.progress("%s: replaying %d times", row.Release, t.rep.Repeat)
	return t.replay(ctx, bin, row)
}

func (t *tester) progress(format string, args ...any) {
	if t.opts.Progress != nil {
		fmt.Fprintf(t.opts.Progress, "bisect: "+format+"\n", args...)
	}
}

// replay replays the schedule Repeat times as `replay` does (each
// delivery matched by its whole fingerprint, a schedule with storage faults
// timed), and, unless every replay showed the violation, Repeat times more
// with `--wildcard` (a delivery matched by type where the release's message
// carries other values); the row has the better of the two.
func (t *tester) replay(ctx context.Context, bin string, row *Row) error {
	for _, wildcard := range []bool{false, true} {
		args := []string{"replay", t.schedule, "--json", "--repeat", strconv.Itoa(t.rep.Repeat)}
		if wildcard {
			args = append(args, "--wildcard")
		}
		out, err := t.run(ctx, bin, args...)
		if err != nil {
			return err
		}
		var r fuzz.ReplayReport // what `replay --json` prints
		if err := json.Unmarshal(out, &r); err != nil {
			return fmt.Errorf("reading the replay's report: %w", err)
		}
		if !wildcard || r.Reproduced > row.Reproduced {
			row.Runs, row.Reproduced, row.Seen = r.Runs, r.Reproduced, r.Seen
			row.Skipped, row.Wildcards, row.ByType = r.Skipped, r.Wildcards, wildcard
		}
		if row.Reproduced == row.Runs {
			break
		}
	}
	row.Shows = row.Reproduced > 0
	if !row.Shows && row.Skipped > 0 && row.Note == "" {
		row.Note = fmt.Sprintf("the schedule did not carry over: %d of its %d events found nothing to act on", row.Skipped, len(t.sched.Events))
	}
	return nil
}

// fuzz runs `fuzz --want FINGERPRINT --json` for Options.Fuzz and reads
// whether it found the violation.
func (t *tester) fuzz(ctx context.Context, bin string, row *Row) error {
	out, err := t.run(ctx, bin, "fuzz", "--target", t.sched.Target.Name, "--nodes", strconv.Itoa(t.sched.Target.Nodes),
		"--want", t.rep.Fingerprint, "--time", t.opts.Fuzz.String(), "--seed", strconv.FormatUint(cmp.Or(t.opts.Seed, 1), 10),
		"--json", "--out", filepath.Join(filepath.Dir(bin), "found"))
	if err != nil {
		return err
	}
	var r fuzz.Result // what `fuzz --json` prints, embedded
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("reading the fuzzer's report: %w", err)
	}
	row.FuzzRuns = r.Runs
	for _, v := range r.Violations {
		if v.Fingerprint == t.rep.Fingerprint {
			row.Shows, row.FoundAfter = true, v.AfterS
			break
		}
	}
	return nil
}

// run runs the built command; its exit status 1 (a finding) is an answer,
// anything else that is not 0 an error with its last words.
func (t *tester) run(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Dir(bin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 1 {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), args[0], err, cause(stderr.String()))
	}
	return out, nil
}

// cause is what a failed command's stderr says went wrong: the line of a
// panic or fatal error when there is one (not the trace after it), else
// its last line.
func cause(stderr string) string {
	for l := range strings.SplitSeq(stderr, "\n") {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return strings.TrimSpace(l)
		}
	}
	return lastLines(stderr, 1)
}

// Verdict is a tested row's answer in words.
func Verdict(r Row, rep *Report) string {
	switch {
	case !r.Tested:
		return "not tested"
	case r.Error != "":
		return r.Error
	case rep.Mode == "fuzz" && r.Shows:
		return fmt.Sprintf("found after %.2fs (%d runs)", r.FoundAfter, r.FuzzRuns)
	case rep.Mode == "fuzz":
		return fmt.Sprintf("not found in %s (%d runs)", rep.Fuzz, r.FuzzRuns)
	}
	s := fmt.Sprintf("reproduced %d/%d", r.Reproduced, r.Runs)
	if r.ByType && r.Reproduced > 0 {
		s += " by type"
	}
	var other []string
	for fp, n := range r.Seen {
		if fp == rep.Fingerprint {
			continue
		}
		if fp == "" {
			fp = "no violation"
		}
		other = append(other, fmt.Sprintf("%s %d", fp, n))
	}
	if len(other) > 0 {
		slices.Sort(other)
		s += " (" + strings.Join(other, ", ") + ")"
	}
	return s
}

// changes finds where neighbouring answered rows (oldest first) differ.
func changes(rows []Row) (out []Change, firstShows, firstFixed string) {
	prev := -1
	for i := range rows {
		if !rows[i].ok() {
			continue
		}
		if prev >= 0 && rows[prev].Shows != rows[i].Shows {
			out = append(out, Change{Before: rows[prev].Release, After: rows[i].Release, CameIn: rows[i].Shows})
		}
		prev = i
	}
	// The newest run of releases that show it, and the release after it.
	for i := len(rows) - 1; i >= 0; i-- {
		switch {
		case !rows[i].ok():
		case !rows[i].Shows && firstShows == "":
			firstFixed = rows[i].Release
		case !rows[i].Shows:
			return out, firstShows, firstFixed
		default:
			firstShows = rows[i].Release
		}
	}
	if firstShows == "" {
		firstFixed = ""
	}
	return out, firstShows, firstFixed
}
