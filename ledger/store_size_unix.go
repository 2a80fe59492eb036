//go:build unix

package ledger

import (
	"io/fs"
	"syscall"
)

// diskUsage returns the bytes a file takes on disk: its allocated blocks,
// which for Badger's sparse, preallocated files is less than their length.
func diskUsage(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}
