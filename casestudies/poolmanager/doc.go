// Package poolmanager is a failover case study after Coyote's testing of
// Azure Batch's PoolManager, much smaller than the real service but with
// its structure: a pool manager that keeps every pool's progress in a
// storage service with ETags and must resume after being killed at any
// point, over three mocks whose failures the fuzzer controls (controlled
// choices, interpose/actor's Context.Choose): the storage service (a
// write may fail, or fail after it was done), an idempotent deployment
// service (an allocation may fail, or fail after it was done) and a
// scheduler.
//
// Node 1 is the pool manager, node 2 the storage, node 3 the deployment
// service, node 4 the scheduler. A failover is a crash of node 1 and its
// recovery: it reads every row and resumes what was in flight. The mocks
// keep what they hold in their durable stores.
//
// Safety, at every check (actor.Program.Invariants): every deployment the
// service holds belongs to a pool (NoRogueDeployment); every pool's row
// lists deployments the service allocated, each once, and its size is
// theirs (PoolVMsAllocated); the service never holds more VMs than the
// quota (QuotaNotExceeded). Program(Correct) is correct; each of Bugs
// injects a failover bug (Describe says which).
package poolmanager
