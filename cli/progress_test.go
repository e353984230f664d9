package cli

import (
	"bytes"
	"testing"
	"time"
)

// TestProgressOffATerminal: off a terminal, progress is a line every 30 s
// of the command's time, none for a short command; on one, every update
// redraws the line in place.
func TestProgressOffATerminal(t *testing.T) {
	for _, c := range []struct {
		name string
		tty  bool
		want string
	}{
		{"log", false, "at 30s\nat 1m5s\nat 2m0s\n"},
		{"terminal", true, "\rat 1s  \rat 29s  \rat 30s  \rat 31s  \rat 1m5s  \rat 1m10s  \rat 2m0s  \n"},
	} {
		var stderr bytes.Buffer
		p := (&app{stderr: &stderr, tty: c.tty}).progress()
		for _, s := range []int{1, 29, 30, 31, 65, 70, 120} {
			at := time.Duration(s) * time.Second
			p.show(at, "at "+at.String())
		}
		p.done()
		if got := stderr.String(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
