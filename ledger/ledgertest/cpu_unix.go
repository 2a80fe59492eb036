//go:build unix

package ledgertest

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time (user and system) the process has used:
// benchmarks report it besides wall time because the machine they run on
// is shared. It returns 0 when the kernel does not say.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
