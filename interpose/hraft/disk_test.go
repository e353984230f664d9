package hraft

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/interpose"
)

// TestDiskFaults: a failed log write fails the leader's write and costs it
// its leadership, as raft answers a log store error; a stall holds a
// store call for its virtual time, so that a write through a leader whose
// disk stalls stays pending until time passes for it; a heal with nothing
// to heal, or a fault on a node never started, is not enabled.
func TestDiskFaults(t *testing.T) {
	h := newHarness(t, 3, Options{})
	h.elect(1)
	h.write(1, "a=1")

	h.must(interpose.Event{Kind: interpose.Disk, Node: 1, Op: interpose.DiskFail})
	if res := h.must(interpose.Event{Kind: interpose.Client, Node: 1, Data: "b=2"}); !strings.Contains(res, "disk fault (injected)") {
		t.Errorf("a write on a failing disk: %q", res)
	}
	h.settle()
	if h.role(1) == "leader" {
		t.Error("n1 still leads after its log store failed a write")
	}
	if _, err := h.apply(interpose.Event{Kind: interpose.Disk, Node: 1, Op: interpose.DiskHeal}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("heal of a disk whose fault was spent: %v", err)
	}

	h2 := newHarness(t, 3, Options{})
	h2.elect(2)
	h2.must(interpose.Event{Kind: interpose.Disk, Node: 2, Op: interpose.DiskStall, Took: 3 * time.Second})
	if res := h2.must(interpose.Event{Kind: interpose.Client, Node: 2, Data: "c=3"}); res != "pending" {
		t.Fatalf("a write through a stalled disk: %q, want pending", res)
	}
	h2.settle()
	if len(h2.obs.Completions) != 0 {
		t.Fatalf("the write completed while the disk stalled: %+v", h2.obs.Completions)
	}
	for i := 0; i < 200 && len(h2.obs.Completions) == 0; i++ {
		h2.must(interpose.Event{Kind: interpose.Advance, Node: 2})
		h2.settle()
	}
	if c := h2.obs.Completions; len(c) != 1 || !strings.HasPrefix(c[0].Result, "index ") {
		t.Errorf("after time passed: completions %+v, want the write's index", c)
	}
	if _, err := h2.apply(interpose.Event{Kind: interpose.Disk, Node: 2, Op: interpose.DiskHeal}); !errors.Is(err, interpose.ErrNotEnabled) {
		t.Errorf("heal after the stall was spent: %v", err)
	}
}
