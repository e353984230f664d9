package cli

import (
	"fmt"
	"time"
)

// progressEvery is how often a long command prints its progress when
// stderr is not a terminal (a log, CI): a line at a time, so that a log
// shows the work is alive without a line per run.
const progressEvery = 30 * time.Second

// progress prints a long command's progress on stderr: redrawn in place on
// a terminal; off one, as a line every progressEvery of the command's own
// elapsed time (the first after progressEvery: a short command prints
// nothing).
type progress struct {
	a    *app
	next time.Duration
}

func (a *app) progress() *progress { return &progress{a: a, next: progressEvery} }

// show prints line, the state at elapsed.
func (p *progress) show(elapsed time.Duration, line string) {
	if p.a.tty {
		fmt.Fprintf(p.a.stderr, "\r%s  ", line)
		return
	}
	if elapsed < p.next {
		return
	}
	for p.next <= elapsed {
		p.next += progressEvery
	}
	fmt.Fprintln(p.a.stderr, line)
}

// done ends the line a terminal redraws.
func (p *progress) done() {
	if p.a.tty {
		fmt.Fprintln(p.a.stderr)
	}
}
