package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/invariants"
)

// Title names a violated invariant in plain words ("No violation" for nil).
func Title(v *interpose.Violation) string {
	if v == nil {
		return "No violation"
	}
	switch v.Invariant {
	case "ElectionSafety":
		return "Two leaders in one term"
	case "LogMatching":
		return "Two logs hold different entries at the same index and term"
	case "LeaderCompleteness":
		return "A leader lacks an entry committed before its term"
	case "StateMachineSafety":
		return "Two nodes applied different entries at the same index"
	case "LeaderAppendOnly":
		return "A leader overwrote or deleted entries of its own log"
	case "NoPanic":
		return "A node panicked"
	case "Fatal":
		return "A run ended its process with an error"
	}
	return "Invariant " + v.Invariant + " broken"
}

// Markdown writes the bug report of the schedule s, read from the file at
// path: the violation in plain words (and, when its fingerprint and target
// match a known hashicorp/raft bug, invariants.Upstream, a line naming the
// issue: the table's match, not a replay, since a report renders the file
// alone), the environment (env, the target and
// its configuration, the seed, the command that made it), the replay
// command, a Mermaid sequence diagram (Mermaid), each node's state at the
// violation and the schedule's statistics. Only path's base name appears.
func Markdown(w io.Writer, path string, s *interpose.Schedule, env Env) error {
	v := s.Violation
	fmt.Fprintf(w, "# %s", Title(v))
	if v != nil {
		fmt.Fprintf(w, " (%s)", v.Invariant)
	}
	fmt.Fprintf(w, "\n\n")
	if v != nil {
		fmt.Fprintf(w, "%s, after event %d of %d.\n\n", v.Detail, v.Step, len(s.Events))
		if v.Since > 0 && v.Since <= len(s.Events) {
			fmt.Fprintf(w, "The monitor last turned hot after event %d (`%s`) and stayed hot to the end of the stabilization phase", v.Since, s.Events[v.Since-1])
			if pre, _, ok := interpose.PhaseOf(s); ok {
				fmt.Fprintf(w, ", which began after event %d and ran %d events", len(pre), len(s.Events)-len(pre)-1)
			}
			fmt.Fprintf(w, ".\n\n")
		}
		if b, ok := invariants.UpstreamIn(s); ok {
			fmt.Fprintf(w, "Known upstream: [%s](%s) — %s.\n\n", b.ID, b.URL, b.Summary)
		}
		if hasHistory(s, env.Model) {
			name := filepath.Base(historyPath(path))
			fmt.Fprintf(w, "The client history (%d operations), drawn by porcupine: [%s](%s), beside this report.\n\n",
				len(s.History), name, name)
		}
	}
	if m := s.Minimization; m != nil && (m.Flaky || m.Reproduced < m.Runs) {
		fmt.Fprintf(w, "**Flaky**: this schedule showed the violation in %d of its %d final replays, not every time.\n\n",
			m.Reproduced, m.Runs)
	}
	t := s.Target
	fmt.Fprintf(w, "## Environment\n\n")
	fmt.Fprintf(w, "- faultline %s, %s\n", env.Faultline, env.Go)
	if r := t.Config["raft"]; r != "" {
		fmt.Fprintf(w, "- %s\n", r)
	}
	fmt.Fprintf(w, "- target `%s`, %d nodes, seed %d", t.Name, t.Nodes, t.Seed)
	if t.Bug != "" {
		fmt.Fprintf(w, ", injected bug `%s`", t.Bug)
	}
	fmt.Fprintln(w)
	if len(t.Config) > 0 {
		keys := make([]string, 0, len(t.Config))
		for k := range t.Config {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = "`" + k + "=" + t.Config[k] + "`"
		}
		fmt.Fprintf(w, "- configuration: %s\n", strings.Join(parts, ", "))
	}
	if o := s.Origin; o != nil && o.Command != "" {
		fmt.Fprintf(w, "- made by `%s`\n", o.Command)
	}
	replay := env.Replay
	if replay == "" {
		replay = "faultline replay " + filepath.Base(path)
	}
	fmt.Fprintf(w, "\n## Replay\n\n```sh\n%s\n```\n\n", replay)
	fmt.Fprintf(w, "## What happened\n\n```mermaid\n")
	if err := Mermaid(w, s); err != nil {
		return err
	}
	fmt.Fprintf(w, "```\n\n")
	if len(s.Final) > 0 {
		fmt.Fprintf(w, "## State at the violation\n\n")
		tb := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewMarkdown()), tablewriter.WithHeaderAutoFormat(tw.Off))
		if err := finalTable(tb, s.Final); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "## Schedule\n\n")
	fmt.Fprintf(w, "`%s`: %d events, %d of them external", filepath.Base(path), len(s.Events), s.Externals())
	if m := s.Minimization; m != nil {
		fmt.Fprintf(w, "; minimized from %d events (%d external) with %d replays in %.1f s, reproduced %d of %d",
			m.InitialEvents, m.InitialExternals, m.Replays, m.ElapsedS, m.Reproduced, m.Runs)
	}
	fmt.Fprintf(w, ".\n")
	if v != nil {
		fmt.Fprintf(w, "Violation fingerprint: `%s`.\n", v.Fingerprint)
	}
	return nil
}

// WriteMarkdown writes the Markdown report of the schedule file at path next
// to it (the same name, .md for .json) and returns the report's path.
func WriteMarkdown(path string, env Env) (string, error) {
	s, err := interpose.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	var b bytes.Buffer
	if err := Markdown(&b, path, s, env); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	out := strings.TrimSuffix(path, ".json") + ".md"
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	if hasHistory(s, env.Model) {
		if err := WriteHistoryHTML(historyPath(path), s, env.Model); err != nil {
			return out, err
		}
	}
	return out, nil
}

// hasHistory reports whether s's violation is about its client history, s
// keeps it, and it can be drawn: a history of a service's own operations
// needs its model.
func hasHistory(s *interpose.Schedule, model *invariants.Model) bool {
	if s.Violation == nil || s.Violation.Invariant != invariants.Linearizability || len(s.History) == 0 {
		return false
	}
	return model != nil || !ownOps(s.History)
}

// ownOps reports whether a history is of a service's own operations (its
// model's), not of the built-in key-value store.
func ownOps(h []interpose.ClientOp) bool {
	return slices.ContainsFunc(h, func(o interpose.ClientOp) bool { return o.Op != "" })
}

// historyPath is where the drawing of the history of the schedule file at
// path goes: beside it, .history.html for .json.
func historyPath(path string) string {
	return strings.TrimSuffix(path, ".json") + ".history.html"
}

// WriteHistoryHTML checks s's client history again (invariants.CheckKV, or
// CheckModel against model for a service's own operations) and writes
// porcupine's drawing of the key that cannot be ordered to out: each node's
// operations on a time line of event numbers, and the longest orders the
// search found.
func WriteHistoryHTML(out string, s *interpose.Schedule, model *invariants.Model) error {
	hist := invariants.HistoryOf(s.History)
	var res invariants.LinResult
	switch {
	case !ownOps(s.History):
		res = invariants.CheckKV(hist, invariants.LinOptions{})
	case model != nil:
		res = invariants.CheckModel(hist, model, invariants.LinOptions{})
	default:
		return errors.New("report: history: the service's own operations need its model to be drawn")
	}
	var b bytes.Buffer
	if err := res.WriteHTML(&b); err != nil {
		return fmt.Errorf("report: history: %w", err)
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
