package campaign

import (
	"regexp"
	"strings"

	"github.com/faultline-dev/faultline/interpose"
)

// crash is what a dying process printed.
type crash struct {
	Message string // the panic or fatal error, first line
	Where   string // the function that panicked
	Report  string // the whole report, cut
	// Invariant is NoPanic for a panic, Fatal for a run that ended its
	// process with an error (a deadlock in a node's bubble, say).
	Invariant string
}

// runFailed is how a worker reports a run that failed with an error rather
// than a panic: a node's bubble that deadlocked (whichever command ran it,
// so that fuzz, replay and minimize workers agree on the fingerprint), or
// any error of a fuzz run.
var runFailed = []*regexp.Regexp{
	regexp.MustCompile(`^faultline: .*?(hraft: n\d+: bubble: .*)$`),
	regexp.MustCompile(`^faultline: fuzz: run \d+: (.*)$`),
}

var frameArgs = regexp.MustCompile(`^(.*)\(.*\)$`)

// parseCrash finds the panic in a dead process's stderr.
func parseCrash(stderr string) (crash, bool) {
	lines := strings.Split(stderr, "\n")
	var c crash
	for i, l := range lines {
		if c.Message == "" {
			for _, p := range []string{"panic: ", "fatal error: "} {
				if strings.HasPrefix(l, p) {
					c.Message = strings.TrimSuffix(strings.TrimPrefix(l, "panic: "), " [recovered]")
					c.Report = strings.Join(lines[i:min(len(lines), i+40)], "\n")
				}
			}
			continue
		}
		if !strings.HasPrefix(l, "goroutine ") || !strings.Contains(l, "[running") {
			continue
		}
		for _, f := range lines[i+1:] {
			if f == "" {
				break
			}
			if strings.HasPrefix(f, "\t") || strings.HasPrefix(f, "panic(") || strings.HasPrefix(f, "runtime.") ||
				strings.HasPrefix(f, "internal/runtime/") {
				continue // the runtime's own frames say where, not who
			}
			if m := frameArgs.FindStringSubmatch(f); m != nil {
				f = m[1]
			}
			c.Where = f
			break
		}
		break
	}
	if c.Message == "" {
		for _, re := range runFailed {
			for _, l := range lines {
				if m := re.FindStringSubmatch(l); m != nil {
					return crash{Message: m[1], Report: l, Invariant: "Fatal"}, true
				}
			}
		}
	}
	return c, c.Message != ""
}

// violation turns a crash into the violation a schedule records.
func (c crash) violation(step int) *interpose.Violation {
	inv, detail := c.Invariant, "the process crashed: "+c.Message
	if inv == "" {
		inv = "NoPanic"
	} else {
		detail = "a run failed: " + c.Message
	}
	// What a message adds after "; " (the goroutines a deadlocked bubble
	// left blocked) varies between executions of one bug: it is detail,
	// not fingerprint.
	what, _, _ := strings.Cut(c.Message, "; ")
	fp := inv + ": " + interpose.StableText(what)
	if c.Where != "" {
		fp += " (" + c.Where + ")"
	}
	return &interpose.Violation{
		Invariant:   inv,
		Fingerprint: fp,
		Detail:      detail,
		Step:        step,
		Crash:       true,
	}
}
