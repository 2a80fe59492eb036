package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// recordingConn is a net.Conn that records the writes and the close that
// reach it.
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	writes []string
	closed bool
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func (c *recordingConn) SetWriteDeadline(time.Time) error { return nil }

func (c *recordingConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

func (c *recordingConn) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

func TestBatchConn(t *testing.T) {
	rc := &recordingConn{}
	bc := &batchConn{Conn: rc}
	write := func(s string) {
		t.Helper()
		if n, err := bc.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q)=%d, %v", s, n, err)
		}
	}
	write("a")
	if got := rc.got(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("a write outside a batch reached the connection as %q, want [a]", got)
	}
	bc.begin()
	write("b")
	write("cd")
	if got := rc.got(); len(got) != 1 {
		t.Fatalf("writes in an open batch reached the connection: %q", got)
	}
	if got := bc.size(); got != 3 {
		t.Fatalf("size()=%d, want 3", got)
	}
	if err := bc.end(time.Second); err != nil {
		t.Fatalf("end()=%v", err)
	}
	if got := rc.got(); len(got) != 2 || got[1] != "bcd" {
		t.Fatalf("after end the connection got %q, want [a bcd]", got)
	}
	if err := bc.end(time.Second); err != nil || len(rc.got()) != 2 {
		t.Fatalf("an empty end()=%v and wrote %q", err, rc.got())
	}
	// Close writes what an open batch holds before closing.
	bc.begin()
	write("close frame")
	if err := bc.Close(); err != nil {
		t.Fatalf("Close()=%v", err)
	}
	if got := rc.got(); len(got) != 3 || got[2] != "close frame" || !rc.closed {
		t.Fatalf("Close wrote %q (closed %v), want the batch written, then closed", got, rc.closed)
	}
	if _, err := bc.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close=%v, want net.ErrClosed", err)
	}
}

// countingListener counts the writes to the connections it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestStreamBatchesWaitingEvents streams events that are all waiting when
// the stream starts: each arrives as its own message, in order, the stream
// then closes saying why, and the server writes them in a few calls
// instead of one each.
func TestStreamBatchesWaitingEvents(t *testing.T) {
	const events = 300 // about 20 KiB of messages: one batch
	var writes atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch := make(chan int, events)
		for i := range events {
			ch <- i
		}
		close(ch)
		streamTo(w, r, slog.New(slog.DiscardHandler), ch, func(i int) []byte {
			return fmt.Appendf(nil, `{"n": %d, "pad": %q}`, i, strings.Repeat("x", 40))
		})
	}))
	srv.Listener = countingListener{srv.Listener, &writes}
	srv.Start()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), wsTestTimeout)
	defer cancel()
	c := wsDial(t, ctx, srv, "/")
	for i := range events {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("Read() message %d: %v", i, err)
		}
		if want := fmt.Sprintf(`{"n": %d,`, i); typ != websocket.MessageText || !strings.HasPrefix(string(msg), want) {
			t.Fatalf("message %d is %v %q, want text starting %q", i, typ, msg, want)
		}
	}
	_, _, err := c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusTryAgainLater {
		t.Fatalf("after the events Read()=%v, want close status %v", err, websocket.StatusTryAgainLater)
	}
	// The handshake answer, the batch and the close frame; one write per
	// event would be over 300.
	if n := writes.Load(); n > 5 {
		t.Fatalf("the server wrote %d times for %d events, want at most 5", n, events)
	}
}

// BenchmarkStreamEvents streams events to one client over loopback in
// bursts of 1,000 (as a committed block publishes them) and reports the
// server's writes per event; ns/op is a round of one event, client
// included.
func BenchmarkStreamEvents(b *testing.B) {
	const burst = 1000
	var writes atomic.Int64
	ch := make(chan int, burst)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		streamTo(w, r, slog.New(slog.DiscardHandler), ch, func(i int) []byte {
			return fmt.Appendf(nil, `{"height": %d, "asset_id": %q, "transaction_id": %q}`, i, strings.Repeat("a", 64), strings.Repeat("b", 64))
		})
	}))
	srv.Listener = countingListener{srv.Listener, &writes}
	srv.Start()
	b.Cleanup(srv.Close)
	c, _, err := websocket.Dial(b.Context(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	writes.Store(0)
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		n := min(burst, b.N-sent)
		for i := range n {
			ch <- sent + i
		}
		for range n {
			if _, _, err := c.Read(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
		sent += n
	}
	b.StopTimer()
	b.ReportMetric(float64(writes.Load())/float64(b.N), "writes/event")
	close(ch)
}
