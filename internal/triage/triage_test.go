package triage

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
	"github.com/faultline-dev/faultline/invariants"
)

// logBuf is raft's log of one run, written by every node's goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// Mechanisms, as README's "What it found" names them.
const (
	selfRemoved = "hashicorp/raft#635: a leader removed itself"
	loop697     = "hashicorp/raft#697: InstallSnapshot loop"
	rollback85  = "hashicorp/raft#85: a leader that installed an older snapshot sends it for ever"
	staleLeader = "a candidate keeps a stale leader"
	transfer696 = "hashicorp/raft#696: a leadership transfer never ends"
	compacted   = "a follower refuses entries its snapshot covers"
	untraced    = "untraced"
)

// mechanism names what explains a liveness violation v of schedule s whose
// run logged log.
func mechanism(v *interpose.Violation, s *interpose.Schedule, log string) string {
	snaps := 0
	for _, e := range s.Events {
		if e.Kind == interpose.Deliver && e.Msg != nil && e.Msg.Type == "InstallSnapshot" {
			snaps++
		}
	}
	phase, inProgress := false, 0
	for _, e := range s.Events {
		phase = phase || e.Kind == interpose.Stabilize
		if phase && e.Result == "leadership transfer in progress" {
			inProgress++
		}
	}
	switch {
	case v.Fingerprint == "Liveness:Leader" && invariants.SelfRemovedDeadlock(s.Final):
		return selfRemoved
	case inProgress > 3:
		// Every write, change and transfer of the phase refused for a
		// transfer that never ends.
		return transfer696
	case strings.Count(log, "failed to get log: index") >= 100 &&
		10*strings.Count(log, "appendEntries rejected") < strings.Count(log, "Installed remote snapshot"):
		// The leader cannot read an entry above its own snapshot, and
		// sends the snapshot instead, again and again, with no refusal
		// in between (#697's follower refuses the entries after each).
		return rollback85
	case snaps > 1000, strings.Count(log, "Installed remote snapshot") >= 100:
		return loop697
	case strings.Contains(log, "failed to get log entry"):
		return compacted
	case strings.Count(log, "since we have a leader") > 10:
		return staleLeader
	}
	return untraced
}

