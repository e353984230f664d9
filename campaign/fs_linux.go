package campaign

import (
	"errors"
	"os"
	"syscall"
)

// Linux's lseek whences that find a file's data and holes.
const (
	seekData = 3
	seekHole = 4
)

// dataRegion returns the first region of data of f at or after off, [start,
// end) (start = size: none left). A file system that cannot tell holes
// gives the whole rest of the file.
func dataRegion(f *os.File, off, size int64) (start, end int64, err error) {
	start, err = f.Seek(off, seekData)
	if errors.Is(err, syscall.ENXIO) {
		return size, size, nil // only a hole is left
	}
	if err != nil {
		return off, size, nil
	}
	end, err = f.Seek(start, seekHole)
	if err != nil {
		return off, size, nil
	}
	return start, min(end, size), nil
}
