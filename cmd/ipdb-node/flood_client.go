package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of the flood's raw HTTP/1.1 client.
const (
	// maxFloodHeaderLine bounds one response header line.
	maxFloodHeaderLine = 8 << 10
	// maxFloodBody bounds one response body: the API's answers to a GET of
	// the index or a 429 are under 1 KiB.
	maxFloodBody = 1 << 20
	// floodDialTimeout bounds connecting.
	floodDialTimeout = 5 * time.Second
	// floodIOTimeout bounds one request's round trip; a node that takes
	// longer is counted as failing it.
	floodIOTimeout = 10 * time.Second
)

// floodCounts are the outcomes of the flood's requests, updated by its
// connections concurrently.
type floodCounts struct {
	sent, accepted, limited, other, failed atomic.Int64

	mu     sync.Mutex // guards policy
	policy string     // the first RateLimit-Policy answered
}

// notePolicy keeps the first RateLimit-Policy header seen.
func (c *floodCounts) notePolicy(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.policy == "" {
		c.policy = p
	}
}

// rawRequest returns a pre-built keep-alive GET of path.
func rawRequest(host, path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: ipdb-node-flood\r\nAccept: application/json\r\n\r\n")
}

// floodSchedule hands out send times: request k is due at start + k/rate,
// until end. It is safe for concurrent use.
type floodSchedule struct {
	start, end time.Time
	interval   time.Duration
	next       atomic.Int64
}

// due returns the time the next request is due, or false after the end.
func (s *floodSchedule) due() (time.Time, bool) {
	k := s.next.Add(1) - 1
	t := s.start.Add(time.Duration(k) * s.interval)
	return t, t.Before(s.end)
}

// floodConn sends requests on one keep-alive connection from local (nil:
// any) to addr as the schedule makes them due, reconnecting when the node
// closes the connection, until the schedule ends or ctx is done.
func floodConn(ctx context.Context, addr string, local net.Addr, req []byte, s *floodSchedule, c *floodCounts) {
	var conn net.Conn
	var rd *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for ctx.Err() == nil {
		due, ok := s.due()
		if !ok {
			return
		}
		if wait := time.Until(due); wait > 0 {
			sleepCtx(ctx, wait)
		}
		if conn == nil {
			var err error
			if conn, err = dialFrom(ctx, addr, local); err != nil {
				c.failed.Add(1)
				sleepCtx(ctx, 10*time.Millisecond) // a refused dial: do not spin
				continue
			}
			rd = bufio.NewReaderSize(conn, 4096)
		}
		c.sent.Add(1)
		if err := roundTrip(conn, rd, req, c); err != nil {
			c.failed.Add(1)
			conn.Close()
			conn = nil
		}
	}
}

// sleepCtx sleeps d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// dialFrom connects to addr from local (nil: any address).
func dialFrom(ctx context.Context, addr string, local net.Addr) (net.Conn, error) {
	d := net.Dialer{Timeout: floodDialTimeout, LocalAddr: local}
	return d.DialContext(ctx, "tcp", addr)
}

// roundTrip writes req and reads one response, counting its status.
func roundTrip(conn net.Conn, rd *bufio.Reader, req []byte, c *floodCounts) error {
	conn.SetDeadline(time.Now().Add(floodIOTimeout))
	if _, err := conn.Write(req); err != nil {
		return err
	}
	code, length, closing, err := readHead(rd, c)
	if err != nil {
		return err
	}
	if _, err := rd.Discard(length); err != nil {
		return err
	}
	switch {
	case code >= 200 && code < 300:
		c.accepted.Add(1)
	case code == http.StatusTooManyRequests:
		c.limited.Add(1)
	default:
		c.other.Add(1)
	}
	if closing {
		return errors.New("flood: the node closed the connection")
	}
	return nil
}

// readHead reads a response's status line and headers: its status, body
// length and whether the node closes the connection after it.
func readHead(rd *bufio.Reader, c *floodCounts) (code, length int, closing bool, err error) {
	line, err := readLine(rd)
	if err != nil {
		return 0, 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, false, fmt.Errorf("flood: bad status line %q", line)
	}
	if code, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, 0, false, fmt.Errorf("flood: bad status line %q", line)
	}
	length = -1
	for {
		if line, err = readLine(rd); err != nil {
			return 0, 0, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.Atoi(string(value))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("RateLimit-Policy")):
			c.notePolicy(string(value))
		}
	}
	if err != nil || length < 0 || length > maxFloodBody {
		return 0, 0, false, fmt.Errorf("flood: want a Content-Length of at most %d bytes", maxFloodBody)
	}
	return code, length, closing, nil
}

// readLine reads one CRLF-terminated line without its end.
func readLine(rd *bufio.Reader) ([]byte, error) {
	line, err := rd.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxFloodHeaderLine {
		return nil, errors.New("flood: response header line too long")
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}
