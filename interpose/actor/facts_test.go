package actor_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/interpose"
	"github.com/faultline-dev/faultline/interpose/actor"
	"github.com/faultline-dev/faultline/invariants"
	"github.com/faultline-dev/faultline/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// token is a tiny system that is not Raft: a token goes round the nodes.
// The holder arms its Pass timer; when the timer fires it hands the token
// to the next node. Each node publishes three facts of its own.
type token struct {
	held        bool
	hop, passes int
}

// hand carries the token and how many hops it has made.
type hand struct{ hop int }

func (h hand) Type() string { return "Token" }
func (h hand) Key() string  { return "hop=" + strconv.Itoa(h.hop) }

func (k *token) Init(ctx *actor.Context) {
	if v, ok := ctx.Load("passes"); ok {
		k.passes = v.(int)
	}
	if _, started := ctx.Load("started"); !started && ctx.Self() == 1 {
		k.held = true // the first node makes the token
		ctx.SetTimer("Pass")
	}
	ctx.Store("started", true)
}

func (k *token) Receive(ctx *actor.Context, from int, m actor.Message) {
	switch m := m.(type) {
	case hand:
		k.held, k.hop = true, m.hop
		ctx.SetTimer("Pass")
	case actor.Timer:
		k.held = false
		k.passes++
		ctx.Store("passes", k.passes)
		ctx.Send(ctx.Self()%ctx.Nodes()+1, hand{k.hop + 1})
	}
}

// Facts implements actor.Publisher with a plain list; its first fact reads
// alone as the node's headline.
func (k *token) Facts() interpose.Facts {
	state := "away"
	if k.held {
		state = "held"
	}
	return interpose.FactList{
		{Name: "token", Value: state},
		{Name: "hop", Value: strconv.Itoa(k.hop)},
		{Name: "passes", Value: strconv.Itoa(k.passes)},
	}
}

func tokenTarget() *actor.Target {
	return actor.NewTarget("token", "", actor.Program{New: func(int, int) actor.Process { return &token{} }})
}

// TestPublishedFacts records a schedule of the token system and renders
// it: the final state that `faultline show` prints and the JSON report's
// states are the nodes' own facts, which faultline renders without knowing
// what they mean; the Raft invariants find no Raft node to check.
func TestPublishedFacts(t *testing.T) {
	tg := tokenTarget()
	spec := tg.Spec(3, 1)
	sys, err := tg.Open(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	ctl := interpose.NewController(sys, invariants.NewRaft(), spec)
	for _, ev := range []interpose.Event{
		{Kind: interpose.Start, Node: 1},
		{Kind: interpose.Start, Node: 2},
		{Kind: interpose.Start, Node: 3},
		{Kind: interpose.Advance, Node: 1},
		{Kind: interpose.Deliver, Msg: &interpose.Msg{Type: "Token", From: 1, To: 2, Key: "hop=1"}},
		{Kind: interpose.Deliver, Msg: &interpose.Msg{Type: "Pass", From: 2, To: 2, Key: "timer"}},
		{Kind: interpose.Crash, Node: 3},
	} {
		if _, err := ctl.Step(ev); err != nil {
			t.Fatalf("%v: %v", ev, err)
		}
	}
	if v := ctl.Violation(); v != nil {
		t.Fatalf("the Raft invariants saw %v in a system that is not Raft", v)
	}
	s := ctl.Schedule()
	var text, js bytes.Buffer
	if err := report.Text(&text, "token.json", s); err != nil {
		t.Fatal(err)
	}
	if err := report.JSON(&js, t, tg, s); err != nil {
		t.Fatal(err)
	}
	golden(t, "token.txt", text.Bytes())
	golden(t, "token.report.json", js.Bytes())
	data, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"token": "away"`, `"hop": "1"`, `"passes": "1"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the schedule file lacks %s:\n%s", want, data)
		}
	}
	back, err := interpose.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Final[1].String(), "n2 up: token away, hop 1, passes 1"; got != want {
		t.Errorf("n2 read back as %q; want %q", got, want)
	}
	if _, ok := interpose.RaftOf(s.Final[0]); ok {
		t.Error("a token node reads as a Raft node")
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (rerun with -update to accept):\n%s", path, got)
	}
}
