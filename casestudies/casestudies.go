package casestudies

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

// Study is a named target.
type Study struct {
	Name string `json:"name"`
	// Summary says what the target is, on one line.
	Summary string `json:"summary"`
	// Bug names the injected bug ("" for a correct system).
	Bug string `json:"bug,omitempty"`
	// Expect is the invariant a fuzz campaign should break ("" for none).
	Expect string `json:"expect,omitempty"`
	// Nodes is the default cluster size.
	Nodes  int              `json:"nodes"`
	Target interpose.Target `json:"-"`
}

var studies = []Study{
	{
		Name:    "hraft",
		Summary: "hashicorp/raft v1.8.0, unmodified, heartbeats on the fast path as NetworkTransport does; snapshots on",
		Expect:  "LogMatching (rare: hashicorp/raft#695)",
		Nodes:   3,
		Target:  hraft.NewTarget("hraft", "", hraft.Options{}),
	},
	{
		Name:    "hraft-serial",
		Summary: "hraft with heartbeats through raft's main loop instead of the fast path (closes hashicorp/raft#695)",
		Nodes:   3,
		Target:  hraft.NewTarget("hraft-serial", "", hraft.Options{SerialHeartbeats: true}),
	},
	{
		Name:    "hraft-forgetful",
		Summary: "hraft whose StableStore loses CurrentTerm and the vote when its node restarts",
		Bug:     "forgetful-stable-store",
		Expect:  "ElectionSafety",
		Nodes:   3,
		Target: hraft.NewTarget("hraft-forgetful", "forgetful-stable-store", hraft.Options{
			NewStableStore: func(int) (raft.StableStore, error) { return NewForgetfulStore(), nil },
		}),
	},
	{
		Name:    "hraft-fulldisk",
		Summary: "hraft whose StableStore's disk fills up after 12 writes; raft panics in its own goroutine",
		Bug:     "full-disk-stable-store",
		Expect:  "NoPanic (a crash, caught by the worker process)",
		Nodes:   3,
		Target: hraft.NewTarget("hraft-fulldisk", "full-disk-stable-store", hraft.Options{
			NewStableStore: func(int) (raft.StableStore, error) { return NewFullDiskStore(12), nil },
		}),
	},
}

// All returns every case study, by name.
func All() []Study {
	out := append([]Study(nil), studies...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

//go:embed testdata/*.min.json
var minimal embed.FS

// Minimal returns the hand-made minimal reproduction of the bug a study's
// target shows, the yardstick for the minimizer: the shortest schedule a
// person found. It is an error when the study has none.
func Minimal(name string) (*interpose.Schedule, error) {
	data, err := minimal.ReadFile("testdata/" + name + ".min.json")
	if err != nil {
		return nil, fmt.Errorf("%s has no hand-made minimal schedule", name)
	}
	return interpose.Decode(bytes.NewReader(data))
}

// Lookup returns the study called name, or an error that lists the known ones.
func Lookup(name string) (Study, error) {
	for _, s := range studies {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, 0, len(studies))
	for _, s := range All() {
		names = append(names, s.Name)
	}
	return Study{}, fmt.Errorf("unknown target %q (known: %s)", name, strings.Join(names, ", "))
}
