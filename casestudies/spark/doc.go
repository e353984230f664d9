// Package spark is Spark's standalone cluster manager on faultline's actor
// runtime, in the shape of Spark's deploy messages (RegisterWorker,
// RegisterApplication, RequestSubmitDriver, LaunchDriver, LaunchExecutor,
// ExecutorAdded, MasterChanged, WorkerSchedulerStateResponse, ...), much
// smaller than Spark but with the parts DEMi's three Spark bugs live in: a
// master whose persistence engine (a file per worker, driver and
// application in its durable store, which a file that exists refuses)
// survives its crash and drives its recovery, workers that register and
// retry, and a client that submits drivers and applications and runs its
// application's task scheduler with locality levels.
//
// Node 1 is the master, the last node the client, the others workers (each
// its own host). Program(Correct) is correct; each of Bugs injects one of
// DEMi's bugs (Describe says which). A bug that crashes the master is a
// NoPanic violation; a task launched out of locality order is
// LocalityOrder, reported by the client's scheduler (Context.Violation).
package spark
