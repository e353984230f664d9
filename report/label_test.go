package report

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLabelEscapes: whatever a schedule holds (a client's payload with a
// NUL, invalid UTF-8, Mermaid syntax, line breaks), a label is one line of
// printable UTF-8 without Mermaid's syntax characters.
func TestLabelEscapes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a,b,10", "a,b,10"},
		{"x\x00y", `x\x00y`},
		{"bad \xff byte", `bad \xff byte`},
		{"two\nlines", "two lines"},
		{"a;b#c%d<e>\"f\"", "a,bno.c pctd‹e›'f'"},
	} {
		got := label(c.in)
		if got != c.want {
			t.Errorf("label(%q) = %q, want %q", c.in, got, c.want)
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\x00\n\r;#<>\"") {
			t.Errorf("label(%q) = %q is not safe", c.in, got)
		}
	}
}
