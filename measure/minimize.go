package measure

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/faultline-dev/faultline/campaign"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose"
)

// MinimizeRow is one seed's long failure, minimized.
type MinimizeRow struct {
	Seed       uint64  `json:"seed"`
	Input      int     `json:"input_events"`
	Externals  int     `json:"input_externals"`
	Full       int     `json:"minimized_events"`
	FullExt    int     `json:"minimized_externals"`
	Replays    int     `json:"replays"`
	Seconds    float64 `json:"elapsed_s"`
	Reproduced int     `json:"reproduced"`
	Runs       int     `json:"runs"`
	Searches   int     `json:"dpor_searches"`
	Found      int     `json:"dpor_found"`
	ExtOnly    int     `json:"externals_only_events,omitempty"`
	ExtOnlyS   float64 `json:"externals_only_s,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// MinimizeOptions configure Minimize. The zero value makes failures of
// 2,000 events checked at their end, minimized for two minutes with the
// minimizer's defaults, with every phase only.
type MinimizeOptions struct {
	Seeds []uint64
	// Events and CheckEvery make the long failures (0: 2,000 each).
	Events, CheckEvery int
	// Replays and DPOR are the minimizer's (0: its defaults).
	Replays, DPOR int
	// Budget bounds each minimization (0: 2 minutes).
	Budget time.Duration
	// Compare also minimizes each failure with ddmin over external events
	// only, DEMi's first phase.
	Compare bool
	// Progress, if set, receives a line per seed.
	Progress io.Writer
}

// Minimize fuzzes each seed until a long failure and minimizes it (twice
// with Compare), everything in w's worker processes.
func Minimize(w *campaign.Workers, target interpose.Target, o MinimizeOptions) ([]MinimizeRow, error) {
	if w.Command == nil {
		return nil, fmt.Errorf("measure minimize %w", campaign.ErrNoWorkers)
	}
	if o.Events <= 0 {
		o.Events = 2000
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = 2000
	}
	if o.Budget <= 0 {
		o.Budget = 2 * time.Minute
	}
	dir, err := campaign.MkdirTemp("faultline-measure-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var rows []MinimizeRow
	for _, seed := range o.Seeds {
		row := minimizeOne(w, target, dir, seed, o)
		rows = append(rows, row)
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "seed %d: %d -> %d events in %.1fs\n", seed, row.Input, row.Full, row.Seconds)
		}
	}
	return rows, nil
}

// minimizeOne fuzzes one seed and minimizes its first violation.
func minimizeOne(w *campaign.Workers, target interpose.Target, dir string, seed uint64, o MinimizeOptions) MinimizeRow {
	row := MinimizeRow{Seed: seed}
	opts := fuzz.ApplyWorkload(target, fuzz.Options{Seed: seed, Events: o.Events, CheckEvery: o.CheckEvery, Runs: 1000,
		NoLiveness: true, // the committed tables measure safety violations, without a phase
		Out:        filepath.Join(dir, fmt.Sprintf("seed%d", seed))})
	fr, err := w.Fuzz(target, opts)
	if err != nil || len(fr.Violations) == 0 || fr.Violations[0].Schedule == "" {
		row.Error = "no violation to minimize"
		if err != nil {
			row.Error += ": " + err.Error()
		}
		return row
	}
	in := fr.Violations[0].Schedule
	row.Input = fr.Violations[0].Events
	s, err := interpose.ReadFile(in)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	row.Externals = s.Externals()
	modes := []bool{false}
	if o.Compare {
		modes = append(modes, true)
	}
	for _, extOnly := range modes {
		mr, _, err := w.Minimize(target, in, s, campaign.MinimizeJob{Budget: o.Budget, Replays: o.Replays, DPOR: o.DPOR,
			ExternalsOnly: extOnly, Out: filepath.Join(dir, fmt.Sprintf("seed%d-%v.min.json", seed, extOnly))})
		if err != nil {
			row.Error = "minimize: " + err.Error()
			return row
		}
		if extOnly {
			row.ExtOnly, row.ExtOnlyS = mr.MinimizedEvents, mr.ElapsedS
		} else {
			row.Full, row.FullExt, row.Replays, row.Seconds = mr.MinimizedEvents, mr.MinimizedExternals, mr.Replays, mr.ElapsedS
			row.Reproduced, row.Runs = mr.Reproduced, mr.Runs
			row.Searches, row.Found = mr.DPORSearches, mr.DPORFound
		}
	}
	return row
}

// WriteMinimize writes the rows as results/minimize-*.txt holds them.
func WriteMinimize(w io.Writer, command, target string, rows []MinimizeRow, compare bool) error {
	fmt.Fprintf(w, "$ %s\n\n", command)
	t := tablewriter.NewWriter(w)
	header := []any{"seed", "input (ext)", "minimized (ext)", "replays", "seconds", "reproduced", "dpor found/searches"}
	if compare {
		header = append(header, "externals only", "seconds")
	}
	t.Header(header...)
	var in, full, reps, secs, ext, extS []float64
	for _, r := range rows {
		cells := []any{strconv.FormatUint(r.Seed, 10), r.Error, "", "", "", "", ""}
		if r.Error == "" {
			cells = []any{strconv.FormatUint(r.Seed, 10), fmt.Sprintf("%d (%d)", r.Input, r.Externals),
				fmt.Sprintf("%d (%d)", r.Full, r.FullExt), strconv.Itoa(r.Replays), fmt.Sprintf("%.1f", r.Seconds),
				fmt.Sprintf("%d/%d", r.Reproduced, r.Runs), fmt.Sprintf("%d/%d", r.Found, r.Searches)}
			in, full = append(in, float64(r.Input)), append(full, float64(r.Full))
			reps, secs = append(reps, float64(r.Replays)), append(secs, r.Seconds)
			ext, extS = append(ext, float64(r.ExtOnly)), append(extS, r.ExtOnlyS)
		}
		if compare {
			if r.Error == "" {
				cells = append(cells, strconv.Itoa(r.ExtOnly), fmt.Sprintf("%.1f", r.ExtOnlyS))
			} else {
				cells = append(cells, "", "")
			}
		}
		if err := t.Append(cells...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s, medians over %d failures: %.0f -> %.0f events, %.0f replays, %.1f s",
		target, len(full), fuzz.Median(in), fuzz.Median(full), fuzz.Median(reps), fuzz.Median(secs))
	if compare {
		fmt.Fprintf(w, "; externals only: %.0f events, %.1f s", fuzz.Median(ext), fuzz.Median(extS))
	}
	fmt.Fprintln(w)
	return nil
}
