package campaign

import (
	"strings"
	"testing"
)

const raftCrash = `panic: failed to save current term: write stable store: no space left on device

goroutine 68 [running, synctest bubble 2]:
github.com/hashicorp/raft.(*Raft).setCurrentTerm(0x29c5f63558c8, 0x4)
	/root/go/pkg/mod/github.com/hashicorp/raft@v1.8.0/raft.go:2167 +0xae
github.com/hashicorp/raft.(*Raft).electSelf(0x29c5f63558c8)
	/root/go/pkg/mod/github.com/hashicorp/raft@v1.8.0/raft.go:2006 +0x55
`

const mapCrash = `fatal error: concurrent map writes

goroutine 12 [running]:
internal/runtime/maps.fatal({0x5e1b2a?, 0x0?})
	/usr/local/go/src/runtime/panic.go:1058 +0x18
runtime.mapassign_faststr(0x0, 0x0, {0x0, 0x0})
	/usr/local/go/src/internal/runtime/maps/runtime_faststr.go:263 +0x3b
example.com/app.(*Store).Put(...)
	/app/store.go:17
`

func TestParseCrash(t *testing.T) {
	cases := []struct {
		name, stderr, fp string
	}{
		{"raft panic", raftCrash,
			"NoPanic: failed to save current term: write stable store: no space left on device (github.com/hashicorp/raft.(*Raft).setCurrentTerm)"},
		{"fatal error", mapCrash, "NoPanic: fatal error: concurrent map writes (example.com/app.(*Store).Put)"},
		{"numbers masked", "panic: index 17 out of range [3]\n\ngoroutine 1 [running]:\nmain.f()\n", "NoPanic: index N out of range [N] (main.f)"},
		{"run error", "faultline: fuzz: run 468: hraft: n3: bubble: deadlock: main bubble goroutine has exited but blocked goroutines remain\n",
			"Fatal: hraft: nN: bubble: deadlock: main bubble goroutine has exited but blocked goroutines remain"},
		{"minimize worker", "faultline: minimize: hraft: n2: bubble: deadlock: main bubble goroutine has exited but blocked goroutines remain\n",
			"Fatal: hraft: nN: bubble: deadlock: main bubble goroutine has exited but blocked goroutines remain"},
		{"other run error", "faultline: fuzz: run 3: actor: bad state\n", "Fatal: actor: bad state"},
		{"deadlock naming goroutines", "faultline: fuzz: run 468: hraft: n3: bubble: deadlock: main bubble goroutine has exited but blocked goroutines remain; blocked in it: github.com/hashicorp/raft.(*Raft).runFSM [chan receive (durable)]\n",
			"Fatal: hraft: nN: bubble: deadlock: main bubble goroutine has exited but blocked goroutines remain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cr, ok := parseCrash(c.stderr)
			if !ok {
				t.Fatal("no crash found")
			}
			v := cr.violation(5)
			if inv, _, _ := strings.Cut(c.fp, ":"); v.Fingerprint != c.fp || !v.Crash || v.Step != 5 || v.Invariant != inv {
				t.Errorf("violation = %+v\nwant fingerprint %q", v, c.fp)
			}
		})
	}
	if _, ok := parseCrash("faultline: unknown flag --x\n"); ok {
		t.Error("an ordinary error was taken for a crash")
	}
}
