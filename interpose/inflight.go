package interpose

import (
	"cmp"
	"strings"
)

// Inflight is the messages in a system's network as an adapter whose
// messages are values keeps them (interpose/actor, interpose/etcdraft): in
// canonical order, by fingerprint then by arrival, each with its payload
// (Load[i] is Msgs[i]'s), each marked when it repeats the fingerprint of
// the one before it (Message.Repeat). The zero value is empty.
type Inflight[T any] struct {
	Msgs []Message
	Load []T
	seq  uint64
	// Msgs and Load are windows at off into these arrays, which keep room
	// on both sides: a message goes in or out by moving the shorter side
	// of the list, half the copying of a plain slice on average.
	mbuf []Message
	lbuf []T
	off  int
	// sum, once Summarize is called, is kept as the messages and their
	// flags (SetFlags) change.
	sum *Summary
}

// Summarize makes f keep a Summary of its messages from now on (it must
// be empty); their Timer and Deliverable flags must then be set with
// SetFlags. It returns the summary, valid as long as f is (the same one
// when called again).
func (f *Inflight[T]) Summarize() *Summary {
	if f.sum == nil {
		f.sum = &Summary{}
	}
	return f.sum
}

// Reset empties f, as if it were new (its arrival numbers start again and
// a summary, if it keeps one, is empty), and keeps its arrays for the
// messages to come: an adapter that opens many systems one after another
// can reuse one Inflight instead of growing a new one each time.
func (f *Inflight[T]) Reset() {
	clear(f.mbuf)
	clear(f.lbuf)
	f.seq, f.off = 0, len(f.mbuf)/2
	f.window(0)
	if s := f.sum; s != nil {
		s.Requests, s.Timers = 0, 0
		s.Deliver.Clear()
		s.Fire.Clear()
	}
}

// SetFlags sets the i-th message's Timer and Deliverable flags.
func (f *Inflight[T]) SetFlags(i int, timer, deliverable bool) {
	m := &f.Msgs[i]
	if s := f.sum; s != nil {
		if m.Timer != timer {
			if timer {
				s.Timers++
			} else {
				s.Timers--
			}
		}
		first := deliverable && !m.Repeat
		s.Deliver.Set(i, first && !timer)
		s.Fire.Set(i, first && timer)
	}
	m.Timer, m.Deliverable = timer, deliverable
}

