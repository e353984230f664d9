package interpose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Fact is one named fact about a node, as people and scripts read it: a
// name ("term") and a value rendered as text ("3").
type Fact struct {
	Name  string
	Value string
}

// Facts is what a node's adapter publishes about the node: a value of
// whatever type suits the adapter (a *RaftState for Raft, a FactList for a
// system that keeps it simple), listed as named facts only when a schedule
// is rendered or encoded. View runs after every event, so an adapter keeps a
// typed value there and leaves the formatting to AppendFacts; checks that
// know the system read the typed value (RaftOf).
type Facts interface {
	// AppendFacts appends the facts to dst and returns the extended slice.
	// Their order is the adapter's and stays the same from view to view
	// (renderings show them in that order); names are unique within a node.
	// A fact that does not apply is left out, not given an empty value.
	AppendFacts(dst []Fact) []Fact
}

// FactList is Facts as a plain list: what a view read from a schedule file
// holds, and the simplest value an adapter can publish.
type FactList []Fact

// AppendFacts implements Facts.
func (l FactList) AppendFacts(dst []Fact) []Fact { return append(dst, l...) }

// Headliner is implemented by Facts whose first few facts together say in
// one line what the node is (Raft: its role and term). Renderings use the
// headline where room is short: an event's result ("n1
// follower→candidate term 1"), a label in a drawing. Facts that do not
// implement it are headlined by their first fact.
type Headliner interface {
	// AppendHeadline appends the leading facts that make the headline,
	// as AppendFacts lists them, formatting no others: an adapter
	// describes the events that change a node's headline, which may be
	// many.
	AppendHeadline(dst []Fact) []Fact
}

// Cloner is implemented by Facts that can copy themselves, so that a view
// kept past the next call to View (NodeView.Clone) keeps its type. Facts
// that do not implement it are kept as a FactList.
type Cloner interface {
	CloneFacts() Facts
}

// NodeView is a node's state at a quiescent point: what every process has
// (its number and where it is in its life cycle) and the facts its adapter
// publishes, which mean something only to whoever knows the system.
//
// Like the rest of a View, Facts may point into the system's own storage
// and is valid until the next call to View; Clone returns a view that owns
// its facts. A schedule's Final views are owned.
type NodeView struct {
	Node    int
	Started bool
	Up      bool
	// Facts is what the node's adapter publishes, nil when nothing (a node
	// that never started, say).
	Facts Facts
}

// List returns the node's facts in order, nil when it publishes none.
func (v NodeView) List() []Fact {
	if v.Facts == nil {
		return nil
	}
	return v.Facts.AppendFacts(nil)
}

// Life says where the node is in its life cycle: "not started", "up" or
// "down".
func (v NodeView) Life() string {
	switch {
	case !v.Started:
		return "not started"
	case v.Up:
		return "up"
	}
	return "down"
}

// Clone returns a copy of v that owns its facts: still valid after the
// system's next View.
func (v NodeView) Clone() NodeView {
	switch f := v.Facts.(type) {
	case nil:
	case FactList:
		v.Facts = slices.Clone(f)
	case Cloner:
		v.Facts = f.CloneFacts()
	default:
		v.Facts = FactList(f.AppendFacts(nil))
	}
	return v
}

// CloneViews returns a copy of views whose facts are owned (Clone).
func CloneViews(views []NodeView) []NodeView {
	if views == nil {
		return nil
	}
	out := make([]NodeView, len(views))
	for i, v := range views {
		out[i] = v.Clone()
	}
	return out
}

// Equal reports whether two views show the same node in the same state:
// the same life cycle and the same facts, whatever their types.
func (v NodeView) Equal(o NodeView) bool {
	return v.Node == o.Node && v.Started == o.Started && v.Up == o.Up && slices.Equal(v.List(), o.List())
}

// String renders the view on one line, for people and test failures.
func (v NodeView) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "n%d %s", v.Node, v.Life())
	for i, f := range v.List() {
		if i == 0 {
			b.WriteString(":")
		} else {
			b.WriteString(",")
		}
		b.WriteString(" " + f.Name + " " + f.Value)
	}
	return b.String()
}

