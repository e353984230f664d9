package linked_test

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/internal/linked"
)

const raftPath = "github.com/hashicorp/raft"

func TestFrom(t *testing.T) {
	info := func(text string) *debug.BuildInfo {
		bi, err := debug.ParseBuildInfo(text)
		if err != nil {
			t.Fatal(err)
		}
		return bi
	}
	const head = "go\tgo1.26.8\npath\texample.com/bank\nmod\texample.com/bank\t(devel)\t\n"
	cache := "/root/go/pkg/mod/github.com/hashicorp/raft@v1.8.0/api.go"
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		file string
		want linked.Module
		str  string
	}{
		{"dependency", info(head + "dep\tgithub.com/hashicorp/raft\tv1.7.3\th1:x=\n"), true, cache,
			linked.Module{Version: "v1.7.3"}, "v1.7.3"},
		{"replaced by a module", info(head + "dep\tgithub.com/hashicorp/raft\tv1.8.0\t\n=>\tgithub.com/me/raft\tv1.8.1-fix\th1:y=\n"), true, cache,
			linked.Module{Version: "v1.8.1-fix", Replacement: "github.com/me/raft"}, "v1.8.1-fix (replaced by github.com/me/raft)"},
		{"replaced by another release of itself", info(head + "dep\tgithub.com/hashicorp/raft\tv1.8.0\t\n=>\tgithub.com/hashicorp/raft\tv1.3.10\th1:z=\n"), true, cache,
			linked.Module{Version: "v1.3.10"}, "v1.3.10"},
		{"replaced by a directory", info(head + "dep\tgithub.com/hashicorp/raft\tv1.8.0\t\n=>\t../raft\t\t\n"), true, "/home/me/raft/api.go",
			linked.Module{Replacement: "../raft"}, "(replaced by ../raft)"},
		{"test binary: no deps, module cache path", info(head), true, cache, linked.Module{Version: "v1.8.0"}, "v1.8.0"},
		{"no build info, trimmed path", nil, false, "github.com/hashicorp/raft@v1.9.0-!r!c1/api.go", linked.Module{Version: "v1.9.0-RC1"}, "v1.9.0-RC1"},
		{"another module's path", nil, false, "/root/go/pkg/mod/github.com/hashicorp/raft-boltdb@v2.0.0/bolt.go", linked.Module{}, ""},
		{"a directory", info(head), true, "/home/me/raft/api.go", linked.Module{}, ""},
		{"nothing", nil, false, "", linked.Module{}, ""},
	} {
		got := linked.From(c.bi, c.ok, raftPath, c.file)
		if got != c.want || got.String() != c.str {
			t.Errorf("%s: %+v (%q), want %+v (%q)", c.name, got, got.String(), c.want, c.str)
		}
	}
}

func TestFileOf(t *testing.T) {
	if f := linked.FileOf(linked.FileOf); !strings.HasSuffix(f, "internal/linked/linked.go") {
		t.Errorf("FileOf(FileOf) = %q", f)
	}
	var nilFunc func()
	for _, v := range []any{nil, 3, nilFunc} {
		if f := linked.FileOf(v); f != "" {
			t.Errorf("FileOf(%#v) = %q, want none", v, f)
		}
	}
}
