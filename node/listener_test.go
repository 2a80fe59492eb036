package node

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &gwFixture{counts: map[string]int{}}
	ln := NewLimitListener(inner, 2, m)
	defer ln.Close()
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	s1 := <-accepted
	dial()
	<-accepted
	over := dial()
	// The third connection is closed by the server at once.
	over.SetReadDeadline(time.Now().Add(time.Minute)) // a bound for a broken listener, not a timing assertion
	if _, err := over.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("Read() on the third connection=%v, want EOF", err)
	}
	loop := netip.MustParseAddr("127.0.0.1")
	if got := ln.Open(loop); got != 2 || m.count(RejectConns) != 1 {
		t.Fatalf("Open()=%d, rejected %d; want 2 and 1", got, m.count(RejectConns))
	}
	// Closing one frees its slot, once however often it is closed.
	s1.Close()
	s1.Close()
	dial()
	<-accepted
	if got := ln.Open(loop); got != 2 {
		t.Fatalf("Open() after a close and a new dial=%d, want 2", got)
	}
}

// isReset reports whether err is a connection reset (a closed socket with
// unread data).
func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}