// headline returns the node's headline facts (Headliner), nil when it
// publishes none.
func (v NodeView) headline() []Fact {
	if h, ok := v.Facts.(Headliner); ok {
		return h.AppendHeadline(nil)
	}
	facts := v.List()
	return facts[:min(1, len(facts))]
}

// Headline says in one line what the node is: its first headline fact's
// value, then each other one as "name value" ("leader term 2"). A node that
// publishes nothing is headlined by its life cycle.
func (v NodeView) Headline() string {
	h := v.headline()
	if len(h) == 0 {
		return v.Life()
	}
	return headlineText(h, "")
}

func headlineText(h []Fact, from string) string {
	var b strings.Builder
	if from != "" {
		b.WriteString(from + "→")
	}
	b.WriteString(h[0].Value)
	for _, f := range h[1:] {
		b.WriteString(" " + f.Name + " " + f.Value)
	}
	return b.String()
}

// Change describes what an event did to a node, from its views before and
// after, for the event's result: "n1 follower→candidate term 1" when the
// headline changed, the first headline fact's old value shown only when
// the node was up before; "" when the node is not up after, or its
// headline stayed the same.
func Change(before, after NodeView) string {
	if !after.Up {
		return ""
	}
	ha := after.headline()
	if len(ha) == 0 {
		return ""
	}
	from := ""
	if before.Up {
		hb := before.headline()
		if slices.Equal(hb, ha) {
			return ""
		}
		if len(hb) > 0 && hb[0].Name == ha[0].Name && hb[0].Value != ha[0].Value {
			from = hb[0].Value
		}
	}
	return "n" + strconv.Itoa(after.Node) + " " + headlineText(ha, from)
}

// nodeViewJSON is a NodeView as schedule files (version 2) and JSON reports
// hold it: the facts are an object whose members keep their order.
type nodeViewJSON struct {
	Node    int      `json:"node"`
	Started bool     `json:"started"`
	Up      bool     `json:"up"`
	Facts   factsObj `json:"facts,omitempty"`
}

// MarshalJSON encodes the view with its facts as a JSON object in their
// order: {"node":1,"started":true,"up":true,"facts":{"role":"leader",...}}.
func (v NodeView) MarshalJSON() ([]byte, error) {
	return json.Marshal(nodeViewJSON{Node: v.Node, Started: v.Started, Up: v.Up, Facts: v.List()})
}

// UnmarshalJSON decodes what MarshalJSON encodes; the facts become a
// FactList. Unknown fields are an error, as everywhere in a schedule.
func (v *NodeView) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j nodeViewJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("node view: %w", err)
	}
	*v = NodeView{Node: j.Node, Started: j.Started, Up: j.Up}
	if j.Facts != nil {
		v.Facts = FactList(j.Facts)
	}
	return nil
}

// factsObj encodes facts as one JSON object, in order.
type factsObj []Fact

var errFacts = errors.New("facts")

func (fs factsObj) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, f := range fs {
		if slices.ContainsFunc(fs[:i], func(g Fact) bool { return g.Name == f.Name }) {
			return nil, fmt.Errorf("%w: %q twice", errFacts, f.Name)
		}
		if i > 0 {
			b = append(b, ',')
		}
		name, err := json.Marshal(f.Name)
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, name...), ':'), value...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a JSON object of facts in order. Values are strings
// as MarshalJSON writes them; a number or a boolean written by hand is kept
// as its text.
func (fs *factsObj) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*fs = nil
		return nil
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%w: want an object of named facts", errFacts)
	}
	out := factsObj{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name := tok.(string) // object keys are strings
		tok, err = dec.Token()
		if err != nil {
			return err
		}
		var value string
		switch t := tok.(type) {
		case string:
			value = t
		case json.Number:
			value = t.String()
		case bool:
			value = strconv.FormatBool(t)
		default:
			return fmt.Errorf("%w: %q is not a string, number or boolean", errFacts, name)
		}
		if slices.ContainsFunc(out, func(g Fact) bool { return g.Name == name }) {
			return fmt.Errorf("%w: %q twice", errFacts, name)
		}
		out = append(out, Fact{Name: name, Value: value})
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	*fs = out
	return nil
}
