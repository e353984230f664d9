package campaign

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressLines: for a log (RunOptions.ProgressLines), the progress
// is a line of its own at each tick, with no carriage return to redraw it;
// on a terminal, it is redrawn in place.
func TestProgressLines(t *testing.T) {
	defer func(d time.Duration) { progressLineEvery = d }(progressLineEvery)
	progressLineEvery = 10 * time.Millisecond
	st, err := Open(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, lines := range []bool{true, false} {
		var out syncBuffer
		co := &coordinator{st: st, stderr: &out, start: time.Now(), known: map[string]bool{"a": true}, stopped: make(chan struct{})}
		minDone, done := make(chan struct{}), make(chan struct{})
		go co.drawProgress(minDone, done, lines)
		wait := 200 * time.Millisecond
		if !lines {
			wait = 1500 * time.Millisecond // one tick of the terminal's second
		}
		time.Sleep(wait)
		close(minDone)
		<-done
		got := out.String()
		n := strings.Count(got, "1 distinct violations")
		switch {
		case lines && (n < 2 || strings.Contains(got, "\r") || strings.Count(got, "\n") != n):
			t.Errorf("lines: %q; want a line of its own per tick, several", got)
		case !lines && (n < 1 || !strings.HasPrefix(got, "\r") || !strings.HasSuffix(got, "\n")):
			t.Errorf("terminal: %q; want the line redrawn in place, ended once", got)
		}
	}
}
