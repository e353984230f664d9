package spark

import (
	"fmt"
	"strconv"
	"strings"
)

// The messages, named after Spark's deploy messages (DeployMessages.scala)
// and the task scheduler's events. Each key renders the fields that tell
// two messages of a type apart.

// RegisterWorker is a worker asking the master to take it.
type RegisterWorker struct{ Worker, Cores int }

func (m RegisterWorker) Type() string { return "RegisterWorker" }
func (m RegisterWorker) Key() string  { return fmt.Sprintf("worker=%d cores=%d", m.Worker, m.Cores) }

// RegisteredWorker is the master's yes.
type RegisteredWorker struct{}

func (RegisteredWorker) Type() string { return "RegisteredWorker" }
func (RegisteredWorker) Key() string  { return "-" }

// RegisterWorkerFailed is the master's no.
type RegisterWorkerFailed struct{ Reason string }

func (m RegisterWorkerFailed) Type() string { return "RegisterWorkerFailed" }
func (m RegisterWorkerFailed) Key() string  { return "reason=" + m.Reason }

// MasterChanged tells workers and applications that a (recovered) master
// leads: each answers with its state.
type MasterChanged struct{}

func (MasterChanged) Type() string { return "MasterChanged" }
func (MasterChanged) Key() string  { return "-" }

// WorkerSchedulerStateResponse is a worker's answer to MasterChanged: the
// drivers and executors it runs.
type WorkerSchedulerStateResponse struct {
	Worker    int
	Drivers   []string
	Executors []string
}

func (m WorkerSchedulerStateResponse) Type() string { return "WorkerSchedulerStateResponse" }
func (m WorkerSchedulerStateResponse) Key() string {
	return fmt.Sprintf("worker=%d drivers=%s executors=%s", m.Worker, list(m.Drivers), list(m.Executors))
}

// MasterChangeAcknowledged is an application's answer to MasterChanged.
type MasterChangeAcknowledged struct{ App string }

func (m MasterChangeAcknowledged) Type() string { return "MasterChangeAcknowledged" }
func (m MasterChangeAcknowledged) Key() string  { return "app=" + m.App }

// RequestSubmitDriver submits a driver (cluster deploy mode).
type RequestSubmitDriver struct{ Driver string }

func (m RequestSubmitDriver) Type() string { return "RequestSubmitDriver" }
func (m RequestSubmitDriver) Key() string  { return "driver=" + m.Driver }

// SubmitDriverResponse answers it.
type SubmitDriverResponse struct {
	Driver string
	OK     bool
}

func (m SubmitDriverResponse) Type() string { return "SubmitDriverResponse" }
func (m SubmitDriverResponse) Key() string  { return fmt.Sprintf("driver=%s ok=%v", m.Driver, m.OK) }

// LaunchDriver asks a worker to run a driver.
type LaunchDriver struct{ Driver string }

func (m LaunchDriver) Type() string { return "LaunchDriver" }
func (m LaunchDriver) Key() string  { return "driver=" + m.Driver }

// DriverStateChanged is a worker's report on a driver.
type DriverStateChanged struct {
	Driver string
	State  string
}

func (m DriverStateChanged) Type() string { return "DriverStateChanged" }
func (m DriverStateChanged) Key() string  { return "driver=" + m.Driver + " state=" + m.State }

// RegisterApplication is an application's client registering with the
// master.
type RegisterApplication struct{ App string }

func (m RegisterApplication) Type() string { return "RegisterApplication" }
func (m RegisterApplication) Key() string  { return "app=" + m.App }

// RegisteredApplication is the master's yes.
type RegisteredApplication struct{ App string }

func (m RegisteredApplication) Type() string { return "RegisteredApplication" }
func (m RegisteredApplication) Key() string  { return "app=" + m.App }

// LaunchExecutor asks a worker to run an executor of an application.
type LaunchExecutor struct {
	App, Exec string
}

func (m LaunchExecutor) Type() string { return "LaunchExecutor" }
func (m LaunchExecutor) Key() string  { return "app=" + m.App + " exec=" + m.Exec }

// ExecutorAdded tells an application's client that an executor runs for
// it on a worker: a slot its task scheduler may offer tasks to.
type ExecutorAdded struct {
	Exec string
	Host int
}

func (m ExecutorAdded) Type() string { return "ExecutorAdded" }
func (m ExecutorAdded) Key() string  { return "exec=" + m.Exec + " host=" + strconv.Itoa(m.Host) }

// StatusUpdate is an executor's report that a task finished: its slot is
// free for another offer.
type StatusUpdate struct {
	Exec string
	Host int
	Task string
}

func (m StatusUpdate) Type() string { return "StatusUpdate" }
func (m StatusUpdate) Key() string {
	return "exec=" + m.Exec + " host=" + strconv.Itoa(m.Host) + " task=" + m.Task
}

// LaunchTask runs a task on an executor.
type LaunchTask struct {
	Exec string
	Host int
	Task string
}

func (m LaunchTask) Type() string { return "LaunchTask" }
func (m LaunchTask) Key() string  { return "exec=" + m.Exec + " task=" + m.Task }

// command is a client operation: "driver d1", "app a1", "tasks t1@2 t2@3 t3".
type command struct{ text string }

func (c command) Type() string { return "Command" }
func (c command) Key() string  { return "cmd=" + c.text }

func list(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, ",")
}
