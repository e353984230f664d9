package interpose

// Network is the state of a system's network as adapters keep it: whole, or
// cut by a Partition event into groups, both ways or one way (OneWay: what
// the second group sends to the first is cut). The zero value is whole.
type Network struct {
	side   []int // group per node (index node, 1-based), nil when whole
	oneWay bool
}

// Cut applies a Partition event to a system of n nodes.
func (w *Network) Cut(ev Event, n int) {
	w.side = make([]int, n+1)
	for g, members := range ev.Groups {
		for _, x := range members {
			if x >= 1 && x <= n {
				w.side[x] = g + 1
			}
		}
	}
	w.oneWay = ev.Op == OneWay
}

// Heal makes the network whole; it reports false when it was already.
func (w *Network) Heal() bool {
	if w.side == nil {
		return false
	}
	w.side, w.oneWay = nil, false
	return true
}

// Passes reports whether a message from node from reaches node to: the
// network is whole, both are in one group, or the cut is one-way and the
// message goes from the first group to the second.
func (w *Network) Passes(from, to int) bool {
	if w.side == nil || from < 0 || to < 0 || from >= len(w.side) || to >= len(w.side) {
		return true
	}
	return w.side[from] == w.side[to] || w.oneWay && w.side[from] < w.side[to]
}
