package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// ProfileChunk is a stretch of a profiled campaign's runs: their result
// and a CPU profile of them (runtime/pprof's format).
type ProfileChunk struct {
	Result  *fuzz.Result
	Profile []byte
}

// Profiled is what Workers.Profile measured.
type Profiled struct {
	// Chunks are the stretches of runs profiled whole, in order.
	Chunks []ProfileChunk
	// Lost are the runs during which a worker died (raft panicking in
	// one of its own goroutines): their stretch's profile died with it,
	// and the next worker went on after the run.
	Lost []int
}

// profileChunkRuns is how many runs a worker profiles in one stretch at
// first: what a worker that dies loses at most. A worker that dies before
// it finished one has the next one's halved, down to a run.
const profileChunkRuns = 100

// Profile runs the campaign opts describes under a CPU profile: in worker
// processes when w has a command, each profiling its runs in stretches (100
// runs, halved after a worker that died before it finished one) so that a
// worker that dies loses only the stretch it was in (a fresh worker goes on
// after the run it died in); in this process otherwise, as one stretch.
func (w *Workers) Profile(target interpose.Target, opts fuzz.Options) (*Profiled, error) {
	opts.Progress, opts.KeepGoing, opts.Out = nil, true, ""
	if w.Command == nil {
		if opts.Checker == nil {
			opts.Checker = w.Checker
		}
		c, err := profileRuns(w.T, target, opts)
		if err != nil {
			return nil, err
		}
		return &Profiled{Chunks: []ProfileChunk{c}}, nil
	}
	runs := opts.Runs
	if runs <= 0 {
		runs = 1000
	}
	out := &Profiled{}
	end := opts.FirstRun + runs
	stretch := profileChunkRuns
	for next := opts.FirstRun; next < end; {
		dir, err := newWorkerDir()
		if err != nil {
			return nil, err
		}
		o := opts
		o.FirstRun, o.Runs = next, end-next
		code, stderr, err := w.spawn(dir, Job{Kind: JobProfile, Target: target.Name(), Fuzz: o, Stretch: stretch})
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		chunks, err := readProfileChunks(dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		out.Chunks = append(out.Chunks, chunks...)
		if code == 0 {
			os.RemoveAll(dir)
			break
		}
		_, crashed := parseCrash(stderr)
		run, rerr := readRun(dir)
		os.RemoveAll(dir)
		if !crashed || rerr != nil {
			return nil, fmt.Errorf("measure cost: worker exited with status %d: %s", code, firstLine(stderr))
		}
		out.Lost = append(out.Lost, run)
		next = run + 1
		if len(chunks) == 0 {
			stretch = max(stretch/2, 1)
		}
	}
	return out, nil
}

// profileJob is the worker side of Workers.Profile: the runs in stretches,
// each written as profile-<first run>.pprof and its result beside it.
func profileJob(t *testing.T, target interpose.Target, opts fuzz.Options, dir string, stretch int) error {
	if stretch <= 0 {
		stretch = profileChunkRuns
	}
	pw := &progressWriter{dir: dir}
	end := opts.FirstRun + opts.Runs
	for first := opts.FirstRun; first < end; first += stretch {
		o := opts
		o.FirstRun, o.Runs = first, min(stretch, end-first)
		o.OnRun = func(run int, _ *fuzz.Result) { pw.mark(run) }
		c, err := profileRuns(t, target, o)
		if err != nil {
			return err
		}
		data, err := json.Marshal(c.Result)
		if err != nil {
			return err
		}
		name := "profile-" + strconv.Itoa(first)
		if err := writeAtomic(filepath.Join(dir, name+".json"), data); err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(dir, name+".pprof"), c.Profile); err != nil {
			return err
		}
	}
	return nil
}

// profileRuns runs one stretch under a CPU profile. Its violations are
// counted, not confirmed (their replays would be profiled as walks'
// events).
func profileRuns(t *testing.T, target interpose.Target, opts fuzz.Options) (ProfileChunk, error) {
	opts.Known = func(string) bool { return true }
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return ProfileChunk{}, fmt.Errorf("measure cost: %w", err)
	}
	res, err := fuzz.Run(t, target, opts)
	pprof.StopCPUProfile()
	if err != nil {
		return ProfileChunk{}, err
	}
	return ProfileChunk{Result: res, Profile: buf.Bytes()}, nil
}

// readProfileChunks reads the stretches a worker wrote, in order of their
// first run; a stretch whose profile is missing (the worker died writing
// it) is left out.
func readProfileChunks(dir string) ([]ProfileChunk, error) {
	names, err := filepath.Glob(filepath.Join(dir, "profile-*.json"))
	if err != nil {
		return nil, err
	}
	first := func(name string) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(name), "profile-"), ".json"))
		return n
	}
	sort.Slice(names, func(i, j int) bool { return first(names[i]) < first(names[j]) })
	var out []ProfileChunk
	for _, name := range names {
		prof, err := os.ReadFile(strings.TrimSuffix(name, ".json") + ".pprof")
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var res fuzz.Result
		if err := json.Unmarshal(data, &res); err != nil {
			return nil, fmt.Errorf("measure cost: worker result: %w", err)
		}
		out = append(out, ProfileChunk{Result: &res, Profile: prof})
	}
	return out, nil
}
