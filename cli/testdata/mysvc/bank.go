// Package mysvc is a service of your own: accounts whose total never
// changes, replicated with hashicorp/raft. A command "from,to,amount"
// moves money between two accounts. Its Apply has a bug that faultline's
// test of cli.Main finds: a transfer out of account c credits one more
// than it debits.
package mysvc

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/raft"
)

// Bank is the state machine.
type Bank struct {
	mu       sync.Mutex
	accounts map[string]int
}

// New returns a bank with 100 in each of a, b and c.
func New() *Bank { return &Bank{accounts: map[string]int{"a": 100, "b": 100, "c": 100}} }

// Apply moves money.
func (b *Bank) Apply(l *raft.Log) any {
	parts := strings.Split(string(l.Data), ",")
	if len(parts) != 3 {
		return fmt.Errorf("bad command %q", l.Data)
	}
	amount, err := strconv.Atoi(parts[2])
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts[parts[0]] -= amount
	if parts[0] == "c" {
		amount++ // the bug
	}
	b.accounts[parts[1]] += amount
	return nil
}

// Snapshot saves the accounts.
func (b *Bank) Snapshot() (raft.FSMSnapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, err := json.Marshal(b.accounts)
	return snapshot(data), err
}

// Restore loads them.
func (b *Bank) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	accounts := map[string]int{}
	if err := json.NewDecoder(rc).Decode(&accounts); err != nil {
		return err
	}
	b.mu.Lock()
	b.accounts = accounts
	b.mu.Unlock()
	return nil
}

// Total is the money in all accounts.
func (b *Bank) Total() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	sum := 0
	for _, v := range b.accounts {
		sum += v
	}
	return sum
}

type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (snapshot) Release() {}
