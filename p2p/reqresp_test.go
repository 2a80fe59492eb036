package p2p

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestRequest(t *testing.T) {
	hosts := startNet(t, 2)
	server, client := hosts[0], hosts[1]
	started := make(chan struct{}, 1)
	server.Handle("echo", 64, func(_ context.Context, from peer.ID, req []byte) ([]byte, error) {
		if from != client.ID() {
			return nil, errors.New("wrong from")
		}
		return req, nil
	})
	server.Handle("fail", 64, func(context.Context, peer.ID, []byte) ([]byte, error) {
		return nil, errors.New("no such block\n" + strings.Repeat("x", 2*MaxErrorBytes))
	})
	server.Handle("big", 64, func(context.Context, peer.ID, []byte) ([]byte, error) {
		return bytes.Repeat([]byte("y"), 100), nil
	})
	server.Handle("block", 64, func(ctx context.Context, _ peer.ID, _ []byte) ([]byte, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	tests := []struct {
		name    string
		proto   string
		req     string
		maxResp int
		want    string
		wantErr []error
	}{
		{"round trip", "echo", "ping", 64, "ping", nil},
		{"empty request", "echo", "", 64, "", nil},
		{"remote error", "fail", "x", 64, "", []error{ErrRemote}},
		{"request too large", "echo", strings.Repeat("z", 65), 64, "", []error{ErrRemote, ErrRequestTooLarge}},
		{"response too large", "big", "x", 99, "", []error{ErrResponseTooLarge}},
		{"response at limit", "big", "x", 100, strings.Repeat("y", 100), nil},
		{"no handler", "missing", "x", 64, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.Request(t.Context(), server.ID(), tt.proto, []byte(tt.req), tt.maxResp)
			if tt.proto == "missing" {
				if err == nil {
					t.Fatalf("Request(missing)=%q, nil, want an error", got)
				}
				return
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Fatalf("Request()=%v, want %v", err, want)
				}
			}
			if tt.wantErr == nil && (err != nil || string(got) != tt.want) {
				t.Fatalf("Request()=%q, %v, want %q, nil", got, err, tt.want)
			}
		})
	}
	t.Run("remote error text", func(t *testing.T) {
		_, err := client.Request(t.Context(), server.ID(), "fail", nil, 64)
		if !strings.Contains(err.Error(), "no such block?xxx") || len(err.Error()) > MaxErrorBytes+64 {
			t.Fatalf("Request() error = %q, want the sanitised, truncated remote text", err)
		}
	})
	t.Run("ctx cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-started; cancel() }()
		_, err := client.Request(ctx, server.ID(), "block", nil, 64)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Request()=%v, want %v", err, context.Canceled)
		}
	})
}

func TestRequestLimitsLocal(t *testing.T) {
	h, _ := startHost(t, testConfig(t))
	_, err := h.Request(t.Context(), h.ID(), "echo", make([]byte, MaxFrameBytes+1), 1)
	if !errors.Is(err, ErrRequestTooLarge) {
		t.Fatalf("Request(MaxFrameBytes+1)=%v, want %v", err, ErrRequestTooLarge)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("Close()=%v, want nil", err)
	}
	if _, err := h.Request(t.Context(), h.ID(), "echo", nil, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Request() after Close = %v, want %v", err, ErrClosed)
	}
}
