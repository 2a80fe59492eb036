package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// streamPath is the one event stream of BigchainDB's WebSocket API (§1.5),
// served on the HTTP port.
const streamPath = "/api/v1/streams/valid_transactions"

// Limits of a stream connection.
const (
	// streamWriteTimeout bounds one write of a batch of events: a client that takes longer
	// is not reading, and its connection is closed.
	streamWriteTimeout = 10 * time.Second
	// streamPingInterval is how often an idle connection is pinged, so that
	// a vanished client frees its subscriber slot.
	streamPingInterval = 30 * time.Second
	// streamPingTimeout bounds the wait for a pong.
	streamPingTimeout = 10 * time.Second
	// maxClientMessageBytes bounds a client message; the stream reads client
	// messages only to discard them.
	maxClientMessageBytes = 4096
)

// Close reasons (at most 123 bytes, as RFC 6455 allows).
const (
	closeReasonEnded = "event stream ended: this client fell too far behind, or the node is stopping; reconnect"
)

// eventStream serves GET /api/v1/streams/valid_transactions: one text message
// per committed transaction, in commit order. It is safe for concurrent use.
type eventStream struct{ *streamSlots }

// streamSlots is what the event streams share: the backend, the subscriber
// limit and count, the subscription buffer and the logger.
type streamSlots struct {
	b     Backend
	max   int64
	buf   int
	log   *slog.Logger
	count atomic.Int64 // subscribers connected now
}

// newStreamSlots returns the slots of a stream over b; zero max and buf
// take the defaults.
func newStreamSlots(b Backend, max, buf int, log *slog.Logger) *streamSlots {
	if max <= 0 {
		max = streamDefaultMaxSubscribers
	}
	if buf <= 0 {
		buf = streamDefaultBuffer
	}
	return &streamSlots{b: b, max: int64(max), buf: buf, log: log}
}

// enter answers a request that is no WebSocket handshake, or comes when
// every slot is taken; otherwise it takes a slot, which leave gives back.
func (s *streamSlots) enter(r *http.Request) *apiError {
	if e := checkUpgrade(r); e != nil {
		return e
	}
	if s.count.Add(1) > s.max {
		s.count.Add(-1)
		return errTooManySubscribers(s.max)
	}
	return nil
}

// leave gives back the slot enter took.
func (s *streamSlots) leave() { s.count.Add(-1) }

// newEventStream returns a stream over b; zero max and buf take the defaults.
func newEventStream(b Backend, max, buf int, log *slog.Logger) *eventStream {
	return &eventStream{newStreamSlots(b, max, buf, log)}
}

// serve upgrades the request and sends events until the subscription ends,
// the client leaves, or a write fails.
func (s *eventStream) serve(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	subscribe := func(buf int) (<-chan Event, func()) {
		sub := s.b.Subscribe(buf)
		return sub.C, sub.Close
	}
	return serveSlot(s.streamSlots, w, r, subscribe, func(ev Event) []byte { return appendEvent(nil, ev) })
}

// serveSlot takes a slot of s (or answers why not), subscribes with s's
// buffer and streams what the subscription sends (streamTo). The slot is
// given back before the subscription is cancelled, so whoever sees it end
// may take the slot at once.
func serveSlot[T any](s *streamSlots, w http.ResponseWriter, r *http.Request,
	subscribe func(buf int) (<-chan T, func()), encode func(T) []byte) *apiError {
	if e := s.enter(r); e != nil {
		return e
	}
	ch, cancel := subscribe(s.buf)
	defer cancel()
	defer s.leave()
	streamTo(w, r, s.log, ch, encode)
	return nil
}

// errTooManySubscribers is the 503 of a stream at its subscriber limit.
func errTooManySubscribers(max int64) *apiError {
	return errUnavailable(fmt.Sprintf("Too many event stream subscribers (the limit is %d); retry later", max), "")
}

