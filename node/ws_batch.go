package node

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// Event streams send events in batches. The WebSocket library flushes
// every message to the connection on its own: one write system call per
// event and subscriber, though a committed block publishes all its events
// at once. A stream's connection is therefore a batchConn: sendAll opens a
// batch, writes every event waiting in the subscription (each as its own
// message, as BigchainDB clients expect), and ends the batch, which writes
// them in one call.

// maxStreamBatchBytes bounds what one batch gathers before it is written.
const maxStreamBatchBytes = 64 << 10

// batchConn is a connection whose writes, while a batch is open, are
// gathered and written when it ends; other writes (the library's pongs and
// close frames outside a batch) go straight through. It is safe for
// concurrent use, as the library writes control frames from its reader.
type batchConn struct {
	net.Conn
	mu      sync.Mutex
	batched bool
	buf     []byte
}

// Write gathers p while a batch is open, and writes it otherwise.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batched {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// begin opens a batch.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batched = true
	c.mu.Unlock()
}

// size returns how many bytes the open batch holds.
func (c *batchConn) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf)
}

// end closes the batch and writes what it gathered within timeout: a
// client that does not take it in that time is not reading.
func (c *batchConn) end(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batched = false
	return c.flushLocked(timeout)
}

func (c *batchConn) flushLocked(timeout time.Duration) error {
	if len(c.buf) == 0 {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.Conn.Write(c.buf)
	if err == nil {
		err = c.Conn.SetWriteDeadline(time.Time{})
	}
	if cap(c.buf) > 4*maxStreamBatchBytes {
		c.buf = nil // a rare large batch does not stay allocated
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// Close writes what an open batch gathered (such as the close frame the
// library answers a client's close with), then closes the connection.
func (c *batchConn) Close() error {
	c.mu.Lock()
	c.batched = false
	c.flushLocked(streamWriteTimeout) // best effort: the connection ends anyway
	c.mu.Unlock()
	return c.Conn.Close()
}

// batchingWriter is the response writer a stream upgrades through: its
// Hijack hands the library a batchConn over the connection.
type batchingWriter struct {
	http.ResponseWriter
	conn *batchConn // set by Hijack
}

// Hijack takes over the connection as a batchConn.
func (w *batchingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &batchConn{Conn: nc}
	return w.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriter(w.conn)), nil
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *batchingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
