package campaign

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Snapshot is what a running campaign says about itself, written next to
// its store about once a second, for the commands that cannot open the
// store while it runs.
type Snapshot struct {
	Config     Config      `json:"config"`
	Stats      Stats       `json:"stats"`
	Violations []Violation `json:"violations"`
	// Running is set while the campaign runs; PID is its process.
	Running bool `json:"running"`
	PID     int  `json:"pid,omitempty"`
	// Workers is the number of worker processes.
	Workers int `json:"workers,omitempty"`
	// Last is the ID of the violation found last ("" for none).
	Last string `json:"last,omitempty"`
	// Frontier and Holes say which runs are done: every run of the
	// shard below Frontier except those in Holes (ranges left by pieces in
	// flight when a session ended). A running campaign leaves them out.
	Frontier int     `json:"frontier"`
	Holes    []Range `json:"holes,omitempty"`
}

// snapshotFile is the snapshot's name in a campaign directory.
const snapshotFile = "status.json"

// Snapshot makes the snapshot of the store's contents (Running unset),
// with which runs are done.
func (s *Store) Snapshot() (Snapshot, error) {
	sn, err := s.Summary()
	if err != nil {
		return sn, err
	}
	p, err := s.Plan()
	if err != nil {
		return sn, err
	}
	sn.Frontier, sn.Holes = p.Frontier(), p.Holes()
	return sn, nil
}

// Summary is Snapshot without which runs are done, which takes reading
// every piece: what a running campaign writes every second.
func (s *Store) Summary() (Snapshot, error) {
	var sn Snapshot
	var err error
	if sn.Config, err = s.Config(); err != nil {
		return sn, err
	}
	if sn.Stats, err = s.Stats(); err != nil {
		return sn, err
	}
	if sn.Violations, err = s.Violations(); err != nil {
		return sn, err
	}
	sn.Violations = append([]Violation{}, sn.Violations...)
	return sn, nil
}

// WriteSnapshot writes sn into the campaign directory dir, atomically.
func WriteSnapshot(dir string, sn Snapshot) error {
	data, err := json.MarshalIndent(sn, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, snapshotFile), data); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	return nil
}

// ReadSnapshot reads the snapshot a campaign in dir wrote last.
func ReadSnapshot(dir string) (Snapshot, error) {
	var sn Snapshot
	data, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	if err != nil {
		return sn, fmt.Errorf("%s: %w", dir, ErrNoCampaign)
	}
	if err := json.Unmarshal(data, &sn); err != nil {
		return sn, fmt.Errorf("%s: damaged status file: %w", dir, err)
	}
	return sn, nil
}
