package campaign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/faultline-dev/faultline/report"
)

// ViolationDir is where `campaign show` and the background minimizer write a
// violation's files for people to read: DIR/violations/ID.
func ViolationDir(dir, id string) string { return filepath.Join(dir, "violations", id) }

// minimizer minimizes the queued violations one at a time, each in worker
// processes of its own, and stores the results. Once the session stops it
// starts no other (unless it waits for them all: waitAll): the violations
// left stay pending in the store, for the next session.
func (co *coordinator) minimizer() {
	for id := range co.minq {
		if co.isAborted() || co.isStopped() && !co.waitAll() {
			return
		}
		inv := ""
		if vs, err := co.st.Violations(); err == nil {
			if v, n := Match(vs, id); n == 1 {
				inv = v.Invariant
			}
		}
		co.mu.Lock()
		co.minimizing = minimization{id: id, invariant: inv, start: time.Now()}
		co.mu.Unlock()
		o := co.minimize(id)
		co.mu.Lock()
		co.minimizing = minimization{}
		co.mu.Unlock()
		if co.isAborted() {
			return // killed: the violation stays pending for the next session
		}
		co.mu.Lock()
		err := co.st.SetOutcome(id, o)
		if err == nil {
			co.snapshotLocked(true)
		}
		co.mu.Unlock()
		if err != nil {
			fmt.Fprintf(co.stderr, "campaign: %v\n", err)
		}
	}
}

func (co *coordinator) isStopped() bool {
	select {
	case <-co.stopped:
		return true
	default:
		return false
	}
}

// minimize runs one minimization and returns its outcome; the files it
// makes are kept in the violation's directory too.
func (co *coordinator) minimize(id string) Outcome {
	failed := func(err error) Outcome {
		return Outcome{Status: Failed, Note: err.Error()}
	}
	first, err := co.st.Blob(id, BlobFirst)
	if err != nil || first == nil {
		return failed(fmt.Errorf("no schedule stored: %v", err))
	}
	vdir := ViolationDir(co.dir, id)
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return failed(err)
	}
	in := filepath.Join(vdir, "first.json")
	if err := os.WriteFile(in, first, 0o644); err != nil {
		return failed(err)
	}
	s, err := interpose.ReadFile(in)
	if err != nil {
		return failed(err)
	}
	if s.Violation == nil {
		return failed(errors.New("the stored schedule shows no violation"))
	}
	out := filepath.Join(vdir, "minimized.json")
	budget := time.Duration(co.cfg.MinimizeBudgetS * float64(time.Second))
	start := time.Now()
	res, _, err := co.w.Minimize(co.target, in, s, MinimizeJob{Budget: budget, Out: out, Replays: 2,
		Command: co.ro.Program + " minimize " + in})
	if err != nil {
		return failed(fmt.Errorf("minimize: %w", err))
	}
	o := Outcome{Status: Minimized, Events: res.MinimizedEvents, ElapsedS: time.Since(start).Seconds()}
	if res.Flaky {
		o.Status, o.Note = Failed, "the schedule does not replay reliably enough to minimize"
		return o
	}
	if res.Reproduced < res.Runs {
		o.Note = fmt.Sprintf("the minimized schedule reproduced in %d of %d replays", res.Reproduced, res.Runs)
		if res.Reproduced == 0 {
			o.Status = Failed
		}
	}
	if o.Minimized, err = os.ReadFile(out); err != nil {
		return failed(err)
	}
	env := report.CurrentEnv()
	env.Replay, env.Model = co.ro.Program+" replay "+out, invariants.ModelOf(co.target)
	if md, err := report.WriteMarkdown(out, env); err == nil {
		if o.Report, err = os.ReadFile(md); err == nil {
			os.WriteFile(filepath.Join(vdir, "report.md"), o.Report, 0o644)
		}
	}
	return o
}
