package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// RequestHandler answers one request. ctx ends after DefaultRequestTimeout or when the
// host closes. A returned error reaches the requester as a string of at most
// MaxErrorBytes, wrapped in ErrRemote.
type RequestHandler = func(ctx context.Context, from peer.ID, req []byte) ([]byte, error)

// Handle serves protocol /ipdb/<chain>/<name>/1: one request per stream, a request of at
// most maxReq bytes (clamped to 0..MaxFrameBytes; a larger one is answered with
// ErrRequestTooLarge before its body is read), one response. Registering a name again
// replaces its handler. An invalid or reserved name ("status", "caretaker-addrs") is logged and ignored.
// Safe for concurrent use.
func (h *Host) Handle(name string, maxReq int, fn RequestHandler) {
	if err := checkProtocolName(name); err != nil {
		h.log.Error("p2p handler not registered", "name", name, "err", err)
		return
	}
	h.handle(name, maxReq, fn)
}

// handle is Handle without the name check, for the host's own reserved protocols.
func (h *Host) handle(name string, maxReq int, fn RequestHandler) {
	maxReq = clampFrame(maxReq)
	h.host.SetStreamHandler(protocol.ID(h.protocolName(name)), func(s network.Stream) {
		h.serve(s, maxReq, fn)
	})
}

// checkProtocolName refuses empty, long, slash-containing or reserved names.
func checkProtocolName(name string) error {
	switch {
	case name == "" || len(name) > maxNameBytes || strings.Contains(name, "/"):
		return fmt.Errorf("%w: name must have 1..%d bytes and no '/'", ErrConfig, maxNameBytes)
	case name == statusName || name == meshName:
		return fmt.Errorf("%w: name %q is reserved", ErrConfig, name)
	}
	return nil
}

// clampFrame clamps a caller's frame limit to 0..MaxFrameBytes.
func clampFrame(n int) int { return min(max(n, 0), MaxFrameBytes) }

// serve answers one request stream.
func (h *Host) serve(s network.Stream, maxReq int, fn RequestHandler) {
	if !h.enter() {
		_ = s.Reset()
		return
	}
	defer h.leave()
	defer h.resetOnClose(s)()
	_ = s.SetDeadline(time.Now().Add(DefaultRequestTimeout))
	req, err := readFrame(bufio.NewReader(s), maxReq)
	if errors.Is(err, ErrFrameTooLarge) {
		h.reply(s, []byte{respReqTooBig})
		return
	}
	if err != nil {
		h.log.Debug("bad request", "peer", s.Conn().RemotePeer(), "protocol", s.Protocol(), "err", err)
		_ = s.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, DefaultRequestTimeout)
	defer cancel()
	resp, err := fn(ctx, s.Conn().RemotePeer(), req)
	if err != nil {
		h.reply(s, []byte{respError}, errorPayload(err))
		return
	}
	h.reply(s, []byte{respData}, resp)
}

// reply writes the response frame and closes the stream.
func (h *Host) reply(s network.Stream, parts ...[]byte) {
	if err := writeFrame(s, parts...); err != nil {
		h.log.Debug("write response", "peer", s.Conn().RemotePeer(), "protocol", s.Protocol(), "err", err)
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

// Request sends req to peer to on protocol /ipdb/<chain>/<name>/1 and returns the
// response of at most maxResp bytes (clamped to 0..MaxFrameBytes). It is bound by ctx,
// by DefaultRequestTimeout when ctx has no deadline, and by Close. Errors wrap
// ErrRequestTooLarge, ErrResponseTooLarge, ErrRemote (the handler's error), ErrBadFrame,
// ErrClosed, or ctx's error. Safe for concurrent use.
func (h *Host) Request(ctx context.Context, to peer.ID, name string, req []byte, maxResp int) ([]byte, error) {
	if len(req) > MaxFrameBytes {
		return nil, fmt.Errorf("%w: %d > %d bytes", ErrRequestTooLarge, len(req), MaxFrameBytes)
	}
	if h.ctx.Err() != nil {
		return nil, ErrClosed
	}
	ctx, cancel := h.requestContext(ctx)
	defer cancel()
	s, err := h.host.NewStream(ctx, to, protocol.ID(h.protocolName(name)))
	if err != nil {
		return nil, h.requestErr(ctx, name, fmt.Errorf("open stream to %s: %w", to, err))
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	resp, err := exchange(ctx, s, req, clampFrame(maxResp))
	if err != nil {
		_ = s.Reset()
		return nil, h.requestErr(ctx, name, err)
	}
	_ = s.Close()
	return resp, nil
}

// requestContext adds DefaultRequestTimeout when ctx has no deadline, and ends with Close.
func (h *Host) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	var cancelT context.CancelFunc = func() {}
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancelT = context.WithTimeout(ctx, DefaultRequestTimeout)
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(h.ctx, cancel)
	return ctx, func() { stop(); cancel(); cancelT() }
}

// requestErr prefers the context's reason (cancelled, deadline, host closed) to the
// stream error it caused.
func (h *Host) requestErr(ctx context.Context, name string, err error) error {
	switch {
	case h.ctx.Err() != nil:
		return fmt.Errorf("request %s: %w", name, ErrClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("request %s: %w", name, ctx.Err())
	}
	return fmt.Errorf("request %s: %w", name, err)
}

// exchange writes the request frame and reads the response frame on s.
func exchange(ctx context.Context, s network.Stream, req []byte, maxResp int) ([]byte, error) {
	if deadline, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(deadline)
	}
	if err := writeFrame(s, req); err != nil {
		return nil, err
	}
	if err := s.CloseWrite(); err != nil {
		return nil, fmt.Errorf("close write: %w", err)
	}
	frame, err := readFrame(bufio.NewReader(s), 1+max(maxResp, maxRespPayload))
	if errors.Is(err, ErrFrameTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrResponseTooLarge, err)
	}
	if err != nil {
		return nil, err
	}
	return decodeResponse(frame, maxResp)
}
