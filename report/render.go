package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
)

// Formats are the renderings Render knows, the default first.
var Formats = []string{"markdown", "mermaid", "svg", "shiviz", "json", "text"}

// Replays reports whether a format replays the schedule once (svg, shiviz
// and json need happens-before or each node's state after every event);
// the others render the file alone.
func Replays(format string) bool {
	return format == "svg" || format == "shiviz" || format == "json"
}

// Render writes the schedule s, read from the file at path, in format. The
// formats that replay it open systems of target under t; the others use
// neither, and t and target may be nil.
func Render(w io.Writer, format, path string, s *interpose.Schedule, env Env, t *testing.T, target interpose.Target) error {
	if !slices.Contains(Formats, format) {
		return fmt.Errorf("report: format %q: want one of %s", format, strings.Join(Formats, ", "))
	}
	if Replays(format) && (t == nil || target == nil) {
		return fmt.Errorf("report: format %s replays the schedule and needs its target", format)
	}
	switch format {
	case "mermaid":
		return Mermaid(w, s)
	case "text":
		return Text(w, path, s)
	case "svg":
		return SVG(w, t, target, s)
	case "shiviz":
		return ShiViz(w, t, target, s)
	case "json":
		return JSON(w, t, target, s)
	}
	return Markdown(w, path, s, env)
}
