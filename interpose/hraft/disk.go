package hraft

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/faultline-dev/faultline/interpose"
)

// ErrDiskFault is what a log store write returns when a Disk fail event
// armed it.
var ErrDiskFault = errors.New("faultline: disk fault (injected)")

// disk is the state of a node's storage faults (interpose.Disk events). The
// controller sets it between events; raft's goroutines read it in the store
// wrappers. It outlives crashes: it is the node's disk.
type disk struct {
	stall atomic.Int64 // the next call sleeps this long (ns), once
	slow  atomic.Int64 // every call sleeps this long (ns)
	fail  atomic.Bool  // the next log write fails, once
	tear  atomic.Int32 // the node dies just before its tear-th write from now (0: none)
	// asleep counts the calls asleep on the disk now.
	asleep atomic.Int32
	// abort is closed when the node's raft stops (made in its bubble at
	// each start): a call asleep on the disk returns at once, as the crash
	// of a real process ends it. Without it, the fake clock could not end
	// the sleep: raft's leadership transfer spins while its transport is
	// closed, and a bubble with a running goroutine does not move its clock.
	abort atomic.Pointer[chan struct{}]
}

// arm makes the abort channel of a new incarnation; disarm closes it. Both
// run in the node's bubble.
func (d *disk) arm() {
	ch := make(chan struct{})
	d.abort.Store(&ch)
}

func (d *disk) disarm() {
	if p := d.abort.Swap(nil); p != nil {
		close(*p)
	}
}

// apply arms a stall, a slow disk, a failure or a tear (not a heal: see
// heal).
func (d *disk) apply(ev interpose.Event) {
	switch ev.Op {
	case interpose.DiskStall:
		d.stall.Store(int64(ev.Took))
	case interpose.DiskSlow:
		d.slow.Store(int64(ev.Took))
	case interpose.DiskFail:
		d.fail.Store(true)
	case interpose.DiskTear:
		d.tear.Store(int32(ev.Nth))
	}
}

// faulty reports whether there is anything to heal: a fault armed, or a
// call asleep on the disk.
func (d *disk) faulty() bool {
	return d.stall.Load() != 0 || d.slow.Load() != 0 || d.fail.Load() || d.tear.Load() != 0 || d.asleep.Load() > 0
}

// heal ends every fault, and the calls asleep on the disk return now (a
// follower the stabilization phase gives no time would otherwise sleep
// through it). It runs in the node's bubble: it closes the incarnation's
// abort channel and makes another.
func (d *disk) heal() {
	d.stall.Store(0)
	d.slow.Store(0)
	d.fail.Store(false)
	d.tear.Store(0)
	if p := d.abort.Load(); p != nil {
		close(*p)
		d.arm()
	}
}

// before is called by the store wrappers before a call reaches the store:
// it sleeps for a stall or a slow disk, on the node's fake clock (raft's
// goroutine is durably blocked meanwhile, so the node's other goroutines
// and timers go on), and fails a log write that a fail event armed.
func (d *disk) before(logWrite bool) error {
	if t := d.stall.Swap(0) + d.slow.Load(); t > 0 {
		p := d.abort.Load()
		if p == nil {
			return nil // the node is stopping: its calls no longer wait
		}
		abort := *p
		d.asleep.Add(1)
		timer := time.NewTimer(time.Duration(t))
		select {
		case <-timer.C:
		case <-abort:
			timer.Stop()
		}
		d.asleep.Add(-1)
	}
	if logWrite && d.fail.Swap(false) {
		return ErrDiskFault
	}
	return nil
}
