package p2p

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frames are a uvarint length followed by that many bytes. A response frame's first
// byte is its kind.
const (
	respData       byte = 0 // the rest is the handler's response
	respError      byte = 1 // the rest is an error string of at most MaxErrorBytes
	respReqTooBig  byte = 2 // the request exceeded the handler's limit; no payload
	maxRespPayload      = MaxErrorBytes
)

// byteReader is what readFrame needs: the uvarint prefix is read byte by byte.
type byteReader interface {
	io.Reader
	io.ByteReader
}

// readFrameLen reads a frame's length prefix and checks it against limit before any body
// is read.
func readFrameLen(r io.ByteReader, limit int) (int, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, fmt.Errorf("read frame length: %w", err)
		}
		return 0, fmt.Errorf("%w: length prefix: %w", ErrBadFrame, err)
	}
	if n > uint64(limit) {
		return 0, fmt.Errorf("%w: %d > %d bytes", ErrFrameTooLarge, n, limit)
	}
	return int(n), nil
}

// readFrame reads one frame of at most limit bytes. The body is not allocated when the
// prefix exceeds limit.
func readFrame(r byteReader, limit int) ([]byte, error) {
	n, err := readFrameLen(r, limit)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("read frame body: %w", err)
	}
	return buf, nil
}

// writeFrame writes parts as one frame: the uvarint of their total length, then each.
func writeFrame(w io.Writer, parts ...[]byte) error {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	buf := make([]byte, 0, binary.MaxVarintLen64+total)
	buf = binary.AppendUvarint(buf, uint64(total))
	for _, p := range parts {
		buf = append(buf, p...)
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// decodeResponse splits a response frame into its payload or remote error. maxResp bounds
// a data payload.
func decodeResponse(frame []byte, maxResp int) ([]byte, error) {
	if len(frame) == 0 {
		return nil, fmt.Errorf("%w: empty response", ErrBadFrame)
	}
	kind, body := frame[0], frame[1:]
	switch kind {
	case respData:
		if len(body) > maxResp {
			return nil, fmt.Errorf("%w: %d > %d bytes", ErrResponseTooLarge, len(body), maxResp)
		}
		return body, nil
	case respError:
		if len(body) > MaxErrorBytes {
			return nil, fmt.Errorf("%w: error string of %d bytes", ErrBadFrame, len(body))
		}
		return nil, fmt.Errorf("%w: %s", ErrRemote, sanitize(body))
	case respReqTooBig:
		return nil, fmt.Errorf("%w: %w", ErrRemote, ErrRequestTooLarge)
	default:
		return nil, fmt.Errorf("%w: response kind %d", ErrBadFrame, kind)
	}
}

// sanitize makes a remote error string safe to log: printable ASCII only.
func sanitize(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// errorPayload truncates an error message to MaxErrorBytes.
func errorPayload(err error) []byte {
	msg := []byte(err.Error())
	if len(msg) > MaxErrorBytes {
		msg = msg[:MaxErrorBytes]
	}
	return msg
}