// streamTo upgrades the request to a WebSocket and writes each value of
// ch, as encode makes it, in one text message, until ch closes (then it
// closes the connection saying why), the client leaves, or a write or
// ping fails. Events are public and the streams take no credentials, so
// any origin may read them, as BigchainDB's aiohttp server allowed.
func streamTo[T any](w http.ResponseWriter, r *http.Request, log *slog.Logger, ch <-chan T, encode func(T) []byte) {
	bw := &batchingWriter{ResponseWriter: w}
	c, err := websocket.Accept(bw, r, &websocket.AcceptOptions{InsecureSkipVerify: true,
		CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		log.Debug("stream: upgrade failed", "err", err)
		return
	}
	if bw.conn == nil {
		// Accept asks the writer for http.Hijacker first, so it took the
		// connection through bw; should a library change break that, the
		// stream ends here rather than without its batching.
		log.Warn("stream: the WebSocket library did not hijack through the batching writer")
		c.CloseNow()
		return
	}
	c.SetReadLimit(maxClientMessageBytes)
	// The request's context is not used after the upgrade (the connection
	// is hijacked); the stream ends when the subscription or client does.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	var wg sync.WaitGroup
	wg.Go(func() { discardMessages(ctx, cancel, c) })
	sendAll(ctx, c, bw.conn, log, ch, encode)
	cancel()
	c.CloseNow() // unblocks the reader if sendAll returned without closing
	wg.Wait()
}

// checkUpgrade answers a request that is no WebSocket handshake with JSON,
// before the library would answer it in plain text.
func checkUpgrade(r *http.Request) *apiError {
	switch {
	case r.Method != http.MethodGet || !r.ProtoAtLeast(1, 1) || !headerHasToken(r.Header, "Connection", "upgrade") ||
		!headerHasToken(r.Header, "Upgrade", "websocket"):
		return errMessage(http.StatusUpgradeRequired, "This endpoint is a WebSocket stream; connect with a WebSocket client")
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return errMessage(http.StatusBadRequest, "Unsupported WebSocket version; use 13")
	case r.Header.Get("Sec-WebSocket-Key") == "":
		return errMessage(http.StatusBadRequest, "Missing Sec-WebSocket-Key header")
	}
	return nil
}

// headerHasToken reports whether a comma-separated header holds token
// (case-insensitive).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// discardMessages reads and drops client messages (BigchainDB ignores them)
// so that pings and the close handshake are answered; it cancels ctx when
// the connection ends.
func discardMessages(ctx context.Context, cancel context.CancelFunc, c *websocket.Conn) {
	defer cancel()
	for {
		_, rd, err := c.Reader(ctx)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, rd); err != nil {
			return
		}
	}
}

// sendAll writes the values of ch until it closes (then it closes the
// connection saying why), ctx is done, or a write or ping fails. The values
// waiting in ch when one arrives are written with it in one batch of bc
// (ws_batch.go).
func sendAll[T any](ctx context.Context, c *websocket.Conn, bc *batchConn, log *slog.Logger, ch <-chan T, encode func(T) []byte) {
	ping := time.NewTicker(streamPingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			if err := pingWithin(ctx, c); err != nil {
				log.Debug("stream: ping failed", "err", err)
				return
			}
		case v, ok := <-ch:
			if ok {
				ok, err := sendBatch(ctx, c, bc, v, ch, encode)
				if err != nil {
					log.Debug("stream: write failed", "err", err)
					return
				}
				if ok {
					continue
				}
			}
			c.Close(websocket.StatusTryAgainLater, closeReasonEnded)
			return
		}
	}
}

// sendBatch writes v and the values waiting in ch after it, up to
// maxStreamBatchBytes, each in its own message, and reports whether ch is
// still open.
func sendBatch[T any](ctx context.Context, c *websocket.Conn, bc *batchConn, v T, ch <-chan T, encode func(T) []byte) (open bool, err error) {
	bc.begin()
	defer func() {
		if endErr := bc.end(streamWriteTimeout); err == nil {
			err = endErr
		}
	}()
	for {
		// The message only joins the batch: the batch's end bounds the
		// write, so no timer is set per message.
		if err := c.Write(ctx, websocket.MessageText, encode(v)); err != nil {
			return true, err
		}
		if bc.size() >= maxStreamBatchBytes {
			return true, nil
		}
		select {
		case v, open = <-ch:
			if !open {
				return false, nil
			}
		default:
			return true, nil
		}
	}
}

// pingWithin pings the client and waits streamPingTimeout for the pong.
func pingWithin(ctx context.Context, c *websocket.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, streamPingTimeout)
	defer cancel()
	return c.Ping(ctx)
}

// appendEvent appends an event as BigchainDB's json.dumps writes it: keys
// height, asset_id, transaction_id with ", " and ": " separators, then our
// block_cid when the block is known.
func appendEvent(dst []byte, ev Event) []byte {
	dst = append(dst, `{"height": `...)
	dst = strconv.AppendUint(dst, ev.Height, 10)
	dst = append(dst, `, "asset_id": `...)
	dst = appendJSONString(dst, ev.AssetID)
	dst = append(dst, `, "transaction_id": `...)
	dst = appendJSONString(dst, ev.TxID)
	if ev.BlockCID.Defined() {
		dst = append(dst, `, "block_cid": `...)
		dst = appendJSONString(dst, ev.BlockCID.String())
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic("node: a string always encodes as JSON: " + err.Error())
	}
	return append(dst, b...)
}
