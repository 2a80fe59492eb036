package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipfs/go-cid"
)

// wsTestTimeout bounds each stream test, so that a bug fails it instead of
// hanging the run; no assertion depends on it.
const wsTestTimeout = 30 * time.Second

// wsServer serves a fixture's handler with options o over loopback, with
// Subscribe calls announced on the backend's subs channel.
func wsServer(t *testing.T, o HandlerOptions) (*apiFixture, *httptest.Server, context.Context) {
	t.Helper()
	f := newAPIFixture(t)
	f.b.subs = make(chan *apiTestSub, 8)
	srv := httptest.NewServer(NewHandler(f.b, o))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), wsTestTimeout)
	t.Cleanup(cancel)
	return f, srv, ctx
}

// wsDial connects to the stream at path.
func wsDial(t *testing.T, ctx context.Context, srv *httptest.Server, path string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+path, nil)
	if err != nil {
		t.Fatalf("Dial(%s)=%v", path, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// wsNextSub returns the subscription the handler made for the newest client.
func wsNextSub(t *testing.T, ctx context.Context, f *apiFixture) *apiTestSub {
	t.Helper()
	select {
	case s := <-f.b.subs:
		return s
	case <-ctx.Done():
		t.Fatalf("no Subscribe call: %v", ctx.Err())
		return nil
	}
}

// wsWaitClosed waits until the handler closed the subscription.
func wsWaitClosed(t *testing.T, ctx context.Context, s *apiTestSub) {
	t.Helper()
	select {
	case <-s.closed:
	case <-ctx.Done():
		t.Fatalf("subscription never closed: %v", ctx.Err())
	}
}

func TestStreamEventsInOrder(t *testing.T) {
	for _, path := range []string{streamPath, streamPath + "/"} {
		t.Run(path, func(t *testing.T) {
			f, srv, ctx := wsServer(t, HandlerOptions{})
			c := wsDial(t, ctx, srv, path)
			sub := wsNextSub(t, ctx, f)
			if err := c.Write(ctx, websocket.MessageText, []byte(`{"hello": "ignored"}`)); err != nil {
				t.Fatalf("Write()=%v", err)
			}
			b1, err := cid.Decode(apiBlockCID(t, f, 1))
			if err != nil {
				t.Fatalf("cid.Decode()=%v", err)
			}
			events := []Event{
				{TxID: f.c1.ID, AssetID: f.c1.ID, Height: 1, BlockCID: b1},
				{TxID: f.c2.ID, AssetID: f.c2.ID, Height: 1, BlockCID: b1},
				{TxID: f.t1.ID, AssetID: f.c1.ID, Height: 2},
			}
			for _, ev := range events {
				sub.c <- ev
			}
			want := []string{
				fmt.Sprintf(`{"height": 1, "asset_id": "%s", "transaction_id": "%s", "block_cid": "%s"}`, f.c1.ID, f.c1.ID, b1),
				fmt.Sprintf(`{"height": 1, "asset_id": "%s", "transaction_id": "%s", "block_cid": "%s"}`, f.c2.ID, f.c2.ID, b1),
				fmt.Sprintf(`{"height": 2, "asset_id": "%s", "transaction_id": "%s"}`, f.c1.ID, f.t1.ID),
			}
			for i, w := range want {
				typ, got, err := c.Read(ctx)
				if err != nil || typ != websocket.MessageText || string(got) != w {
					t.Fatalf("message %d=%v %s (err %v), want text %s", i, typ, got, err, w)
				}
			}
			c.Close(websocket.StatusNormalClosure, "")
			wsWaitClosed(t, ctx, sub)
		})
	}
}

// TestStreamOutlivesServerTimeouts checks that the server's read and write
// timeouts do not cut the stream (net/http clears its deadlines when the
// upgrade hijacks the connection; the stream bounds its own writes and pings
// idle clients). Waiting past them is the behaviour under test, not a
// synchronisation.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	const timeout = 100 * time.Millisecond
	f := newAPIFixture(t)
	f.b.subs = make(chan *apiTestSub, 1)
	srv := httptest.NewUnstartedServer(NewHandler(f.b, HandlerOptions{}))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = timeout, timeout
	srv.Start()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), wsTestTimeout)
	t.Cleanup(cancel)
	c := wsDial(t, ctx, srv, streamPath)
	sub := wsNextSub(t, ctx, f)
	<-time.After(3 * timeout)
	sub.c <- Event{TxID: f.c1.ID, AssetID: f.c1.ID, Height: 1}
	if _, got, err := c.Read(ctx); err != nil || !strings.Contains(string(got), f.c1.ID) {
		t.Fatalf("Read() after the server timeouts=%s, %v, want the event", got, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	wsWaitClosed(t, ctx, sub)
}

func TestStreamEndsWhenSubscriptionCloses(t *testing.T) {
	f, srv, ctx := wsServer(t, HandlerOptions{})
	c := wsDial(t, ctx, srv, streamPath)
	sub := wsNextSub(t, ctx, f)
	sub.c <- Event{TxID: f.c1.ID, AssetID: f.c1.ID, Height: 1}
	close(sub.c) // what the node does to a subscriber that fell behind
	if _, got, err := c.Read(ctx); err != nil || !strings.Contains(string(got), f.c1.ID) {
		t.Fatalf("Read()=%s, %v, want the event sent before the close", got, err)
	}
	_, _, err := c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusTryAgainLater {
		t.Fatalf("Read() after the subscription closed: status %v (err %v), want %v", got, err, websocket.StatusTryAgainLater)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Reason != closeReasonEnded {
		t.Fatalf("close reason=%q, want %q", ce.Reason, closeReasonEnded)
	}
	wsWaitClosed(t, ctx, sub)
}

// TestStreamSlowClientDropped publishes, as the node does, without ever
// blocking: a send that finds the subscriber's buffer full drops it. The
// client reads nothing until publishing is over, so it must be dropped; it
// then gets the events that were in flight and a close saying why.
func TestStreamSlowClientDropped(t *testing.T) {
	f, srv, ctx := wsServer(t, HandlerOptions{StreamBuffer: 16, MaxSubscribers: 1})
	c := wsDial(t, ctx, srv, streamPath)
	sub := wsNextSub(t, ctx, f)
	const most = 1_000_000 // far more than socket buffers hold
	sent := 0
	for ; sent < most; sent++ {
		select {
		case sub.c <- Event{TxID: f.c1.ID, AssetID: f.c1.ID, Height: uint64(sent)}:
			continue
		default:
			close(sub.c)
		}
		break
	}
	if sent == most {
		t.Fatalf("published %d events to a client that reads nothing without filling its buffer", sent)
	}
	received := 0
	var err error
	for err == nil {
		_, _, err = c.Read(ctx)
		received++
	}
	if got := websocket.CloseStatus(err); got != websocket.StatusTryAgainLater || received-1 > sent {
		t.Fatalf("after %d events sent: %d received then status %v (err %v), want at most %d then %v",
			sent, received-1, got, err, sent, websocket.StatusTryAgainLater)
	}
	wsWaitClosed(t, ctx, sub)
	c2 := wsDial(t, ctx, srv, streamPath) // the dropped client's slot is free
	wsNextSub(t, ctx, f)
	c2.Close(websocket.StatusNormalClosure, "")
}

func TestStreamMaxSubscribers(t *testing.T) {
	f, srv, ctx := wsServer(t, HandlerOptions{MaxSubscribers: 1})
	c := wsDial(t, ctx, srv, streamPath)
	sub := wsNextSub(t, ctx, f)
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+streamPath, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second Dial()=%v %v, want 503", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	want := `{"message":"Too many event stream subscribers (the limit is 1); retry later","status":503}`
	if string(body) != want || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("second Dial() body=%s, want %s", body, want)
	}
	c.Close(websocket.StatusNormalClosure, "")
	wsWaitClosed(t, ctx, sub)
	wsDial(t, ctx, srv, streamPath)
	wsNextSub(t, ctx, f)
}

func TestHTTPStreamURL(t *testing.T) {
	f := newAPIFixture(t)
	h := NewHandler(f.b, HandlerOptions{StreamURL: "wss://stream.example/events"})
	for _, path := range []string{"/", "/api/v1/"} {
		w := apiDo(h, http.MethodGet, path, nil)
		if !strings.Contains(w.Body.String(), `"streams":"wss://stream.example/events"`) {
			t.Fatalf("GET %s=%s, want the configured stream URL", path, w.Body)
		}
	}
}

func TestAppendEvent(t *testing.T) {
	id := strings.Repeat("ab", 32)
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{TxID: id, AssetID: id, Height: 0}, `{"height": 0, "asset_id": "` + id + `", "transaction_id": "` + id + `"}`},
		{Event{TxID: `a"b`, AssetID: "\x01", Height: 18446744073709551615},
			`{"height": 18446744073709551615, "asset_id": "\u0001", "transaction_id": "a\"b"}`},
	}
	for _, tt := range tests {
		if got := string(appendEvent(nil, tt.ev)); got != tt.want {
			t.Fatalf("appendEvent(%+v)=%s, want %s", tt.ev, got, tt.want)
		}
	}
}
