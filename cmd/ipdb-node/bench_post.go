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
	"strings"
	"syscall"
	"time"
)

// The bench workers' POSTs. A load generator shares the machine with the
// nodes it measures when a testnet runs on one host, so every CPU cycle it
// spends on a POST is taken from them. net/http's Transport hands each
// request to a writer and a reader goroutine of its connection; a poster
// instead keeps one HTTP/1.1 connection per plain-http API and does the
// whole round trip on its worker's goroutine, with net/http's own response
// parser. https APIs (TLS, proxies) go through the http.Client.

// postPath is the path and query of every bench POST.
const postPath = apiPrefix + "/transactions?mode=" + modeAsync

// poster sends one worker's POSTs; it is not safe for concurrent use.
type poster struct {
	ctx     context.Context // ends every round trip (and unblocks one) when done
	targets []postTarget
	conns   []*postConn // by target; nil when not connected
	hc      *http.Client
	req     []byte // the request being written, reused
}

// postTarget is one API: base URL, and the host:port to dial when it is
// plain http ("" for https, which goes through the http.Client).
type postTarget struct {
	base, addr, host string
}

// postConn is one kept-alive connection, and whether a response came on it
// (a reused connection the server closed while idle is worth one retry).
type postConn struct {
	c      net.Conn
	br     *bufio.Reader
	stop   func() bool // unregisters the context watch
	reused bool
}

// newPoster returns a poster over the API base URLs (normalizeAPIURL's
// form) that ends its round trips when ctx is done.
func newPoster(ctx context.Context, apis []string, hc *http.Client) *poster {
	p := &poster{ctx: ctx, targets: make([]postTarget, len(apis)), conns: make([]*postConn, len(apis)), hc: hc}
	for i, base := range apis {
		p.targets[i].base = base
		if host, ok := strings.CutPrefix(base, "http://"); ok {
			p.targets[i].host = host
			p.targets[i].addr = host
			if _, _, err := net.SplitHostPort(host); err != nil {
				p.targets[i].addr = net.JoinHostPort(strings.Trim(host, "[]"), "80")
			}
		}
	}
	return p
}

// post sends body to API i and returns its answer.
func (p *poster) post(i int, body []byte) (postAnswer, error) {
	t := &p.targets[i]
	if t.addr == "" {
		return p.postHTTP(t.base, body)
	}
	a, err := p.roundTrip(i, body)
	var stale errStaleConn
	if errors.As(err, &stale) {
		// The server closed a kept-alive connection before reading this
		// request: it was never handled, so send it once more on a new one.
		a, err = p.roundTrip(i, body)
	}
	return a, err
}

// postAnswer is an API's answer to a POST.
type postAnswer struct {
	status int
	body   []byte        // at most maxAPIResponseBytes
	retry  time.Duration // Retry-After in seconds, at most maxRetryAfter; 0: none
}

// maxRetryAfter bounds the Retry-After a bench worker honours.
const maxRetryAfter = time.Minute

// retryAfter parses a Retry-After header given in seconds; 0 for none or
// another form (an HTTP date, which the node never sends).
func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}

// errStaleConn is a reused connection that failed before any answer.
type errStaleConn struct{ err error }

func (e errStaleConn) Error() string { return e.err.Error() }
func (e errStaleConn) Unwrap() error { return e.err }

// roundTrip sends body to plain-http API i on its kept-alive connection,
// dialing one if there is none; any failure closes the connection.
func (p *poster) roundTrip(i int, body []byte) (a postAnswer, err error) {
	c, err := p.conn(i)
	if err != nil {
		return a, err
	}
	answered := false
	defer func() {
		if err != nil {
			p.drop(i)
			if c.reused && !answered && isStale(err) {
				err = errStaleConn{err}
			}
		}
	}()
	if err := c.c.SetDeadline(time.Now().Add(apiTimeout)); err != nil {
		return a, err
	}
	p.req = appendPostRequest(p.req[:0], p.targets[i].host, body)
	if _, err := c.c.Write(p.req); err != nil {
		return a, err
	}
	// Peek first: ReadResponse reports a connection closed before any
	// answer byte as io.ErrUnexpectedEOF, like one cut off midway.
	if _, err := c.br.Peek(1); err != nil {
		return a, err
	}
	answered = true
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return a, err
	}
	a.status, a.retry = resp.StatusCode, retryAfter(resp.Header)
	// One byte past the limit tells an answer too long, after which the
	// connection is out of step with the server.
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, maxAPIResponseBytes+1))
	if err == nil && len(a.body) > maxAPIResponseBytes {
		a.body, err = a.body[:maxAPIResponseBytes], fmt.Errorf("answer over %d bytes", maxAPIResponseBytes)
	}
	resp.Body.Close()
	if err != nil {
		return a, err
	}
	c.reused = true
	if resp.Close {
		p.drop(i)
	}
	return a, nil
}

// isStale reports whether err is what a write to, or a read from, a
// connection the server had closed gives before any answer byte.
func isStale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// conn returns API i's connection, dialing it if needed.
func (p *poster) conn(i int) (*postConn, error) {
	if c := p.conns[i]; c != nil {
		return c, nil
	}
	if err := p.ctx.Err(); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: benchDialTimeout}
	nc, err := d.DialContext(p.ctx, "tcp", p.targets[i].addr)
	if err != nil {
		return nil, err
	}
	c := &postConn{c: nc, br: bufio.NewReader(nc)}
	// A done context interrupts the connection's reads and writes at once.
	c.stop = context.AfterFunc(p.ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	p.conns[i] = c
	return c, nil
}

// drop closes API i's connection, if any.
func (p *poster) drop(i int) {
	if c := p.conns[i]; c != nil {
		c.stop()
		c.c.Close()
		p.conns[i] = nil
	}
}

// close closes every connection.
func (p *poster) close() {
	for i := range p.conns {
		p.drop(i)
	}
}

// postHTTP sends body through the http.Client (https APIs).
func (p *poster) postHTTP(base string, body []byte) (postAnswer, error) {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, base+postPath, bytes.NewReader(body))
	if err != nil {
		return postAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return postAnswer{}, err
	}
	defer resp.Body.Close()
	a := postAnswer{status: resp.StatusCode, retry: retryAfter(resp.Header)}
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, maxAPIResponseBytes))
	return a, err
}

// appendPostRequest appends an HTTP/1.1 POST of body to postPath on host.
func appendPostRequest(dst []byte, host string, body []byte) []byte {
	dst = append(dst, "POST "+postPath+" HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUser-Agent: ipdb-node-bench\r\nContent-Type: application/json\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}
