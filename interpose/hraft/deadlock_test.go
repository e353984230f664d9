package hraft

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"
)

// TestBlockedIn: a bubble whose main function returns while a goroutine of
// it stays blocked makes synctest panic with "deadlock"; the error a node
// reports then names the goroutine left blocked and its state.
func TestBlockedIn(t *testing.T) {
	var bubble string
	var got string
	func() {
		defer func() {
			if r := recover(); r != nil {
				got = fmt.Sprint(r) + blockedIn(blockedFrames(bubble))
			}
		}()
		synctest.Test(t, func(t *testing.T) {
			bubble = bubbleOf()
			r, _ := io.Pipe()
			go io.ReadAll(r) // blocks for ever: nobody writes
		})
	}()
	if !strings.HasPrefix(bubble, "synctest bubble ") {
		t.Fatalf("bubbleOf() = %q", bubble)
	}
	if !strings.Contains(got, "deadlock") || !strings.Contains(got, "blocked in it: io.(*pipe).read [select (durable)]") {
		t.Errorf("got %q", got)
	}
	if bubbleOf() != "" {
		t.Error("bubbleOf outside a bubble names one")
	}
}
