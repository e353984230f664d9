package bisect

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/faultline-dev/faultline/interpose/hraft"
)

// RaftModule is the module path of hashicorp/raft.
const RaftModule = "github.com/hashicorp/raft"

// published lists the hashicorp/raft releases since v1.1.0 known to be
// published, oldest first: the module proxy serves each of them, though
// its list of versions (go list -m -versions) named only four of them when
// this was written. Releases the proxy lists are added to these.
var published = []string{
	"v1.1.0", "v1.1.1", "v1.1.2", "v1.2.0",
	"v1.3.0", "v1.3.1", "v1.3.2", "v1.3.3", "v1.3.4", "v1.3.5", "v1.3.6",
	"v1.3.7", "v1.3.8", "v1.3.9", "v1.3.10", "v1.3.11",
	"v1.4.0", "v1.5.0", "v1.6.0", "v1.6.1",
	"v1.7.0", "v1.7.1", "v1.7.2", "v1.7.3", "v1.8.0",
}

// Range is a span of releases, both ends included; an empty end is open.
type Range struct{ From, To string }

// ParseRange parses "v1.1.0..v1.8.0", "v1.3.0.." (to the newest),
// "..v1.5.0" (from the oldest), a single release "v1.3.10", or "" (every
// release).
func ParseRange(s string) (Range, error) {
	from, to, found := strings.Cut(s, "..")
	if !found {
		to = from
	}
	r := Range{From: strings.TrimSpace(from), To: strings.TrimSpace(to)}
	for _, v := range []string{r.From, r.To} {
		if v != "" && (!semver.IsValid(v) || semver.Canonical(v) != v) {
			return Range{}, fmt.Errorf("%w: release %q: want a version such as v1.3.10", ErrInput, v)
		}
	}
	if r.From != "" && r.To != "" && semver.Compare(r.From, r.To) > 0 {
		return Range{}, fmt.Errorf("%w: range %s is in the wrong order: write %s..%s", ErrInput, s, r.To, r.From)
	}
	return r, nil
}

func (r Range) String() string {
	if r.From == r.To && r.From != "" {
		return r.From
	}
	return r.From + ".." + r.To
}

// releases returns the releases in r, oldest first: the published ones and
// those the proxy lists, from v1.1.0 (the oldest the adapter builds
// against), without pre-releases. An end of r that is no release is an
// error wrapping ErrInput.
func (b *builder) releases(ctx context.Context, r Range) ([]string, error) {
	all := slices.Clone(published)
	if out, err := b.goCmd(ctx, "list", "-m", "-versions", "-json", RaftModule); err == nil {
		var m struct{ Versions []string }
		if json.Unmarshal(out, &m) == nil {
			all = append(all, m.Versions...)
		}
	}
	oldest := hraft.Generations[len(hraft.Generations)-1].From
	all = slices.DeleteFunc(all, func(v string) bool {
		return !semver.IsValid(v) || semver.Prerelease(v) != "" || semver.Compare(v, oldest) < 0
	})
	for _, end := range []string{r.From, r.To} {
		if end == "" || slices.Contains(all, end) {
			continue
		}
		if semver.Compare(end, oldest) < 0 {
			return nil, fmt.Errorf("%w: hashicorp/raft %s is older than %s, the oldest release faultline builds against", ErrInput, end, oldest)
		}
		if _, err := b.download(ctx, end); err != nil {
			return nil, fmt.Errorf("%w: no release %s of %s: %v", ErrInput, end, RaftModule, err)
		}
		all = append(all, end)
	}
	slices.SortFunc(all, semver.Compare)
	all = slices.Compact(all)
	return slices.DeleteFunc(all, func(v string) bool {
		return r.From != "" && semver.Compare(v, r.From) < 0 || r.To != "" && semver.Compare(v, r.To) > 0
	}), nil
}
