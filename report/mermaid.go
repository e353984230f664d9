package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/faultline-dev/faultline/interpose"
)

// Mermaid draws the schedule as a Mermaid sequence diagram: one participant
// per node, an arrow per delivery, notes for what happens at a node (timers,
// crashes, recoveries, client operations, membership changes) or across the
// cluster (partitions, heals), and the violation marked after its event.
// Runs of uneventful heartbeats (Heartbeats) fold into one note, and so does a
// long stabilization phase after its first events (PhaseSummary).
func Mermaid(w io.Writer, s *interpose.Schedule) error {
	n := s.Target.Nodes
	fmt.Fprintln(w, "sequenceDiagram")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "    participant n%d\n", i)
	}
	all := fmt.Sprintf("n1,n%d", n)
	if n == 1 {
		all = "n1"
	}
	step := 0
	if v := s.Violation; v != nil {
		step = v.Step
	}
	for i := 0; i < len(s.Events); i++ {
		e := s.Events[i]
		if e.Kind == interpose.Stabilize {
			fmt.Fprintf(w, "    Note over %s: stabilization phase, bound %d: faults healed, every node up, then fair delivery, client writes and time passing\n", all, e.Bound)
			if end := min(len(s.Events), i+1+phaseShown); len(s.Events)-end > phaseShown {
				// Its beginning drawn, the rest folded into one note.
				for j := i + 1; j < end; j++ {
					event(w, s.Events[j], all)
				}
				fmt.Fprintf(w, "    Note over %s: … %s\n", all, label(PhaseSummary(s.Events[end:])))
				if step > i+1 {
					violationNote(w, all, s.Violation)
				}
				return nil
			}
			continue
		}
		if k := Heartbeats(s.Events, i); k >= 2 {
			fmt.Fprintf(w, "    Note over %s: %d uneventful heartbeats\n", all, k)
			i += k - 1
			if step > i-k+1 && step <= i+1 {
				violationNote(w, all, s.Violation)
			}
			continue
		}
		event(w, e, all)
		if step == i+1 {
			violationNote(w, all, s.Violation)
		}
	}
	return nil
}

// phaseShown is how many events of a stabilization phase a diagram draws
// before it folds the rest, when there are more than twice as many.
const phaseShown = 12

// PhaseSummary says what events of a stabilization phase did, by kind:
// "412 more events of the phase: 300 deliveries, 56 client writes, 56
// advances".
func PhaseSummary(events []interpose.Event) string {
	counts := map[interpose.Kind]int{}
	var kinds []interpose.Kind
	for _, e := range events {
		if counts[e.Kind] == 0 {
			kinds = append(kinds, e.Kind)
		}
		counts[e.Kind]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return fmt.Sprintf("%d more events of the phase: %s", len(events), strings.Join(parts, ", "))
}

// Heartbeats counts the uneventful heartbeat deliveries (no recorded result)
// from events[i] on; Mermaid folds a run of two or more into one note.
func Heartbeats(events []interpose.Event, i int) int {
	k := 0
	for ; i+k < len(events); k++ {
		e := events[i+k]
		if e.Kind != interpose.Deliver || e.Msg == nil || !strings.HasPrefix(e.Msg.Type, "Heartbeat") || e.Result != "" {
			break
		}
	}
	return k
}

func violationNote(w io.Writer, all string, v *interpose.Violation) {
	fmt.Fprintf(w, "    Note over %s: VIOLATION %s: %s\n", all, v.Invariant, label(v.Detail))
}

// event writes one event as an arrow or a note.
func event(w io.Writer, e interpose.Event, all string) {
	res := ""
	if e.Result != "" {
		res = " (" + label(e.Result) + ")"
	}
	switch e.Kind {
	case interpose.Deliver, interpose.Drop, interpose.Duplicate:
		if e.Msg == nil {
			return
		}
		m := e.Msg
		text := label(m.Type)
		if m.Key != "" && m.Key != "timer" {
			text += " " + label(m.Key)
		}
		switch {
		case m.From == m.To && m.Key == "timer":
			fmt.Fprintf(w, "    Note right of n%d: timer %s%s\n", m.To, label(m.Type), res)
		case e.Kind == interpose.Deliver:
			fmt.Fprintf(w, "    n%d->>n%d: %s%s\n", m.From, m.To, text, res)
		case e.Kind == interpose.Drop:
			fmt.Fprintf(w, "    n%d--xn%d: dropped %s\n", m.From, m.To, text)
		default:
			fmt.Fprintf(w, "    Note over n%d,n%d: duplicated %s\n", m.From, m.To, text)
		}
	case interpose.Partition:
		fmt.Fprintf(w, "    Note over %s: partition %s\n", all, label(groups(e.Groups)))
	case interpose.Heal:
		fmt.Fprintf(w, "    Note over %s: heal\n", all)
	case interpose.Client:
		fmt.Fprintf(w, "    Note right of n%d: client '%s'%s\n", e.Node, label(e.Data), res)
	case interpose.Membership:
		fmt.Fprintf(w, "    Note right of n%d: %s n%d%s\n", e.Node, label(e.Op), e.Peer, res)
	case interpose.Transfer:
		fmt.Fprintf(w, "    Note right of n%d: leadership transfer%s\n", e.Node, res)
	case interpose.Choice:
		fmt.Fprintf(w, "    Note right of n%d: choice %s → %s\n", e.Node, label(e.Data), label(e.Op))
	default: // start, crash, recover, advance
		fmt.Fprintf(w, "    Note right of n%d: %s%s\n", e.Node, e.Kind, res)
	}
}

func groups(gs [][]int) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		names := make([]string, len(g))
		for j, x := range g {
			names[j] = "n" + strconv.Itoa(x)
		}
		parts[i] = "{" + strings.Join(names, " ") + "}"
	}
	return strings.Join(parts, " | ")
}

// label makes text safe inside a Mermaid message or note: no line breaks,
// and none of the characters Mermaid reads as syntax there.
func label(s string) string {
	// Bytes that are not printable text (a NUL, invalid UTF-8 in a client's
	// payload) are written escaped, as Go quotes them.
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' && r != '\n' && r != '\r' }) >= 0 {
		q := strconv.Quote(s)
		s = q[1 : len(q)-1]
	}
	r := strings.NewReplacer("\n", " ", "\r", " ", ";", ",", "#", "no.", "%", " pct", "<", "‹", ">", "›", "\"", "'")
	return r.Replace(s)
}
