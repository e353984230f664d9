package interpose

import (
	"slices"
	"strconv"
	"strings"
)

// Candidates returns, for a recorded deliver, drop or duplicate event whose
// message is not pending, the distinct fingerprints of the pending messages
// it could stand for under the type-only wildcard: same type, source and
// destination (deliverable, for a delivery; a request, for a duplicate).
// The best comes first: the one that shares the most fields of its key with
// the recorded one ("term=2" with "term=2"), then the one whose numbers are
// nearest the recorded ones, then the oldest. DEMi's
// wildcard takes the oldest; preferring the closest keeps a replay on the
// recorded term when an earlier term's message is still in flight.
func Candidates(pending []Message, ev Event) []Msg {
	if ev.Msg == nil {
		return nil
	}
	wild := ev.Msg.TypeOnly()
	type cand struct {
		msg   Msg
		score int
		seq   uint64
	}
	var cs []cand
	for _, p := range pending {
		switch {
		case !wild.Matches(p.Msg),
			ev.Kind == Deliver && !p.Deliverable,
			ev.Kind == Duplicate && !p.Request:
			continue
		}
		if i := slices.IndexFunc(cs, func(c cand) bool { return c.msg == p.Msg }); i >= 0 {
			cs[i].seq = min(cs[i].seq, p.Seq)
			continue
		}
		cs = append(cs, cand{msg: p.Msg, score: shared(ev.Msg.Key, p.Msg.Key), seq: p.Seq})
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		if a.score != b.score {
			return b.score - a.score
		}
		if a.seq < b.seq {
			return -1
		}
		if a.seq > b.seq {
			return 1
		}
		return 0
	})
	out := make([]Msg, len(cs))
	for i, c := range cs {
		out[i] = c.msg
	}
	return out
}

// shared scores how close a pending message's key is to a recorded one:
// each space-separated field in the same position counts 1,000 when equal;
// numbers in fields of the same name that differ cost how far apart they
// are ("n=3" is closer to "n=4" than "n=1" is), so that a replay whose
// indexes shifted still takes the message that plays the recorded role.
func shared(a, b string) int {
	fa, fb := strings.Fields(a), strings.Fields(b)
	score := 0
	for i := range min(len(fa), len(fb)) {
		if fa[i] == fb[i] {
			score += 1000
			continue
		}
		na, va, oka := strings.Cut(fa[i], "=")
		nb, vb, okb := strings.Cut(fb[i], "=")
		if oka && okb && na == nb {
			score -= min(distance(va, vb), 999)
		}
	}
	return score
}

// distance sums how far apart the numbers of two values are, part by part
// ("1/24" and "3/46": 2 + 22); a part that is not a number counts 1 when
// the parts differ.
func distance(a, b string) int {
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	d := 0
	for i := range max(len(pa), len(pb)) {
		if i >= len(pa) || i >= len(pb) {
			d++
			continue
		}
		x, errx := strconv.Atoi(pa[i])
		y, erry := strconv.Atoi(pb[i])
		switch {
		case errx != nil || erry != nil:
			if pa[i] != pb[i] {
				d++
			}
		case x > y:
			d += x - y
		default:
			d += y - x
		}
	}
	return d
}

// WildAdvance returns, for a recorded advance whose message the node has not
// already sent, the advance that stops at the next message of the same type
// to the same destination, whatever its key: the type-only wildcard for
// timers. An advance that the recorded message would end at once, or that
// was recorded at the cap, is returned unchanged.
func WildAdvance(pending []Message, ev Event) Event {
	if ev.Kind != Advance || ev.Until == nil || ev.Until.Key == "" || ev.UntilN < 0 {
		return ev
	}
	wild := ev.Until.TypeOnly()
	exact, typed := 0, 0
	for _, p := range pending {
		if !p.Request || p.Msg.From != ev.Node || !wild.Matches(p.Msg) {
			continue
		}
		typed++
		if p.Msg == *ev.Until {
			exact++
		}
	}
	if exact >= max(ev.UntilN, 1) {
		return ev
	}
	ev.Until, ev.UntilN = &wild, typed+1
	return ev
}
