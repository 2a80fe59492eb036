//go:build !unix

package ledger

import "io/fs"

// diskUsage returns the length of a file (the platform does not report the
// blocks it allocates).
func diskUsage(info fs.FileInfo) int64 { return info.Size() }
