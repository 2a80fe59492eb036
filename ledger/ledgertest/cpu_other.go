//go:build !unix

package ledgertest

import "time"

// ProcessCPU is unknown on this platform: benchmarks report 0.
func ProcessCPU() time.Duration { return 0 }
