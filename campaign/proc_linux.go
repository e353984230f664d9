package campaign

import (
	"fmt"
	"os"
	"strings"
)

// processStart is when process pid started, in clock ticks since boot
// (/proc/PID/stat's starttime), "" when it does not run or cannot be read.
// With the PID it names one process: a PID is reused, a start time with it
// is not.
func processStart(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name, in parentheses, may hold spaces: the fields
	// counted start after its closing parenthesis, at the state (field 3);
	// starttime is field 22.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}
