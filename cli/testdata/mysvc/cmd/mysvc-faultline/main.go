// Command mysvc-faultline is faultline's command line for the bank: every
// command of faultline, with the bank as one more target.
package main

import (
	"fmt"

	"github.com/hashicorp/raft"

	"example.com/mysvc"
	"github.com/faultline-dev/faultline/cli"
	"github.com/faultline-dev/faultline/fuzz"
	"github.com/faultline-dev/faultline/interpose/hraft"
)

func main() {
	bank := hraft.NewTarget("bank", "", hraft.Options{
		NewFSM: func(int) raft.FSM { return mysvc.New() },
		Invariants: []hraft.Invariant{{Name: "MoneyIsConserved", Check: func(fsms []raft.FSM) error {
			for i, f := range fsms {
				if b, ok := f.(*mysvc.Bank); ok && b.Total() != 300 {
					return fmt.Errorf("n%d holds %d in total", i+1, b.Total())
				}
			}
			return nil
		}}},
	})
	// The client operations the fuzzer sends: transfers.
	cli.Main(fuzz.WithWorkload(bank, &fuzz.Workload{Clients: []string{"a,b,10", "b,c,5", "c,a,7"}}))
}