// TestTriageFile replays the hraft-serial schedule file TRIAGE_FILE with
// raft's logger on and names the mechanism of its liveness violation.
func TestTriageFile(t *testing.T) {
	path := os.Getenv("TRIAGE_FILE")
	if path == "" {
		t.Skip("an experiment: set TRIAGE_FILE to a schedule of hraft-serial")
	}
	logs := &logBuf{}
	s, err := interpose.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := fuzz.Replay(t, loggedTarget(logs), s, fuzz.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	log := logs.take()
	if rep.Reproduced == 0 || !strings.HasPrefix(rep.Expected, invariants.LivenessPrefix) {
		t.Fatalf("replay ended with %v; want a liveness violation, %s", rep.Seen, rep.Expected)
	}
	fmt.Printf("%s: %s / %s (pre-votes refused \"since we have a leader\": %d)\n", path, rep.Expected,
		mechanism(rep.Last.Schedule.Violation, rep.Last.Schedule, log), strings.Count(log, "since we have a leader"))
	if out := os.Getenv("TRIAGE_OUT"); out != "" {
		// raft's log, for a person to read.
		if err := os.WriteFile(filepath.Join(out, strings.TrimSuffix(filepath.Base(path), ".json")+".log"), []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// loggedTarget is hraft-serial with raft's log of every node going to logs.
// TRIAGE_FAILCALLS=1 walks with hraft.Options.FailCallsToDown.
func loggedTarget(logs *logBuf) interpose.Target {
	return hraft.NewTarget("hraft-serial", "", hraft.Options{SerialHeartbeats: true, FailCallsToDown: os.Getenv("TRIAGE_FAILCALLS") != "",
		Config: func(node int, c *raft.Config) {
			c.Logger = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug, Name: "n" + strconv.Itoa(node)})
		}})
}

func TestTriage(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("TRIAGE_RUNS"))
	if runs <= 0 {
		t.Skip("an experiment: set TRIAGE_RUNS (and TRIAGE_PERMANENT, TRIAGE_DISK) to run it")
	}
	disk, _ := strconv.Atoi(os.Getenv("TRIAGE_DISK"))
	seed, _ := strconv.ParseUint(os.Getenv("TRIAGE_SEED"), 10, 64)
	opts := fuzz.Options{Seed: max(seed, 1), Events: 300, Permanent: os.Getenv("TRIAGE_PERMANENT") != "", Disk: disk,
		Strategy: os.Getenv("TRIAGE_STRATEGY")}
	out, keep := os.Getenv("TRIAGE_OUT"), os.Getenv("TRIAGE_KEEP") != ""
	// command makes the walks again: the kept schedules' origin.
	var command strings.Builder
	for _, k := range []string{"TRIAGE_RUNS", "TRIAGE_SEED", "TRIAGE_STRATEGY", "TRIAGE_PERMANENT", "TRIAGE_DISK", "TRIAGE_SKIP", "TRIAGE_FAILCALLS"} {
		if v := os.Getenv(k); v != "" {
			command.WriteString(k + "=" + v + " ")
		}
	}
	command.WriteString("go test -run Triage -v ./internal/triage")
	logs := &logBuf{}
	tg := loggedTarget(logs)
	found := map[string][]int{}
	torn := map[string]int{} // torn crashes, by the store call they came before
	// Runs whose raft panics in its own goroutine end this process (the
	// command's workers record them as crashes): TRIAGE_SKIP lists them.
	skip := map[int]bool{}
	for _, f := range strings.FieldsFunc(os.Getenv("TRIAGE_SKIP"), func(r rune) bool { return r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("TRIAGE_SKIP: %v", err)
		}
		skip[n] = true
	}
	for run := range runs {
		if skip[run] {
			continue
		}
		fmt.Fprintf(os.Stderr, "run %d\n", run) // names the run a panic ends the process in
		s, err := fuzz.Walk(t, tg, opts, run)
		log := logs.take()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range s.Events {
			if _, after, ok := strings.Cut(e.Result, "crashed just before its "); ok {
				torn[strings.TrimSuffix(after, " (torn)")]++
			}
		}
		v := s.Violation
		if v == nil {
			continue
		}
		key := v.Fingerprint
		if strings.HasPrefix(v.Fingerprint, invariants.LivenessPrefix) && !strings.HasPrefix(v.Fingerprint, interpose.Stuck) {
			m := mechanism(v, s, log)
			key += " / " + m
			// What a user's command prints beside it, told apart from the
			// log here: the two should agree.
			if b, ok := invariants.UpstreamIn(s); ok {
				key += " (labelled " + b.ID + ")"
			}
			if out != "" && (m == untraced || keep) {
				s.Origin = fuzz.RunOrigin(opts, run, "")
				s.Origin.Command = command.String()
				base := filepath.Join(out, fmt.Sprintf("run%d", run))
				if err := s.WriteFile(base + ".json"); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(base+".log", []byte(log), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		found[key] = append(found[key], run)
	}
	fmt.Printf("hraft-serial, seed %d, strategy %q, runs 0..%d, permanent %v, disk %d\n", opts.Seed, opts.Strategy, runs-1, opts.Permanent, opts.Disk)
	for _, k := range slices.Sorted(maps.Keys(found)) {
		rs := found[k]
		fmt.Printf("%-90s %4d runs", k, len(rs))
		if len(rs) <= 12 {
			fmt.Printf(": %v", rs)
		}
		fmt.Println()
	}
	if len(torn) > 0 {
		fmt.Print("torn crashes, by the store call they came before:")
		for _, k := range slices.Sorted(maps.Keys(torn)) {
			fmt.Printf(" %s %d", k, torn[k])
		}
		fmt.Println()
	}
}
