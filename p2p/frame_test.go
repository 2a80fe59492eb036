package p2p

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"
)

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		limit   int
		want    string
		wantErr error
	}{
		{"empty frame", []byte{0}, 4, "", nil},
		{"at limit", append([]byte{4}, "abcd"...), 4, "abcd", nil},
		{"over limit", append([]byte{5}, "abcde"...), 4, "", ErrFrameTooLarge},
		{"huge prefix, no body", binary.AppendUvarint(nil, 1<<62), 4, "", ErrFrameTooLarge},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11), 4, "", ErrBadFrame},
		{"truncated body", append([]byte{4}, "ab"...), 4, "", io.ErrUnexpectedEOF},
		{"no prefix", nil, 4, "", io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readFrame(bufio.NewReader(bytes.NewReader(tt.in)), tt.limit)
			if !errors.Is(err, tt.wantErr) || (err == nil && string(got) != tt.want) {
				t.Fatalf("readFrame()=%q, %v, want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name    string
		frame   []byte
		maxResp int
		want    string
		wantErr []error
	}{
		{"data", append([]byte{respData}, "ok"...), 2, "ok", nil},
		{"data over limit", append([]byte{respData}, "ok!"...), 2, "", []error{ErrResponseTooLarge}},
		{"remote error", append([]byte{respError}, "nope"...), 2, "", []error{ErrRemote}},
		{"remote error too long", append([]byte{respError}, make([]byte, MaxErrorBytes+1)...), 2, "", []error{ErrBadFrame}},
		{"request too large", []byte{respReqTooBig}, 2, "", []error{ErrRemote, ErrRequestTooLarge}},
		{"unknown kind", []byte{9}, 2, "", []error{ErrBadFrame}},
		{"empty", nil, 2, "", []error{ErrBadFrame}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeResponse(tt.frame, tt.maxResp)
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Fatalf("decodeResponse()=%v, want %v", err, want)
				}
			}
			if tt.wantErr == nil && (err != nil || string(got) != tt.want) {
				t.Fatalf("decodeResponse()=%q, %v, want %q, nil", got, err, tt.want)
			}
		})
	}
}

// TestFrameRoundTrip: whatever is written as one frame reads back whole, and a limit
// below its size refuses it.
func TestFrameRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		parts := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 300), 0, 4).Draw(t, "parts")
		var buf bytes.Buffer
		if err := writeFrame(&buf, parts...); err != nil {
			t.Fatalf("writeFrame()=%v", err)
		}
		want := bytes.Join(parts, nil)
		got, err := readFrame(bufio.NewReader(&buf), len(want))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("readFrame()=%x, %v, want %x, nil", got, err, want)
		}
		if len(want) > 0 {
			var again bytes.Buffer
			_ = writeFrame(&again, want)
			if _, err := readFrame(bufio.NewReader(&again), len(want)-1); !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("readFrame(limit-1)=%v, want %v", err, ErrFrameTooLarge)
			}
		}
	})
}

// TestStatusRoundTrip: every height survives a status frame.
func TestStatusRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := rapid.Uint64().Draw(t, "height")
		var buf bytes.Buffer
		_ = writeFrame(&buf, binary.AppendUvarint(nil, h))
		got, err := decodeStatus(bufio.NewReader(&buf))
		if err != nil || got != h {
			t.Fatalf("decodeStatus()=%d, %v, want %d, nil", got, err, h)
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/frames/*")
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		f.Add(b, uint16(64))
	}
	f.Add([]byte{0}, uint16(0))
	f.Add(append([]byte{2, respData}, 'x'), uint16(8))
	f.Fuzz(func(t *testing.T, in []byte, limit uint16) {
		frame, err := readFrame(bufio.NewReader(bytes.NewReader(in)), int(limit))
		if err != nil {
			return
		}
		if len(frame) > int(limit) {
			t.Fatalf("readFrame returned %d bytes over limit %d", len(frame), limit)
		}
		resp, err := decodeResponse(frame, int(limit))
		if err == nil && len(resp) > int(limit) {
			t.Fatalf("decodeResponse returned %d bytes over limit %d", len(resp), limit)
		}
		_, _ = decodeStatus(bufio.NewReader(bytes.NewReader(in)))
	})
}
