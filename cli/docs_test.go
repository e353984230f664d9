package cli

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The documentation's links: README.md and docs/*.md must link only to files
// of the repository that exist, with #anchors that a heading of the target
// produces, and must not name the directory of notes beside the repository
// (outsideNotes), which its developers have and its users do not.

// outsideNotes is the developers' notes directory, outside the repository,
// spelled in two pieces so that this file does not name it either.
const outsideNotes = ".." + "/shared"

var (
	// mdLink is an inline link or image, [text](target "title").
	mdLink = regexp.MustCompile(`\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	// mdRefDef is a reference definition, [name]: target.
	mdRefDef = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:\s*(\S+)`)
	// mdHeading is an ATX heading.
	mdHeading = regexp.MustCompile(`^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$`)
	// htmlAnchor is an anchor written in HTML.
	htmlAnchor = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	// headingLink is a link inside a heading: its text is what counts.
	headingLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// anchorOf is GitHub's anchor for a heading's text: lowercased, spaces to
// '-', every other character that is not a letter, digit, '-' or '_'
// dropped (markup such as backticks included).
func anchorOf(heading string) string {
	heading = headingLink.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdDoc is a Markdown file's text outside fenced code blocks, and the
// anchors its headings produce.
type mdDoc struct {
	prose   string
	anchors map[string]bool
}

func readMarkdown(t *testing.T, path string) mdDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := mdDoc{anchors: map[string]bool{}}
	seen := map[string]int{}
	var prose strings.Builder
	fence := ""
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" ") == "" {
				fence = ""
			}
			prose.WriteString("\n")
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			prose.WriteString("\n")
			continue
		}
		prose.WriteString(line + "\n")
		if m := mdHeading.FindStringSubmatch(line); m != nil {
			a := anchorOf(m[2])
			if n := seen[a]; n > 0 {
				seen[a]++
				a += "-" + strconv.Itoa(n)
			} else {
				seen[a] = 1
			}
			doc.anchors[a] = true
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			doc.anchors[m[1]] = true
		}
	}
	doc.prose = prose.String()
	return doc
}

// TestDocsLinks checks every link of README.md and docs/*.md.
func TestDocsLinks(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no docs/*.md")
	}
	files := append([]string{filepath.Join(root, "README.md")}, pages...)
	docs := map[string]mdDoc{}
	doc := func(path string) mdDoc {
		d, ok := docs[path]
		if !ok {
			d = readMarkdown(t, path)
			docs[path] = d
		}
		return d
	}
	linked := map[string]bool{}
	for _, file := range files {
		rel, _ := filepath.Rel(root, file)
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), outsideNotes) {
			t.Errorf("%s names %s, which is not part of the repository", rel, outsideNotes)
		}
		d := doc(file)
		var targets []string
		for _, m := range mdLink.FindAllStringSubmatch(d.prose, -1) {
			targets = append(targets, m[1])
		}
		for _, m := range mdRefDef.FindAllStringSubmatch(d.prose, -1) {
			targets = append(targets, m[1])
		}
		for _, target := range targets {
			if u, err := url.Parse(target); err == nil && u.Scheme != "" {
				continue // a web address
			}
			path, frag, _ := strings.Cut(target, "#")
			path, err := url.PathUnescape(path)
			if err != nil {
				t.Errorf("%s: link %q: %v", rel, target, err)
				continue
			}
			dest := file
			if path != "" {
				if filepath.IsAbs(path) || strings.HasPrefix(path, "/") {
					t.Errorf("%s: link %q: want a path relative to the page", rel, target)
					continue
				}
				dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
				if r, err := filepath.Rel(root, dest); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
					t.Errorf("%s: link %q leads out of the repository", rel, target)
					continue
				}
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: no such file in the repository", rel, target)
					continue
				}
			}
			linked[dest] = true
			if frag == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			if !doc(dest).anchors[frag] {
				destRel, _ := filepath.Rel(root, dest)
				t.Errorf("%s: link %q: no heading of %s makes the anchor #%s", rel, target, destRel, frag)
			}
		}
	}
	for _, p := range pages {
		if !linked[p] {
			rel, _ := filepath.Rel(root, p)
			t.Errorf("nothing in README.md or docs/ links to %s", rel)
		}
	}
}

// TestDocsAnchorRule pins anchorOf to anchors GitHub makes.
func TestDocsAnchorRule(t *testing.T) {
	for heading, want := range map[string]string{
		"Fuzz from `go test`": "fuzz-from-go-test",
		"DEMi's seven Raft bugs, on faultline's actor runtime":                         "demis-seven-raft-bugs-on-faultlines-actor-runtime",
		"A heartbeat bumps the term under a running leader loop: hashicorp/raft#695":   "a-heartbeat-bumps-the-term-under-a-running-leader-loop-hashicorpraft695",
		"A stale InstallSnapshot rolls a follower back: hashicorp/raft#85, #697":       "a-stale-installsnapshot-rolls-a-follower-back-hashicorpraft85-697",
		"Settled: stale entries below an installed snapshot (a false positive, fixed)": "settled-stale-entries-below-an-installed-snapshot-a-false-positive-fixed",
		"`faultline campaign`":       "faultline-campaign",
		"snake_case and a [link](x)": "snake_case-and-a-link",
	} {
		if got := anchorOf(heading); got != want {
			t.Errorf("anchorOf(%q) = %q, want %q", heading, got, want)
		}
	}
}
