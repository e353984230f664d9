package interpose

import "math/bits"

// Summarizer is a System that keeps, as its pending messages change, what
// a walk draws from among them (a Summary), so that the walk need not look
// at every pending message at every event. A Summarizer is a Grouper.
type Summarizer interface {
	// Summary describes Pending's messages as Pending returns them now.
	// It is valid until the next event and must not be changed.
	Summary() *Summary
}

// Summary is what a walk draws from among a system's pending messages.
type Summary struct {
	// Requests and Timers count the pending requests and timers.
	Requests, Timers int
	// Deliver and Fire mark, by position in Pending's order, the first
	// message of each deliverable fingerprint: Deliver for messages, Fire
	// for timers.
	Deliver, Fire Bits
}

// Bits is a set of positions in a list that can grow and shrink in the
// middle (Insert, Remove). The zero value is empty.
type Bits struct {
	w []uint64
}

// Has reports whether position i is in the set.
func (b *Bits) Has(i int) bool {
	return i>>6 < len(b.w) && b.w[i>>6]&(1<<(i&63)) != 0
}

// Set puts position i in the set (on) or takes it out.
func (b *Bits) Set(i int, on bool) {
	for i>>6 >= len(b.w) {
		if !on {
			return
		}
		b.w = append(b.w, 0)
	}
	if on {
		b.w[i>>6] |= 1 << (i & 63)
	} else {
		b.w[i>>6] &^= 1 << (i & 63)
	}
}

// Insert makes room at position i: the positions from i on move up one,
// and i is not in the set.
func (b *Bits) Insert(i int) {
	k := i >> 6
	if k >= len(b.w) {
		return // nothing at or after i
	}
	if b.w[len(b.w)-1]>>63 != 0 {
		b.w = append(b.w, 0)
	}
	for j := len(b.w) - 1; j > k; j-- {
		b.w[j] = b.w[j]<<1 | b.w[j-1]>>63
	}
	low := uint64(1)<<(i&63) - 1 // the positions of word k before i stay
	b.w[k] = b.w[k]&low | (b.w[k]&^low)<<1
}

// Remove takes position i out of the list: the positions after it move
// down one.
func (b *Bits) Remove(i int) {
	k := i >> 6
	if k >= len(b.w) {
		return
	}
	low := uint64(1)<<(i&63) - 1
	b.w[k] = b.w[k]&low | (b.w[k]>>1)&^low
	for j := k + 1; j < len(b.w); j++ {
		b.w[j-1] |= b.w[j] << 63
		b.w[j] >>= 1
	}
}

// Count returns how many positions are in the set.
func (b *Bits) Count() int {
	n := 0
	for _, w := range b.w {
		n += bits.OnesCount64(w)
	}
	return n
}

// Clear empties the set.
func (b *Bits) Clear() { clear(b.w) }

// Select returns the k-th position in the set (from 0), in order; -1 when
// there are not that many.
func (b *Bits) Select(k int) int { return selectIn(b.w, nil, k) }

// SelectEither is Select over the union of a and b.
func SelectEither(a, b *Bits, k int) int { return selectIn(a.w, b.w, k) }

func selectIn(a, b []uint64, k int) int {
	for j := range max(len(a), len(b)) {
		var w uint64
		if j < len(a) {
			w = a[j]
		}
		if j < len(b) {
			w |= b[j]
		}
		if c := bits.OnesCount64(w); k >= c {
			k -= c
			continue
		}
		for ; k > 0; k-- {
			w &= w - 1 // the lowest position out
		}
		return j<<6 + bits.TrailingZeros64(w)
	}
	return -1
}
