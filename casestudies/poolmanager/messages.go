package poolmanager

import "fmt"

// Requests carry the pool manager's request number (Req), unique across its
// incarnations, so that an answer to a request of an earlier incarnation,
// or to one it gave up on, is recognized and ignored.

// List asks the storage for every pool's row.
type List struct{ Req int }

func (m List) Type() string { return "List" }
func (m List) Key() string  { return fmt.Sprintf("req=%d", m.Req) }

// PoolRow is a pool's row with its ETag.
type PoolRow struct {
	Pool string
	Row  Row
	ETag int
}

// Listed answers List: the rows as of the storage's ETag AsOf (the last
// write's).
type Listed struct {
	Req  int
	Rows []PoolRow
	AsOf int
}

func (m Listed) Type() string { return "Listed" }
func (m Listed) Key() string  { return fmt.Sprintf("req=%d rows=%d", m.Req, len(m.Rows)) }

// Read asks for a pool's row.
type Read struct {
	Req  int
	Pool string
}

func (m Read) Type() string { return "Read" }
func (m Read) Key() string  { return fmt.Sprintf("req=%d pool=%s", m.Req, m.Pool) }

// ReadResult answers Read.
type ReadResult struct {
	Req   int
	Pool  string
	Row   Row
	ETag  int
	Found bool
}

func (m ReadResult) Type() string { return "ReadResult" }
func (m ReadResult) Key() string {
	return fmt.Sprintf("req=%d pool=%s etag=%d found=%v", m.Req, m.Pool, m.ETag, m.Found)
}

// Write writes (or, with Remove, removes) a pool's row, if its ETag is
// IfETag (0: the row must not exist; -1: whatever it is).
type Write struct {
	Req    int
	Pool   string
	Row    Row
	IfETag int
	Remove bool
}

func (m Write) Type() string { return "Write" }
func (m Write) Key() string {
	if m.Remove {
		return fmt.Sprintf("req=%d pool=%s remove if=%d", m.Req, m.Pool, m.IfETag)
	}
	return fmt.Sprintf("req=%d pool=%s %s if=%d", m.Req, m.Pool, m.Row, m.IfETag)
}

// WriteResult answers Write: the row's new ETag, or an error
// ("etag-mismatch", "error").
type WriteResult struct {
	Req  int
	Pool string
	ETag int
	Err  string
}

func (m WriteResult) Type() string { return "WriteResult" }
func (m WriteResult) Key() string {
	if m.Err != "" {
		return fmt.Sprintf("req=%d pool=%s err=%s", m.Req, m.Pool, m.Err)
	}
	return fmt.Sprintf("req=%d pool=%s etag=%d", m.Req, m.Pool, m.ETag)
}

// Allocate asks the deployment service for a deployment of Count VMs.
type Allocate struct {
	Req   int
	ID    string
	Pool  string
	Count int
}

func (m Allocate) Type() string { return "Allocate" }
func (m Allocate) Key() string  { return fmt.Sprintf("req=%d id=%s vms=%d", m.Req, m.ID, m.Count) }

// Allocated answers Allocate: the deployment's VMs, or an error.
type Allocated struct {
	Req int
	ID  string
	VMs int
	Err string
}

func (m Allocated) Type() string { return "Allocated" }
func (m Allocated) Key() string {
	if m.Err != "" {
		return fmt.Sprintf("req=%d id=%s err=%s", m.Req, m.ID, m.Err)
	}
	return fmt.Sprintf("req=%d id=%s vms=%d", m.Req, m.ID, m.VMs)
}

// Release returns a deployment's VMs.
type Release struct {
	Req int
	ID  string
}

func (m Release) Type() string { return "Release" }
func (m Release) Key() string  { return fmt.Sprintf("req=%d id=%s", m.Req, m.ID) }

// Released answers Release.
type Released struct {
	Req int
	ID  string
}

func (m Released) Type() string { return "Released" }
func (m Released) Key() string  { return fmt.Sprintf("req=%d id=%s", m.Req, m.ID) }

// PoolResized tells the scheduler a pool's size as of the write of its row
// with ETag (Gone: the pool was removed by that write).
type PoolResized struct {
	Pool string
	Size int
	ETag int
	Gone bool
}

func (m PoolResized) Type() string { return "PoolResized" }
func (m PoolResized) Key() string {
	if m.Gone {
		return fmt.Sprintf("pool=%s gone etag=%d", m.Pool, m.ETag)
	}
	return fmt.Sprintf("pool=%s size=%d etag=%d", m.Pool, m.Size, m.ETag)
}

// SyncPools tells the scheduler every pool's size as the storage held them
// at its ETag AsOf: a pool it knows from an earlier write and not listed
// was removed since.
type SyncPools struct {
	Pools []PoolResized
	AsOf  int
}

func (m SyncPools) Type() string { return "SyncPools" }
func (m SyncPools) Key() string  { return fmt.Sprintf("pools=%d as-of=%d", len(m.Pools), m.AsOf) }

// command is a client's operation: "create p1 3", "resize p1 5", "delete p1".
type command struct{ text string }

func (c command) Type() string { return "Command" }
func (c command) Key() string  { return "cmd=" + c.text }
