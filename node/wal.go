package node

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/ipdb/ipdb-node/internal/atomicfile"
)

// The consensus write-ahead log: an append-only file of our own signed
// messages (proposals and votes), each made durable (fsync) before it leaves
// the process, so that after a crash the node never signs a different
// message for the same (height, round, type). A record is
//
//	length  uint32, big-endian: bytes of payload (1..MaxWALRecordBytes)
//	crc     uint32, big-endian: CRC-32C (Castagnoli) of payload
//	payload the record
//
// A record cut short at the end of the file (a crash mid-write) is cut off
// when the log is opened; any other damage is an error naming the file and
// the offset.

// walFileName is the log's name in the data directory.
const walFileName = "consensus.wal"

// walHeaderBytes is the size of a record's length and checksum.
const walHeaderBytes = 8

// ErrWALCorrupt is wrapped when a record before the end of the log is
// damaged: the node must not guess what it signed.
var ErrWALCorrupt = errors.New("node: consensus wal corrupt")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// wal is the open log. Calls must be serialised (the consensus loop owns it).
type wal struct {
	path string
	f    *os.File
}

// openWAL opens (or creates) the log at path and returns its intact
// records, oldest first. A torn last record is cut off (the file is
// truncated there and synced).
func openWAL(path string) (*wal, [][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("read wal: %w", err)
	}
	recs, end, err := parseWAL(path, data)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	if err := cutWAL(f, end, int64(len(data))); err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, nil, err
	}
	return &wal{path: path, f: f}, recs, nil
}

// cutWAL truncates f to end when the file is longer (a torn tail) and
// positions it there for appending.
func cutWAL(f *os.File, end, size int64) error {
	if end < size {
		if err := f.Truncate(end); err != nil {
			return fmt.Errorf("cut torn wal tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync wal: %w", err)
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("seek wal: %w", err)
	}
	return nil
}

// parseWAL splits data into records. It returns the offset where the intact
// records end: len(data), or the start of a torn last record.
func parseWAL(path string, data []byte) ([][]byte, int64, error) {
	var recs [][]byte
	off := 0
	for off < len(data) {
		rest := data[off:]
		if len(rest) < walHeaderBytes {
			return recs, int64(off), nil // torn header
		}
		n := int(binary.BigEndian.Uint32(rest))
		sum := binary.BigEndian.Uint32(rest[4:])
		end := walHeaderBytes + n
		switch {
		case n == 0 && allZero(rest):
			return recs, int64(off), nil // preallocated zeros after a crash
		case n == 0 || n > MaxWALRecordBytes:
			return nil, 0, fmt.Errorf("%w: %s at offset %d: record length %d", ErrWALCorrupt, path, off, n)
		case end > len(rest):
			return recs, int64(off), nil // torn payload
		case crc32.Checksum(rest[walHeaderBytes:end], castagnoli) != sum:
			if end == len(rest) {
				return recs, int64(off), nil // the last record, torn
			}
			return nil, 0, fmt.Errorf("%w: %s at offset %d: checksum mismatch", ErrWALCorrupt, path, off)
		}
		recs = append(recs, bytes.Clone(rest[walHeaderBytes:end]))
		off += end
	}
	return recs, int64(off), nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// appendRecord returns dst with rec framed as one record.
func appendRecord(dst, rec []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(rec)))
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(rec, castagnoli))
	return append(dst, rec...)
}

// Append writes rec as one record and syncs the file: when it returns nil,
// the record survives a crash.
func (w *wal) Append(rec []byte) error {
	if len(rec) == 0 || len(rec) > MaxWALRecordBytes {
		return fmt.Errorf("wal record of %d bytes: want 1 to %d", len(rec), MaxWALRecordBytes)
	}
	if _, err := w.f.Write(appendRecord(nil, rec)); err != nil {
		return fmt.Errorf("append to wal: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync wal: %w", err)
	}
	return nil
}

// Rewrite replaces the log atomically by one holding only recs (see
// atomicfile.Write). On error the old log stays in place.
func (w *wal) Rewrite(recs [][]byte) error {
	var buf []byte
	for _, r := range recs {
		buf = appendRecord(buf, r)
	}
	if err := atomicfile.WriteFile(w.path, buf, 0o600); err != nil {
		return fmt.Errorf("replace wal: %w", err)
	}
	f, err := os.OpenFile(w.path, os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("reopen wal: %w", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return fmt.Errorf("seek wal: %w", err)
	}
	old := w.f
	w.f = f
	return old.Close()
}

// Close closes the file.
func (w *wal) Close() error { return w.f.Close() }
