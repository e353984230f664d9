package campaign

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Range is the runs [First, First+Count).
type Range struct {
	First int `json:"first"`
	Count int `json:"count"`
}

// End is the first run after r.
func (r Range) End() int { return r.First + r.Count }

func (r Range) String() string { return fmt.Sprintf("runs %d-%d", r.First, r.End()-1) }

// ParseShard reads "I/N" (0 <= I < N).
func ParseShard(s string) (shard, shards int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("shard %q: want I/N with 0 <= I < N", s)
	}
	return i, n, nil
}

// Planner hands out the ranges of runs a campaign has still to run: first
// the holes below the furthest chunk done (left by a campaign that was
// killed with pieces in flight), then new chunks, in order. It is safe for
// concurrent use.
type Planner struct {
	mu     sync.Mutex
	cfg    Config
	holes  []Range
	next   int // the next new chunk index
	closed bool
}

// Plan returns the planner of the campaign's remaining work.
func (s *Store) Plan() (*Planner, error) {
	c, err := s.Config()
	if err != nil {
		return nil, err
	}
	ps, err := s.Pieces()
	if err != nil {
		return nil, err
	}
	done := make([]Range, len(ps))
	for i, p := range ps {
		done[i] = Range{p.First, p.Count}
	}
	return NewPlanner(c, done), nil
}

// NewPlanner plans the work of the campaign c given the ranges done.
func NewPlanner(c Config, done []Range) *Planner {
	if c.Chunk <= 0 {
		c.Chunk = 1
	}
	n := c.shards()
	slices.SortFunc(done, func(a, b Range) int { return a.First - b.First })
	p := &Planner{cfg: c, next: c.Shard}
	if len(done) == 0 {
		return p
	}
	last := (done[len(done)-1].End() - 1) / c.Chunk
	// Every chunk of this shard up to the last one touched: what is not
	// covered is a hole.
	i := 0
	for k := c.Shard; k <= last; k += n {
		lo, hi := k*c.Chunk, (k+1)*c.Chunk
		for i < len(done) && done[i].End() <= lo {
			i++
		}
		at := lo
		for j := i; j < len(done) && done[j].First < hi; j++ {
			if done[j].First > at {
				p.holes = append(p.holes, Range{at, done[j].First - at})
			}
			at = max(at, done[j].End())
		}
		if at < hi {
			p.holes = append(p.holes, Range{at, hi - at})
		}
		p.next = k + n
	}
	return p
}

// Next returns the next range to run, or false once Close was called or
// the run space is exhausted.
func (p *Planner) Next() (Range, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Range{}, false
	}
	if len(p.holes) > 0 {
		r := p.holes[0]
		p.holes = p.holes[1:]
		return r, true
	}
	if p.next > (math.MaxInt-p.cfg.Chunk)/p.cfg.Chunk {
		return Range{}, false
	}
	r := Range{p.next * p.cfg.Chunk, p.cfg.Chunk}
	p.next += p.cfg.shards()
	return r, true
}

// Return puts back a range that was not finished (a worker that died before
// running it, or the rest of a piece cut short).
func (p *Planner) Return(r Range) {
	if r.Count <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holes = append(p.holes, r)
	slices.SortFunc(p.holes, func(a, b Range) int { return a.First - b.First })
}

// Close makes Next return false from now on.
func (p *Planner) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

// Frontier is the first run of the first chunk not handed out yet: below
// it, every run of this shard is done except the holes.
func (p *Planner) Frontier() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next * p.cfg.Chunk
}

// Holes returns the holes not handed out yet.
func (p *Planner) Holes() []Range {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.holes)
}
