package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/faultline-dev/faultline/dpor"
	"github.com/faultline-dev/faultline/interpose"
)

// ShiVizRegexp is the regular expression ShiViz parses the log with.
const ShiVizRegexp = `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`

// ShiViz writes the schedule as a ShiViz log. Vector clocks follow
// happens-before: a node's events are ordered, and a delivery comes after
// the event that sent its message, as one exact replay of the schedule
// shows (package dpor's Causes). Partitions and heals are events of the
// network.
func ShiViz(w io.Writer, t *testing.T, target interpose.Target, s *interpose.Schedule) error {
	from, err := senders(t, target, s)
	if err != nil {
		return err
	}
	applied := s.Events
	host := func(e interpose.Event) string {
		if n := e.At(); n > 0 && e.Kind != interpose.Partition && e.Kind != interpose.Heal {
			return "n" + strconv.Itoa(n)
		}
		return "network"
	}
	clocks := make([]map[string]int, len(applied))
	last := map[string]map[string]int{}
	fmt.Fprintln(w, ShiVizRegexp)
	for i, e := range applied {
		h := host(e)
		vc := map[string]int{}
		for k, v := range last[h] {
			vc[k] = v
		}
		if j := from[i]; j >= 0 {
			for k, v := range clocks[j] {
				vc[k] = max(vc[k], v)
			}
		}
		vc[h]++
		clocks[i], last[h] = vc, vc
		clock, err := json.Marshal(vc)
		if err != nil {
			return err
		}
		text := e.String()
		if r := s.Events[i].Result; r != "" {
			text += " → " + r
		}
		fmt.Fprintf(w, "%s\n%s %s\n", text, h, clock)
	}
	return nil
}

// JSON writes the schedule with each node's state after every event,
// from one exact replay of the schedule. A state is a node's view as a
// schedule file holds it: its number, life cycle and named facts.
func JSON(w io.Writer, t *testing.T, target interpose.Target, s *interpose.Schedule) error {
	states, err := replayStates(t, target, s)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(struct {
		Schedule *interpose.Schedule    `json:"schedule"`
		States   [][]interpose.NodeView `json:"states"`
	}{s, states}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// replayStates replays the schedule once, exactly (advances by their
// recorded duration), and returns every node's state after each event.
func replayStates(t *testing.T, target interpose.Target, s *interpose.Schedule) ([][]interpose.NodeView, error) {
	sys, err := target.Open(t, s.Target)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer sys.Close()
	ctl := interpose.NewController(sys, nil, s.Target)
	states := make([][]interpose.NodeView, 0, len(s.Events))
	for i, e := range s.Events {
		e.Result = ""
		if _, err := ctl.Step(e); err != nil {
			return nil, fmt.Errorf("report: the schedule no longer replays exactly: event %d (%s): %w", i+1, e, err)
		}
		states = append(states, interpose.CloneViews(sys.View().Nodes))
	}
	return states, nil
}

// senders replays the schedule once, as replayStates does, and returns, for
// each event, the event that sent its message (-1: none).
func senders(t *testing.T, target interpose.Target, s *interpose.Schedule) ([]int, error) {
	open := func() (*interpose.Controller, error) {
		sys, err := target.Open(t, s.Target)
		if err != nil {
			return nil, err
		}
		return interpose.NewController(sys, nil, s.Target), nil
	}
	applied, from, err := dpor.Causes(open, s.Events, true)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if len(applied) != len(s.Events) {
		return nil, fmt.Errorf("report: the schedule no longer replays exactly (%d of %d events applied)", len(applied), len(s.Events))
	}
	return from, nil
}