// CompareMessages is the canonical order of pending messages: by
// fingerprint (as Msg.Less orders them), then by arrival. It takes
// pointers and compares each field once: adapters sort and search pending
// messages at every event.
func CompareMessages(a, b *Message) int {
	if c := compareMsg(&a.Msg, &b.Msg); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// compareMsg is Msg.Less as a three-way comparison.
func compareMsg(a, b *Msg) int {
	if c := strings.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	if c := cmp.Compare(a.From, b.From); c != 0 {
		return c
	}
	if c := cmp.Compare(a.To, b.To); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}

// search returns where e is or would be in f.Msgs, and whether it is there.
// (slices.BinarySearchFunc would copy both messages at every comparison.)
func (f *Inflight[T]) search(e *Message) (int, bool) {
	lo, hi := 0, len(f.Msgs)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if CompareMessages(&f.Msgs[h], e) < 0 {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo, lo < len(f.Msgs) && CompareMessages(&f.Msgs[lo], e) == 0
}

// Insert puts a message with fingerprint fp and payload load in flight and
// returns its arrival number and where it now is in Msgs.
func (f *Inflight[T]) Insert(fp Msg, load T, request bool) (seq uint64, at int) {
	f.seq++
	e := Message{Seq: f.seq, Msg: fp, Request: request}
	i, _ := f.search(&e)
	// The newest of its fingerprint, it goes after the others.
	e.Repeat = i > 0 && f.Msgs[i-1].Msg == fp
	f.open(i)
	f.Msgs[i], f.Load[i] = e, load
	if s := f.sum; s != nil {
		// In no set until its flags are set; the message after it,
		// another fingerprint's, stays the first of its own.
		s.Deliver.Insert(i)
		s.Fire.Insert(i)
		if request {
			s.Requests++
		}
	}
	return f.seq, i
}

// open makes room for one message at position i of Msgs and Load.
func (f *Inflight[T]) open(i int) {
	n := len(f.Msgs)
	switch {
	case f.off > 0 && (2*i <= n || f.off+n == len(f.mbuf)):
		// The front moves down one.
		f.off--
		copy(f.mbuf[f.off:f.off+i], f.mbuf[f.off+1:f.off+i+1])
		copy(f.lbuf[f.off:f.off+i], f.lbuf[f.off+1:f.off+i+1])
	case f.off+n < len(f.mbuf):
		// The back moves up one.
		copy(f.mbuf[f.off+i+1:f.off+n+1], f.mbuf[f.off+i:f.off+n])
		copy(f.lbuf[f.off+i+1:f.off+n+1], f.lbuf[f.off+i:f.off+n])
	default:
		// Full: new arrays with room on both sides, the gap at i.
		size := 2*n + 8
		off := (size - n - 1) / 2
		mbuf, lbuf := make([]Message, size), make([]T, size)
		copy(mbuf[off:], f.Msgs[:i])
		copy(mbuf[off+i+1:], f.Msgs[i:])
		copy(lbuf[off:], f.Load[:i])
		copy(lbuf[off+i+1:], f.Load[i:])
		f.mbuf, f.lbuf, f.off = mbuf, lbuf, off
	}
	f.window(n + 1)
}

// window points Msgs and Load at the n messages from off.
func (f *Inflight[T]) window(n int) {
	f.Msgs = f.mbuf[f.off : f.off+n : f.off+n]
	f.Load = f.lbuf[f.off : f.off+n : f.off+n]
}

// Renew gives the i-th message a new arrival number, as if it were taken
// out of flight and put back, and returns it; ok is false (and nothing
// changes) when that would move it: another message with its fingerprint
// follows it. Re-arming a timer, the only message of its fingerprint, is
// then one step instead of two searches and two moves.
func (f *Inflight[T]) Renew(i int) (seq uint64, ok bool) {
	if i+1 < len(f.Msgs) && f.Msgs[i+1].Msg == f.Msgs[i].Msg {
		return 0, false
	}
	f.seq++
	f.Msgs[i].Seq = f.seq
	return f.seq, true
}

// RemoveAt takes the i-th message out of flight.
func (f *Inflight[T]) RemoveAt(i int) {
	if next := i + 1; next < len(f.Msgs) && !f.Msgs[i].Repeat && f.Msgs[next].Repeat {
		f.Msgs[next].Repeat = false // first of its fingerprint now
		if s := f.sum; s != nil {
			// It has the removed one's flags, and takes its place in
			// the sets.
			s.Deliver.Set(next, s.Deliver.Has(i))
			s.Fire.Set(next, s.Fire.Has(i))
		}
	}
	if s := f.sum; s != nil {
		s.Deliver.Remove(i)
		s.Fire.Remove(i)
		if f.Msgs[i].Request {
			s.Requests--
		}
		if f.Msgs[i].Timer {
			s.Timers--
		}
	}
	n, last := len(f.Msgs), f.off
	if 2*i < n {
		// The front moves up one.
		copy(f.mbuf[f.off+1:f.off+i+1], f.mbuf[f.off:f.off+i])
		copy(f.lbuf[f.off+1:f.off+i+1], f.lbuf[f.off:f.off+i])
		f.off++
	} else {
		// The back moves down one.
		copy(f.mbuf[f.off+i:f.off+n-1], f.mbuf[f.off+i+1:f.off+n])
		copy(f.lbuf[f.off+i:f.off+n-1], f.lbuf[f.off+i+1:f.off+n])
		last = f.off + n - 1
	}
	// The slot left behind holds nothing the collector should keep.
	var zero T
	f.mbuf[last], f.lbuf[last] = Message{}, zero
	f.window(n - 1)
}

// RemoveFunc takes every message whose fingerprint del accepts out of
// flight.
func (f *Inflight[T]) RemoveFunc(del func(Msg) bool) {
	for i := len(f.Msgs) - 1; i >= 0; i-- {
		if del(f.Msgs[i].Msg) {
			f.RemoveAt(i)
		}
	}
}

// Find returns the index of the oldest message in flight matching fp (a
// full or type-only fingerprint), or -1. Messages that match fp are
// contiguous in canonical order.
func (f *Inflight[T]) Find(fp *Msg) int {
	lo := Message{Msg: Msg{Type: fp.Type, From: fp.From, To: fp.To, Key: fp.Key}}
	i, _ := f.search(&lo)
	best := -1
	for ; i < len(f.Msgs) && fp.Matches(f.Msgs[i].Msg); i++ {
		if best < 0 || f.Msgs[i].Seq < f.Msgs[best].Seq {
			best = i
		}
		if fp.Key != "" {
			break // one fingerprint: the first is the oldest
		}
	}
	return best
}

// FindAt is Find with a hint (Event.Hint): when the message at position at-1
// has fingerprint fp, a full one, and is the first of its fingerprint (the
// oldest), that position is Find's answer without a search.
func (f *Inflight[T]) FindAt(fp *Msg, at int) int {
	if h := at - 1; h >= 0 && h < len(f.Msgs) && fp.Key != "" && f.Msgs[h].Msg == *fp && (h == 0 || f.Msgs[h-1].Msg != *fp) {
		return h
	}
	return f.Find(fp)
}

// Index returns the position of the message (fp, seq), or -1.
func (f *Inflight[T]) Index(fp Msg, seq uint64) int {
	i, ok := f.search(&Message{Seq: seq, Msg: fp})
	if !ok {
		return -1
	}
	return i
}
