package bisect

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestWrite renders made-up reports, one per way a bisection ends, against
// golden files (go test ./bisect -run TestWrite -args -update rewrites
// them).
func TestWrite(t *testing.T) {
	replay := func(v string, shows bool, note string) Row {
		r := Row{Release: v, Tested: true, Runs: 5, Shows: shows, Note: note, Took: 6.5, Seen: map[string]int{}}
		if shows {
			r.Reproduced, r.Seen["LogMatching"] = 5, 5
		} else {
			r.Seen[""] = 5
		}
		return r
	}
	base := Report{Schedule: "hraft.min.json", Target: "hraft", Fingerprint: "LogMatching", Recorded: "v1.8.0", Mode: "replay", Repeat: 5}
	cameIn := base
	cameIn.Rows = []Row{replay("v1.8.0", true, ""), {Release: "v1.7.3"}, replay("v1.7.0", true, ""),
		replay("v1.6.1", false, "the schedule's 4 pre-vote messages do not exist before v1.7.0"),
		{Release: "v1.6.0", Tested: true, Error: "did not build: go build: exit status 1: undefined: raft.Foo", Took: 3}}
	wentOut := base
	wentOut.Mode, wentOut.Repeat, wentOut.Fuzz = "fuzz", 0, "20s"
	wentOut.Rows = []Row{{Release: "v1.8.0", Tested: true, FuzzRuns: 900, Took: 22},
		{Release: "v1.3.10", Tested: true, Shows: true, FuzzRuns: 40, FoundAfter: 0.31, Took: 7}}
	for _, c := range []struct {
		name string
		rep  Report
	}{{"came-in", cameIn}, {"went-out", wentOut}} {
		t.Run(c.name, func(t *testing.T) {
			rep := c.rep
			var rows []Row
			for i := len(rep.Rows) - 1; i >= 0; i-- {
				rows = append(rows, rep.Rows[i])
			}
			rep.Changes, rep.FirstShows, rep.FirstFixed = changes(rows)
			var buf bytes.Buffer
			if err := Write(&buf, &rep, "faultline bisect "+rep.Schedule); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", c.name+".md")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("Write differs from %s:\n%s", golden, buf.Bytes())
			}
		})
	}
}

func TestCause(t *testing.T) {
	for _, c := range []struct{ stderr, want string }{
		{"faultline: replay: bad file\n", "faultline: replay: bad file"},
		{"fatal error: select on synctest channel from outside bubble\n\ngoroutine 6 [running]:\nmain.f()\n", "fatal error: select on synctest channel from outside bubble"},
		{"panic: boom\n\ngoroutine 1:\ncreated by testing.(*T).Run\n", "panic: boom"},
		{"", ""},
	} {
		if got := cause(c.stderr); got != c.want {
			t.Errorf("cause(%q) = %q, want %q", c.stderr, got, c.want)
		}
	}
}
