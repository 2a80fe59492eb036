package ledger

import (
	"bufio"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
)

// Errors of CAR export.
var (
	// ErrCARSection is wrapped when a section's data does not fit its CID.
	ErrCARSection = errors.New("ledger: car section does not match its cid")
	// ErrCARRoot is returned when the root was never among the sections.
	ErrCARRoot = errors.New("ledger: car root is not among the exported blocks")
)

// carHeader is the DAG-CBOR header of a CARv1 file.
type carHeader struct {
	Roots   []cidLink `cbor:"roots"`
	Version uint64    `cbor:"version"`
}

// carWriteBuffer is the size of a CARWriter's output buffer.
const carWriteBuffer = 64 << 10

// WriteCAR writes a CARv1 file with root = the newest block's CID, containing
// every block (dag-cbor) and every transaction (json codec, raw canonical
// bytes) yielded by next until it returns io.EOF, each section verified
// against its CID before writing.
//
// It is NewCARWriter, Put for each section and Close, with their rules and
// errors; an error from next other than io.EOF is returned wrapped. On error,
// part of the file may have been written.
func WriteCAR(w io.Writer, root cid.Cid, next func() (c cid.Cid, data []byte, err error)) error {
	cw, err := NewCARWriter(w, root)
	if err != nil {
		return err
	}
	for {
		c, data, err := next()
		if errors.Is(err, io.EOF) {
			return cw.Close()
		}
		if err != nil {
			return fmt.Errorf("car next section: %w", err)
		}
		if err := cw.Put(c, data); err != nil {
			return err
		}
	}
}

// CARWriter writes a CARv1 file one section at a time, for callers that push
// sections (such as a store's walk) rather than have WriteCAR pull them.
// Calls must be serialised.
type CARWriter struct {
	bw      *bufio.Writer
	root    cid.Cid
	sawRoot bool
}

// NewCARWriter writes the CARv1 header with the single root, which must be a
// block CID (else the error wraps ErrInvalidCID), and returns a writer for
// the sections. Output is buffered until Close.
func NewCARWriter(w io.Writer, root cid.Cid) (*CARWriter, error) {
	if !isBlockCID(root) {
		return nil, fmt.Errorf("car root %s: %w: not a block cid", root, ErrInvalidCID)
	}
	header, err := dagCBOR.enc.Marshal(carHeader{Roots: []cidLink{{root}}, Version: 1})
	if err != nil {
		return nil, fmt.Errorf("encode car header: %w", err)
	}
	cw := &CARWriter{bw: bufio.NewWriterSize(w, carWriteBuffer), root: root}
	if err := writeCARSection(cw.bw, header, nil); err != nil {
		return nil, err
	}
	return cw, nil
}

// Put verifies data against c and writes the section. Only block CIDs
// (CIDv1 dag-cbor sha2-256, data up to MaxBlockBytes) and transaction CIDs
// (CIDv1 json sha3-256, data up to MaxTxBytes) are accepted: any other CID
// wraps ErrInvalidCID, and data that does not fit its CID wraps
// ErrCARSection. Sections are written in the order given; the caller should
// not put a CID twice. Data is not retained.
func (cw *CARWriter) Put(c cid.Cid, data []byte) error {
	if err := verifyCARSection(c, data); err != nil {
		return err
	}
	if err := writeCARSection(cw.bw, []byte(c.KeyString()), data); err != nil {
		return err
	}
	cw.sawRoot = cw.sawRoot || c == cw.root
	return nil
}

// Close flushes the file. It returns ErrCARRoot, after flushing a complete
// file, when the root was never put. It does not close the underlying writer.
func (cw *CARWriter) Close() error {
	if err := cw.bw.Flush(); err != nil {
		return fmt.Errorf("write car: %w", err)
	}
	if !cw.sawRoot {
		return fmt.Errorf("%w: %s", ErrCARRoot, cw.root)
	}
	return nil
}

// verifyCARSection checks data against c, which must be a block or
// transaction CID.
func verifyCARSection(c cid.Cid, data []byte) error {
	var sum [32]byte
	switch {
	case isBlockCID(c) && len(data) <= MaxBlockBytes:
		sum = sha256.Sum256(data)
	case isTxCID(c) && len(data) <= MaxTxBytes:
		sum = sha3.Sum256(data)
	case isBlockCID(c) || isTxCID(c):
		return fmt.Errorf("car section %s: %w: %d bytes, over the limit", c, ErrCARSection, len(data))
	default:
		return fmt.Errorf("car section %s: %w: not a block or transaction cid", c, ErrInvalidCID)
	}
	if s := c.KeyString(); s[len(s)-len(sum):] != string(sum[:]) {
		return fmt.Errorf("car section %s: %w", c, ErrCARSection)
	}
	return nil
}

// writeCARSection writes an unsigned varint of len(a)+len(b), then a and b.
func writeCARSection(w *bufio.Writer, a, b []byte) error {
	var n [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(n[:], uint64(len(a)+len(b)))
	for _, p := range [][]byte{n[:l], a, b} {
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("write car: %w", err)
		}
	}
	return nil
}
