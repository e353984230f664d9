package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/casestudies"
	"github.com/faultline-dev/faultline/fuzz"
)

// A campaign worker is `faultline fuzz FLAGS --worker-dir D --serve`: it
// reads one request per line on stdin, runs the range of runs it names and
// answers with one line on stdout. It writes the index of the run in
// progress to D/run before each run, so that when a run kills the process
// the campaign knows which one did. It ends at the end of its input.

// serveRequest asks a worker for the runs [First, First+Count). Known are
// the fingerprints the campaign has recorded: their runs are counted, not
// confirmed or sent.
type serveRequest struct {
	First int      `json:"first"`
	Count int      `json:"count"`
	Known []string `json:"known,omitempty"`
}

// serveReply is what a worker did with a request.
type serveReply struct {
	First    int                `json:"first"`
	Count    int                `json:"count"`
	Runs     int                `json:"runs"`
	Events   int                `json:"events"`
	ElapsedS float64            `json:"elapsed_s"`
	RSSKB    int64              `json:"rss_kb"`
	HeapKB   int64              `json:"heap_kb"`
	RSSNowKB int64              `json:"rss_now_kb"`
	Found    []campaign.Finding `json:"found,omitempty"`
}

func (a *app) serveWorker(study casestudies.Study, opts fuzz.Options, dir string) error {
	opts.Progress, opts.Out, opts.Time, opts.KeepGoing = nil, "", 0, true
	if os.Getenv("GOGC") == "" {
		// A worker's live heap is small (tens of MiB) and its garbage is
		// many short walks: collecting less often buys about a sixth more
		// events/s (measure scaling) for a few more MiB.
		debug.SetGCPercent(400)
	}
	pw := &progressWriter{dir: dir}
	return a.withT(func(t *testing.T) error {
		in := bufio.NewScanner(os.Stdin)
		in.Buffer(make([]byte, 0, 64<<10), 64<<20)
		out := json.NewEncoder(a.stdout)
		known := map[string]bool{}
		for in.Scan() {
			var req serveRequest
			if err := json.Unmarshal(in.Bytes(), &req); err != nil {
				return fmt.Errorf("worker: bad request: %w", err)
			}
			for _, fp := range req.Known {
				known[fp] = true
			}
			o := opts
			o.FirstRun, o.Runs = req.First, req.Count
			o.Known = func(fp string) bool { return known[fp] }
			o.OnRun = func(run int, _ *fuzz.Result) { pw.mark(run) }
			res, err := fuzz.Run(t, study.Target, o)
			if err != nil {
				return err
			}
			now := currentRSS() // before the peak, which it cannot then exceed
			reply := serveReply{First: req.First, Count: req.Count, Runs: res.Runs, Events: res.Events,
				ElapsedS: res.ElapsedS, RSSNowKB: now, RSSKB: peakRSS(), HeapKB: liveHeap()}
			for _, v := range res.Violations {
				f := campaign.Finding{Fingerprint: v.Fingerprint, Invariant: v.Invariant, Detail: v.Detail,
					Run: v.Run, Count: v.Count, Events: v.Events, Flaky: v.Flaky, AfterS: v.AfterS, Strategy: v.Strategy}
				if v.Sched != nil {
					if f.Schedule, err = json.Marshal(v.Sched); err != nil {
						return err
					}
				}
				reply.Found = append(reply.Found, f)
			}
			if err := out.Encode(reply); err != nil {
				return err
			}
		}
		return in.Err()
	})
}

// liveHeap is the heap that survived this process's last collection, in
// KiB (runtime/metrics: no stop of the world).
func liveHeap() int64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(sample[0].Value.Uint64() / 1024)
}

// currentRSS is this process's resident set size now, in KiB (0 where
// /proc/self/statm is missing).
func currentRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize()) / 1024
}

// peakRSS is this process's peak resident set size in KiB (0 where the
// system does not say).
func peakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss
}
