package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

// SVG draws a space-time diagram: time flows down, one row per event;
// a vertical line per node; an arrow from the row where a message was sent
// to the row where it was delivered; a cross for a crash, a circle for a
// recovery, a dot for a timer, shading across the rows a partition stands,
// the node's headline (interpose.NodeView.Headline: for Raft, its role and
// term) written where it changes, and the violation's
// row in red. It is drawn by hand: lines, circles, rectangles and text need
// no library.
func SVG(w io.Writer, t *testing.T, target interpose.Target, s *interpose.Schedule) error {
	from, err := senders(t, target, s)
	if err != nil {
		return err
	}
	states, err := replayStates(t, target, s)
	if err != nil {
		return err
	}
	const top, row, left, col = 60, 22, 40, 170
	n := s.Target.Nodes
	width := left*2 + col*n + 560
	height := top + row*(len(s.Events)+2)
	x := func(node int) int { return left + col*(node-1) + col/2 }
	y := func(i int) int { return top + row*i + row/2 }
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="monospace" font-size="11">`+"\n", width, height)
	fmt.Fprintf(w, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n")
	fmt.Fprintf(w, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n")
	fmt.Fprintf(w, "<text x=\"%d\" y=\"20\" font-size=\"13\">%s</text>\n", left, xmlText(s.Target.Name+": "+Title(s.Violation)))
	// Partitions: shade from the partition's row to the heal's.
	cut := -1
	shade := func(from, to int) {
		fmt.Fprintf(w, "<rect class=\"partition\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fde9c9\"/>\n",
			left, y(from)-row/2, col*n, y(to)-y(from)+row)
	}
	for i, e := range s.Events {
		switch e.Kind {
		case interpose.Partition:
			cut = i
		case interpose.Heal:
			if cut >= 0 {
				shade(cut, i)
				cut = -1
			}
		}
	}
	if cut >= 0 {
		shade(cut, len(s.Events)-1)
	}
	if v := s.Violation; v != nil && v.Step >= 1 && v.Step <= len(s.Events) {
		fmt.Fprintf(w, "<rect class=\"violation\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f8c9c9\"/>\n",
			0, y(v.Step-1)-row/2, width, row)
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" fill=\"#b00\">VIOLATION %s: %s</text>\n", left, y(len(s.Events))+4, xmlText(v.Invariant), xmlText(v.Detail))
	}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">n%d</text>\n", x(i), top-12, i)
		fmt.Fprintf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n", x(i), top-6, x(i), y(len(s.Events)-1)+row/2)
	}
	shown := make([]string, n+1) // the label last written per node
	for i, e := range s.Events {
		node := e.At()
		switch {
		case e.Kind == interpose.Deliver && e.Msg != nil && e.Msg.From == e.Msg.To && e.Msg.Key == "timer",
			e.Kind == interpose.Advance:
			fmt.Fprintf(w, "<circle class=\"timer\" cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"#36c\"/>\n", x(node), y(i))
		case e.Kind == interpose.Deliver && e.Msg != nil:
			sy := y(i)
			if j := from[i]; j >= 0 {
				sy = y(j)
			}
			fmt.Fprintf(w, "<line class=\"msg\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\" marker-end=\"url(#arrow)\"><title>%s</title></line>\n",
				x(e.Msg.From), sy, x(e.Msg.To), y(i), xmlText(e.String()))
		case e.Kind == interpose.Crash:
			fmt.Fprintf(w, "<text class=\"crash\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#b00\" font-size=\"15\">✕</text>\n", x(node), y(i)+5)
		case e.Kind == interpose.Recover || e.Kind == interpose.Start:
			fmt.Fprintf(w, "<circle class=\"%s\" cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"none\" stroke=\"#080\"/>\n", e.Kind, x(node), y(i))
		}
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" fill=\"#555\">%d %s</text>\n", left+col*n+10, y(i)+4, i+1, xmlText(e.String()))
		for _, st := range states[i] {
			label := st.Life()
			if st.Up {
				label = st.Headline()
			}
			if st.Node >= 1 && st.Node <= n && label != shown[st.Node] {
				shown[st.Node] = label
				fmt.Fprintf(w, "<text class=\"role\" x=\"%d\" y=\"%d\" fill=\"#070\">%s</text>\n", x(st.Node)+6, y(i)-3, xmlText(label))
			}
		}
	}
	fmt.Fprintln(w, "</svg>")
	return nil
}

// xmlText escapes text for an SVG document.
func xmlText(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return ""
	}
	return b.String()
}
