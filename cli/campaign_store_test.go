package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/campaign"
)

// makeStore makes a stopped campaign in dir through the store's API, as a
// short campaign leaves it: a few pieces, a violation found twice and
// minimized, with its schedule, minimized schedule and report. The first
// schedule is 2 MiB, more than badger keeps in its tables, so that the
// store has a value log. It returns the violation's ID.
func makeStore(t *testing.T, dir string) string {
	t.Helper()
	st, err := campaign.Open(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := campaign.Config{Target: "hraft-forgetful", Seed: 1, Chunk: 10, Strategy: "random",
		FuzzArgs: []string{"--target", "hraft-forgetful"}, MinimizeBudgetS: 5}
	if err := st.Init(cfg); err != nil {
		t.Fatal(err)
	}
	big := `{"version":1,"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	f := campaign.Finding{Fingerprint: "Agreement: x", Invariant: "Agreement", Run: 3, Count: 1, Events: 9, Schedule: []byte(big)}
	for i := range 5 {
		var found []campaign.Finding
		if i == 0 || i == 3 {
			found = []campaign.Finding{f}
		}
		if _, err := st.Record(campaign.Piece{First: i * 10, Count: 10, Events: 100, At: float64(i)}, found); err != nil {
			t.Fatal(err)
		}
	}
	id := campaign.ID(f.Fingerprint)
	if err := st.SetOutcome(id, campaign.Outcome{Status: campaign.Minimized, Events: 4, Minimized: []byte(`{"version":1}`),
		Report: []byte("# report\n")}); err != nil {
		t.Fatal(err)
	}
	sn, err := st.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := campaign.WriteSnapshot(dir, sn); err != nil {
		t.Fatal(err)
	}
	return id
}

// hashTree hashes every file under dir, by path relative to it.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			sums[rel+"/"] = "dir"
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(data)
		sums[rel] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// storeFile is the one file of the store whose name ends with suffix.
func storeFile(t *testing.T, dir, suffix string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "store", "*"+suffix))
	if len(m) != 1 {
		t.Fatalf("store files *%s: %v", suffix, m)
	}
	return m[0]
}

func truncateHalf(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// flip inverts 64 bytes in the middle of a file.
func flip(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mid := len(data)/2 - 32
	for i := mid; i < mid+64; i++ {
		data[i] ^= 0xff
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCampaignDamagedStore damages a campaign store in each way a disk or a
// person can, and checks that status, list, show and resume each refuse it
// with one line naming the file (exit 2, no panic trace) and leave every
// byte of the store as it was. The undamaged store shows that reading it
// changes nothing either.
func TestCampaignDamagedStore(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string // in the error line: the file named
	}{
		{"undamaged", func(*testing.T, string) {}, ""},
		{"MANIFEST removed", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "store", "MANIFEST")); err != nil {
				t.Fatal(err)
			}
		}, "MANIFEST: missing"},
		{"MANIFEST cut short", func(t *testing.T, dir string) {
			truncateHalf(t, filepath.Join(dir, "store", "MANIFEST"))
		}, "MANIFEST: cut short"},
		{"MANIFEST cut to its header", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, "store", "MANIFEST"), 8); err != nil {
				t.Fatal(err)
			}
		}, ".sst: not listed in"},
		{"table cut to half", func(t *testing.T, dir string) {
			truncateHalf(t, storeFile(t, dir, ".sst"))
		}, ".sst: unreadable"},
		{"64 bytes flipped in a table", func(t *testing.T, dir string) {
			flip(t, storeFile(t, dir, ".sst"))
		}, ".sst: corrupted"},
		{"table removed", func(t *testing.T, dir string) {
			if err := os.Remove(storeFile(t, dir, ".sst")); err != nil {
				t.Fatal(err)
			}
		}, ".sst: missing"},
		{"64 bytes flipped in the value log", func(t *testing.T, dir string) {
			flip(t, storeFile(t, dir, ".vlog"))
		}, ".vlog: the value of blob/"},
		{"value log cut to half", func(t *testing.T, dir string) {
			truncateHalf(t, storeFile(t, dir, ".vlog"))
		}, ".vlog: the value of blob/"},
		{"store directory removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "store")); err != nil {
				t.Fatal(err)
			}
		}, "store: missing (status.json says a campaign ran here)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			id := makeStore(t, dir)
			c.damage(t, dir)
			store := filepath.Join(dir, "store")
			before := hashTree(t, store)
			commands := [][]string{
				{"campaign", "status", "--dir", dir},
				{"campaign", "status", "--dir", dir, "--json"},
				{"campaign", "list", "--dir", dir},
				{"campaign", "show", "--dir", dir, id[:6]},
				{"campaign", "resume", "--dir", dir, "--time", "1s"},
			}
			if c.want == "" {
				commands = commands[:4] // resuming a store writes it, as it should
			}
			for _, args := range commands {
				code, out, stderr := cli(t, args...)
				for _, s := range []string{out, stderr} {
					if strings.Contains(s, "goroutine ") || strings.Contains(s, "panic:") {
						t.Errorf("%v: a panic reached the user:\n%s", args[1], s)
					}
				}
				if c.want == "" {
					if code != 0 || stderr != "" {
						t.Errorf("%v: exit %d, stderr %q", args[1:], code, stderr)
					}
					continue
				}
				if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
					t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", args[1:], code, stderr, c.want)
				}
			}
			if after := hashTree(t, store); !maps.Equal(before, after) {
				t.Errorf("the store changed:\nbefore %v\nafter  %v", before, after)
			}
			if c.want == "" {
				// show wrote the violation's files and names them.
				_, out, _ := cli(t, "campaign", "show", "--dir", dir, id)
				min := filepath.Join(dir, "violations", id, "minimized.json")
				if !strings.Contains(out, "replay:         faultline replay "+min) {
					t.Errorf("show:\n%s", out)
				}
				if data, err := os.ReadFile(filepath.Join(dir, "violations", id, "first.json")); err != nil || len(data) < 2<<20 {
					t.Errorf("first.json: %d bytes, %v", len(data), err)
				}
			}
		})
	}
}

// TestCampaignRefuses: start and resume refuse a directory that holds files
// but no campaign, and merge a directory into itself or a missing shard,
// each with one line, and none of them writes a file.
func TestCampaignRefuses(t *testing.T) {
	base := t.TempDir()
	notes := filepath.Join(base, "notes")
	if err := os.Mkdir(notes, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notes, "todo.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(base, "shard")
	makeStore(t, shard)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"start in someone's directory", []string{"campaign", "start", "--target", "hraft-forgetful", "--dir", notes},
			"not empty; start a campaign in a new or empty directory"},
		{"resume someone's directory", []string{"campaign", "resume", "--dir", notes}, notes + ": no campaign here"},
		{"status of a missing directory", []string{"campaign", "status", "--dir", filepath.Join(base, "nope")}, "no such directory"},
		{"merge into someone's directory", []string{"campaign", "merge", notes, shard}, "not empty"},
		{"merge a directory into itself", []string{"campaign", "merge", shard, shard}, shard + " is DST itself"},
		{"merge it through another path", []string{"campaign", "merge", shard, base + "/./shard/"}, "is DST itself"},
		{"merge a missing shard", []string{"campaign", "merge", filepath.Join(base, "all"), shard, filepath.Join(base, "nope")}, "no such directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, beforeShard := hashTree(t, notes), hashTree(t, shard)
			code, out, stderr := cli(t, c.args...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 2 and one line with %q", code, stderr, out, c.want)
			}
			if !maps.Equal(before, hashTree(t, notes)) || !maps.Equal(beforeShard, hashTree(t, shard)) {
				t.Error("a refused command changed a directory")
			}
			if _, err := os.Stat(filepath.Join(base, "all")); err == nil {
				t.Error("a refused merge made its DST")
			}
		})
	}
}
