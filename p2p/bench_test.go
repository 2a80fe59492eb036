package p2p

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// BenchmarkPublish4Hosts publishes messages on one host of four and counts them
// delivered at the three others, with at most publishWindow messages in flight
// (gossipsub drops beyond its per-peer queue): 1 KiB on a signed topic and an Unsigned
// one, and 20 KiB (a transaction batch) on an Unsigned topic whose validators Accept
// (gossipsub relays every message on every mesh link, IDONTWANT keeping out what it
// can) or AcceptNoRelay (each host gets the author's copy only).
func BenchmarkPublish4Hosts(b *testing.B) {
	b.Run("signed", func(b *testing.B) { benchmarkPublish4Hosts(b, false, 1024, Accept) })
	b.Run("unsigned", func(b *testing.B) { benchmarkPublish4Hosts(b, true, 1024, Accept) })
	b.Run("unsigned-20KiB-relayed", func(b *testing.B) { benchmarkPublish4Hosts(b, true, 20<<10, Accept) })
	b.Run("unsigned-20KiB-not-relayed", func(b *testing.B) { benchmarkPublish4Hosts(b, true, 20<<10, AcceptNoRelay) })
}

func benchmarkPublish4Hosts(b *testing.B, unsigned bool, size int, verdict Verdict) {
	const publishWindow = 32
	hosts := startNet(b, 4)
	done := make(chan struct{}, 3*publishWindow)
	var topics []*Topic
	for i, h := range hosts {
		tc := TopicConfig{Name: "bench", MaxBytes: size + 1024, Unsigned: unsigned}
		if i > 0 {
			tc.Handle = func(peer.ID, []byte) { done <- struct{}{} }
			if verdict == AcceptNoRelay {
				tc.Validate = func(context.Context, peer.ID, []byte) Verdict {
					done <- struct{}{}
					return AcceptNoRelay
				}
			}
		}
		tp, err := h.Join(tc)
		if err != nil {
			b.Fatalf("Join()=%v", err)
		}
		topics = append(topics, tp)
	}
	waitTopicPeers(b, topics[0], 3)
	sent, received := 0, 0
	start := time.Now()
	for b.Loop() {
		// Distinct data (unsigned ids digest it), in a buffer of its own:
		// gossipsub keeps the bytes it was given to forward them.
		msg := make([]byte, size)
		binary.BigEndian.PutUint64(msg, uint64(sent))
		if err := topics[0].Publish(b.Context(), msg); err != nil {
			b.Fatalf("Publish()=%v", err)
		}
		sent++
		for 3*sent-received > 3*publishWindow {
			received += waitDone(b, done)
		}
	}
	for received < 3*sent {
		received += waitDone(b, done)
	}
	b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "msgs/s")
	var dup int64
	for _, h := range hosts[1:] {
		dup += h.Traffic()["bench"].Duplicates
	}
	b.ReportMetric(float64(dup)/float64(sent), "duplicates/msg")
}

// waitDone waits for one delivery.
func waitDone(b *testing.B, done <-chan struct{}) int {
	b.Helper()
	select {
	case <-done:
		return 1
	case <-time.After(waitTimeout):
		b.Fatalf("delivery lost")
		return 0
	}
}

// BenchmarkRequest measures 1 KiB request/response round trips between two hosts.
func BenchmarkRequest(b *testing.B) {
	hosts := startNet(b, 2)
	hosts[0].Handle("echo", 2048, func(_ context.Context, _ peer.ID, req []byte) ([]byte, error) {
		return req, nil
	})
	req := make([]byte, 1024)
	n := 0
	start := time.Now()
	for b.Loop() {
		if _, err := hosts[1].Request(b.Context(), hosts[0].ID(), "echo", req, 2048); err != nil {
			b.Fatalf("Request()=%v", err)
		}
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "round-trips/s")
}

// BenchmarkRequestLarge measures a request answered with 8 MiB, the size
// of a full block-sync answer, between two hosts on loopback.
func BenchmarkRequestLarge(b *testing.B) {
	const size = 8 << 20
	hosts := startNet(b, 2)
	resp := make([]byte, size)
	hosts[0].Handle("big", 64, func(context.Context, peer.ID, []byte) ([]byte, error) {
		return resp, nil
	})
	b.SetBytes(size)
	for b.Loop() {
		if _, err := hosts[1].Request(b.Context(), hosts[0].ID(), "big", []byte{1}, size); err != nil {
			b.Fatalf("Request()=%v", err)
		}
	}
}
