// Package report renders a schedule for people, in every format `faultline
// report` knows (Formats, Render): a Markdown bug report with a Mermaid
// sequence diagram (Markdown), the diagram alone (Mermaid), one line per
// event with the final state (Text, what `faultline show` prints), a
// space-time diagram (SVG), a log for ShiViz (ShiViz) and the schedule with
// each node's state after every event (JSON).
//
// Contract: every rendering is a rendering of the schedule and of the Env
// passed in, and nothing else. Markdown, Mermaid and Text replay nothing and
// read nothing from the system; SVG, ShiViz and JSON replay the schedule
// once, exactly, to learn happens-before and each node's state, and refuse a
// schedule that no longer replays exactly. The same schedule and Env give
// the same bytes, so renderings can be compared with golden files. Markdown, Mermaid and Text write only to
// their io.Writer; WriteMarkdown reads a schedule file and writes its report
// next to it. CurrentEnv is the only function that looks at the process (the
// build information and the Go version); pass a fixed Env for output that
// must not change from one build to the next. The Markdown report's "Known
// upstream" line is invariants.Upstream's match of the file's fingerprint
// and target against faultline's table of hashicorp/raft bugs: a function of
// the file too (fuzz.Upstream's confirmation by replay is for callers that
// may run the target).
//
// Node states are rendered without knowing what they mean: each node's
// named facts (interpose.NodeView), a table column per fact name in the
// order the adapter lists them, and in the SVG drawing each node's headline
// (for Raft, its role and term) where it changes. A system that is not Raft
// renders the same way.
//
// Text and labels taken from a schedule (details, client payloads, message
// keys) are made safe for Mermaid: no line breaks, and none of the characters
// Mermaid reads as syntax in a message or a note.
package report
