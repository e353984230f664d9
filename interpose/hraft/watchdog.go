package hraft

import (
	"sync/atomic"
	"time"
)

// DefaultWatchdog is Options.Watchdog's default.
const DefaultWatchdog = 10 * time.Second

// watchdog gives up on a node whose command has run for longer than after of
// real time. It is the one place where a cluster reads the real clock, and
// it decides nothing a run that finishes its commands could see: a command
// that blocks where the fake clock cannot see it (a sync.Mutex, a channel
// made outside the node's bubble, a loop that never sleeps) never lets the
// node's bubble become quiescent, so only real time can tell. A cluster
// starts it with its first command, and Close stops it.
type watchdog struct {
	after time.Duration
	busy  atomic.Uint64 // odd while a command is in flight; bumped at each edge
	fired chan struct{} // closed when the watchdog gives up
	stop  chan struct{}
	ended chan struct{} // closed when watch returns
	on    bool
}

func (w *watchdog) init(after time.Duration) {
	if after <= 0 {
		after = DefaultWatchdog
	}
	w.after = after
	w.fired = make(chan struct{})
	w.stop = make(chan struct{})
	w.ended = make(chan struct{})
}

// enter marks a command in flight; leave, its end.
func (w *watchdog) enter() {
	if !w.on {
		w.on = true
		go w.watch()
	}
	w.busy.Add(1)
}

func (w *watchdog) leave() { w.busy.Add(1) }

// watch looks ten times per period at whether the same command is still in
// flight, and gives up once it has been for a whole period.
func (w *watchdog) watch() {
	defer close(w.ended)
	t := time.NewTicker(w.after / 10)
	defer t.Stop()
	var last uint64
	seen := 0
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		b := w.busy.Load()
		if b%2 == 0 || b != last {
			last, seen = b, 0
			continue
		}
		if seen++; seen >= 10 {
			close(w.fired)
			return
		}
	}
}

// close stops the watchdog and waits until it has.
func (w *watchdog) close() {
	if w.on {
		close(w.stop)
		<-w.ended
	}
}
