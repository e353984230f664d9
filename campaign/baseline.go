package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/faultline-dev/faultline/baseline"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// Baseline runs the real-clock baseline (package baseline) on target's
// hashicorp/raft options: in a worker process when w has a command, in this
// process otherwise. A worker that dies (raft panicking in one of its own
// goroutines, as a test process would) is what the baseline's test saw: a
// NoPanic violation at that moment when the run looks for NoPanic, the end
// of the run with nothing found otherwise; Result.Crashed says which panic.
// The Result's CPU is then the worker's whole CPU time.
func (w *Workers) Baseline(target interpose.Target, o baseline.Options) (baseline.Result, error) {
	ht, ok := interpose.Unwrap(target).(*hraft.Target)
	if !ok {
		return baseline.Result{}, fmt.Errorf("baseline: %s is not a hashicorp/raft target", target.Name())
	}
	if w.Command == nil {
		return baseline.Run(context.Background(), ht.Options(), o)
	}
	dir, err := newWorkerDir()
	if err != nil {
		return baseline.Result{}, err
	}
	defer os.RemoveAll(dir)
	cpu0 := baseline.CPUTime()
	start := time.Now()
	code, stderr, err := w.spawn(dir, Job{Kind: JobBaseline, Target: target.Name(), Baseline: &o})
	if err != nil {
		return baseline.Result{}, err
	}
	if data, err := os.ReadFile(filepath.Join(dir, workerResult)); err == nil && code == 0 {
		var r baseline.Result
		if err := json.Unmarshal(data, &r); err != nil {
			return r, fmt.Errorf("baseline: worker result: %w", err)
		}
		return r, nil
	}
	c, ok := parseCrash(stderr)
	if !ok {
		return baseline.Result{}, fmt.Errorf("baseline: worker exited with status %d: %s", code, firstLine(stderr))
	}
	r := baseline.Result{Crashed: c.Message, Wall: time.Since(start), CPU: baseline.CPUTime() - cpu0}
	if o.Invariant == baseline.NoPanic {
		r.Found, r.Invariant, r.Detail = true, baseline.NoPanic, "the process died: panic: "+c.Message
	}
	return r, nil
}

// baselineJob is the worker side of Workers.Baseline.
func baselineJob(target interpose.Target, job Job, dir string) error {
	ht, ok := interpose.Unwrap(target).(*hraft.Target)
	if !ok || job.Baseline == nil {
		return errors.New("worker: a baseline job needs a hashicorp/raft target and its options")
	}
	r, err := baseline.Run(context.Background(), ht.Options(), *job.Baseline)
	if err != nil {
		return err
	}
	return writeResult(dir, r)
}
