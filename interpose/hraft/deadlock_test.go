package hraft

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
)

// leaked blocks for ever on a channel nobody sends on.
func leaked(ch chan int) { <-ch }

// TestBlockedIn: a bubble whose main function returns while a goroutine of
// it stays blocked makes synctest panic with "deadlock"; the error a node
// reports then names the goroutine left blocked and its state.
func TestBlockedIn(t *testing.T) {
	var bubble string
	var got string
	func() {
		defer func() {
			if r := recover(); r != nil {
				got = fmt.Sprint(r) + blockedIn(bubble)
			}
		}()
		synctest.Test(t, func(t *testing.T) {
			bubble = bubbleOf()
			go leaked(make(chan int))
		})
	}()
	if !strings.HasPrefix(bubble, "synctest bubble ") {
		t.Fatalf("bubbleOf() = %q", bubble)
	}
	if !strings.Contains(got, "deadlock") || !strings.Contains(got, "blocked in it: github.com/faultline-dev/faultline/interpose/hraft.leaked [chan receive (durable)]") {
		t.Errorf("got %q", got)
	}
	if bubbleOf() != "" {
		t.Error("bubbleOf outside a bubble names one")
	}
}
