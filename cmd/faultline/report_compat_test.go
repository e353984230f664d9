package main

import (
	"io"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/report"
)

// The renderers that need no replay live in package report; these are the
// names this package's tests (report_test.go, unchanged since the move) know
// them by.

type reportEnv = report.Env

func mermaid(w io.Writer, s *interpose.Schedule) error { return report.Mermaid(w, s) }

func heartbeats(events []interpose.Event, i int) int { return report.Heartbeats(events, i) }
