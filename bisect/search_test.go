package bisect

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestSearch bisects made-up answers: which releases it tests, and what it
// concludes.
func TestSearch(t *testing.T) {
	versions := []string{"v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0", "v1.5.0", "v1.6.0", "v1.7.0", "v1.8.0"}
	for _, c := range []struct {
		name       string
		shows      string // one letter a release, oldest first: y shows, n not, x does not build
		all        bool
		tested     []string
		firstShows string
		firstFixed string
		changes    int
	}{
		{"came in", "nnnnyyyy", false, []string{"v1.8.0", "v1.1.0", "v1.4.0", "v1.6.0", "v1.5.0"}, "v1.5.0", "", 1},
		{"went out", "yyynnnnn", false, []string{"v1.8.0", "v1.1.0", "v1.4.0", "v1.2.0", "v1.3.0"}, "v1.1.0", "v1.4.0", 1},
		{"every release", "yyyyyyyy", false, []string{"v1.8.0", "v1.1.0"}, "v1.1.0", "", 0},
		{"no release", "nnnnnnnn", false, []string{"v1.8.0", "v1.1.0"}, "", "", 0},
		{"oldest does not build", "xnnnyyyy", false, []string{"v1.8.0", "v1.1.0", "v1.2.0", "v1.5.0", "v1.3.0", "v1.4.0"}, "v1.5.0", "", 1},
		{"the middle does not build", "nnnxxyyy", false, []string{"v1.8.0", "v1.1.0", "v1.4.0", "v1.3.0", "v1.5.0", "v1.6.0"}, "v1.6.0", "", 1},
		{"nothing builds", "xxxxxxxx", false, []string{"v1.8.0", "v1.7.0", "v1.6.0", "v1.5.0", "v1.4.0", "v1.3.0", "v1.2.0", "v1.1.0"}, "", "", 0},
		{"in and out, bisected", "nnyynnnn", false, []string{"v1.8.0", "v1.1.0"}, "", "", 0},
		{"in and out, all", "nnyynnnn", true, []string{"v1.8.0", "v1.7.0", "v1.6.0", "v1.5.0", "v1.4.0", "v1.3.0", "v1.2.0", "v1.1.0"}, "v1.3.0", "v1.5.0", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := make([]Row, len(versions))
			for i, v := range versions {
				rows[i].Release = v
			}
			var tested []string
			tr := &tester{opts: Options{All: c.all}, rep: &Report{}, rows: rows,
				probe: func(_ context.Context, row *Row) error {
					tested = append(tested, row.Release)
					switch c.shows[slices.Index(versions, row.Release)] {
					case 'x':
						return errors.New("did not build")
					case 'y':
						row.Shows = true
					}
					return nil
				}}
			if err := tr.search(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tested, c.tested) {
				t.Errorf("tested %v, want %v", tested, c.tested)
			}
			ch, first, fixed := changes(rows)
			if first != c.firstShows || fixed != c.firstFixed || len(ch) != c.changes {
				t.Errorf("first shows %q, first fixed %q, %d changes %v; want %q, %q, %d", first, fixed, len(ch), ch, c.firstShows, c.firstFixed, c.changes)
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Range
		bad  bool
	}{
		{"", Range{}, false},
		{"v1.1.0..v1.8.0", Range{"v1.1.0", "v1.8.0"}, false},
		{"v1.3.0..", Range{From: "v1.3.0"}, false},
		{"..v1.5.0", Range{To: "v1.5.0"}, false},
		{"v1.3.10", Range{"v1.3.10", "v1.3.10"}, false},
		{"v1.8.0..v1.1.0", Range{}, true},
		{"1.3.0..v1.8.0", Range{}, true},
		{"v1.3..v1.8.0", Range{}, true},
		{"latest", Range{}, true},
	} {
		got, err := ParseRange(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseRange(%q) = %+v, %v; want %+v (error: %v)", c.in, got, err, c.want, c.bad)
		}
		if err != nil && !errors.Is(err, ErrInput) {
			t.Errorf("ParseRange(%q): %v does not wrap ErrInput", c.in, err)
		}
	}
}
