//go:build unix

package campaign

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes the lock badger takes on a store's directory (flock), shared
// or exclusive, without waiting: ErrLocked when a process holds it the
// other way. badger's own lock is on another open file, so a caller must
// release it before badger.Open. It creates no file.
func lockDir(path string, exclusive bool) (release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("%s: lock: %w", path, err)
	}
	return func() { f.Close() }, nil
}
