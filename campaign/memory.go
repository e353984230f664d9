package campaign

import (
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
)

// liveHeap is the heap that survived this process's last collection, in
// KiB (runtime/metrics: no stop of the world).
func liveHeap() int64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(sample[0].Value.Uint64() / 1024)
}

// currentRSS is this process's resident set size now, in KiB (0 where
// /proc/self/statm is missing).
func currentRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize()) / 1024
}

// peakRSS is this process's peak resident set size in KiB (0 where the
// system does not say).
func peakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss
}
