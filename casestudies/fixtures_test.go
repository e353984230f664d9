package casestudies

import (
	"cmp"
	"path/filepath"
	"slices"
	"testing"

	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// fixtures are every schedule file committed in the repository, most of
// them written in format version 1 and left so: loading them proves the
// conversion of version 1's Raft fields to facts.
var fixtures = []string{
	"testdata/*.json",
	"testdata/found/*.json",
	"../results/found/*.json",
	"../results/report/*.json",
	"../results/campaign-hraft/*.json",
	"../results/campaign-hraft-forgetful/*.json",
	"../report/testdata/forgetful.json",
	"../cli/testdata/forgetful.json",
}

// settled are fixtures whose recorded violation no longer shows, and why.
var settled = map[string]string{
	"testdata/found/pool-late-allocate-recreates-released.min.json": "a bug of the correct pool manager's deployment mock " +
		"(a late, duplicated Allocate recreated a released deployment), fixed: the service keeps released ids",
	"testdata/found/hraft-serial-stale-entries-below-snapshot.json": "a false positive of LeaderCompleteness, fixed (TestStaleEntriesBelowSnapshotAreNotALog)",
	"../results/found/etcdraft-prevote-Liveness-Commit-snapshot-ignored.min.json": "a bug of the etcd raft adapter (a removed id taken back " +
		"by a change proposed before the removal applied), fixed (interpose/etcdraft TestRemovedIDNotReadded)",
	"testdata/hraft-serial-torn-write-unanswered.json": "a false LostWrite: the hraft adapter took what a torn node answered " +
		"in its copy of the stores as acknowledgements, fixed (TestTornWriteIsNotAcknowledged)",
}

// attempts are fixtures that need more executions than replay's 5 to show
// their violation, and why.
var attempts = map[string]int{
	// raft's VerifyLeader picks between its buffered verifyCh and a closed
	// shutdownCh with Go's select, whose choice is random and outside any
	// seed: each execution hangs with probability 1/2 (2^-20 of missing it
	// in 20).
	"testdata/found/hraft-read-index-verify-after-shutdown-never-returns.json":     20,
	"testdata/found/hraft-read-index-verify-after-shutdown-never-returns.min.json": 20,
	// The stall is judged when the nodes stop: the leader's replication
	// goroutine, waiting on a request to a node that is down, is released by
	// the shutdown and then picks between its closed stopCh and the full
	// triggerDeferErrorCh; taking stopCh leaves the transfer blocked for
	// good. Each execution shows it with probability about 1/2 (9/20 by
	// faultline measure replay): 2^-17 of missing it in 20.
	"testdata/found/hraft-serial-leadership-transfer-leak.json":     20,
	"testdata/found/hraft-serial-leadership-transfer-leak.min.json": 20,
}

// TestFixturesLoadAndReplay reads every committed schedule, whatever its
// format version, checks that each node's final view has facts that render
// (Raft's, converted from version 1 or written by version 2), and replays
// it as `faultline replay` does (up to 5 executions), expecting its
// recorded violation. A schedule that ended in a crash of its process is
// only read: replaying it needs a worker process of the command.
func TestFixturesLoadAndReplay(t *testing.T) {
	var paths []string
	for _, glob := range fixtures {
		m, err := filepath.Glob(glob)
		if err != nil || len(m) == 0 {
			t.Fatalf("%s: no fixtures (%v)", glob, err)
		}
		paths = append(paths, m...)
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			s, err := interpose.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// A schedule journaled up to a crash has no final views.
			crash := s.Violation != nil && s.Violation.Crash
			if s.Version != interpose.Version || len(s.Final) != s.Target.Nodes && !crash {
				t.Fatalf("read as version %d with %d final views for %d nodes", s.Version, len(s.Final), s.Target.Nodes)
			}
			for _, v := range s.Final {
				if v.Started && v.Up && !slices.ContainsFunc(v.List(), func(f interpose.Fact) bool { return f.Name == interpose.FactRole }) {
					t.Errorf("final view %v has no role", v)
				}
			}
			if crash {
				t.Skip("ended in a crash of its process: replayed by the command's workers")
			}
			study, err := Lookup(s.Target.Name)
			if err != nil {
				t.Fatal(err)
			}
			if lib, linked := s.Target.Config["raft"], study.Target.Spec(0, 0).Config["raft"]; lib != linked {
				// Recorded on another release (faultline bisect replays
				// it there): go test ./bisect builds each generation.
				t.Skipf("recorded on %s; this binary links %s", lib, linked)
			}
			rep, err := fuzz.Replay(t, study.Target, s, fuzz.ReplayOptions{Attempts: cmp.Or(attempts[path], 5)})
			if err != nil {
				t.Fatal(err)
			}
			if why, ok := settled[path]; ok {
				if rep.Seen[""] != 1 {
					t.Errorf("replay ended with %v; want no violation (%s)", rep.Seen, why)
				}
				return
			}
			if rep.Reproduced != 1 {
				t.Errorf("replay ended with %v; want %s", rep.Seen, rep.Expected)
			}
		})
	}
}
