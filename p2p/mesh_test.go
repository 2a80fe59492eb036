package p2p

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// TestCompleteMesh: two caretakers connected only to a third (as after init
// --join) get each other's addresses from it and connect; a non-caretaker is
// refused the addresses and does not ask.
func TestCompleteMesh(t *testing.T) {
	hub, _ := startHost(t, testConfig(t))
	b, _ := startHost(t, testConfig(t, hub))
	c, _ := startHost(t, testConfig(t, hub))
	f, _ := startHost(t, testConfig(t, hub))
	caretakers := []peer.ID{hub.ID(), b.ID(), c.ID()}
	for _, h := range []*Host{hub, b, c, f} {
		h.SetCaretakers(caretakers)
	}
	waitFor(t, "the hub connected to all", func() bool { return len(hub.Peers()) == 3 })
	if got := b.UnconnectedCaretakers(); !slices.Equal(got, []peer.ID{c.ID()}) {
		t.Fatalf("b lacks %v, want %v", got, []peer.ID{c.ID()})
	}

	if n := f.completeMesh(t.Context()); n != 0 {
		t.Fatalf("a non-caretaker's completeMesh()=%d, want 0", n)
	}
	_, err := f.Request(t.Context(), hub.ID(), meshName, encodePeerIDs([]peer.ID{b.ID()}), maxMeshResponseBytes)
	if !errors.Is(err, ErrRemote) {
		t.Fatalf("a non-caretaker's request: %v, want ErrRemote", err)
	}

	if n := b.completeMesh(t.Context()); n != 1 {
		t.Fatalf("completeMesh()=%d, want 1 (c)", n)
	}
	if got := b.UnconnectedCaretakers(); len(got) != 0 {
		t.Fatalf("after completeMesh b lacks %v", got)
	}
	waitFor(t, "c to see b", func() bool { return len(c.UnconnectedCaretakers()) == 0 })
	if n := c.completeMesh(t.Context()); n != 0 {
		t.Fatalf("a complete mesh: completeMesh()=%d, want 0", n)
	}
}

func TestMeshCodec(t *testing.T) {
	ids := []peer.ID{testID(t), testID(t)}
	got, err := decodePeerIDs(encodePeerIDs(ids))
	if err != nil || !slices.Equal(got, ids) {
		t.Fatalf("decodePeerIDs(encodePeerIDs(%v))=%v, %v", ids, got, err)
	}
	a1, a2 := ma.StringCast("/ip4/127.0.0.1/tcp/1"), ma.StringCast("/ip4/10.0.0.1/udp/2/quic-v1")
	infos := []peer.AddrInfo{{ID: ids[0], Addrs: []ma.Multiaddr{a1, a2}}, {ID: ids[1]}}
	back, err := decodeAddrInfos(encodeAddrInfos(infos))
	if err != nil || len(back) != 2 || back[0].ID != ids[0] || len(back[0].Addrs) != 2 ||
		!back[0].Addrs[1].Equal(a2) || back[1].ID != ids[1] || len(back[1].Addrs) != 0 {
		t.Fatalf("decodeAddrInfos(encodeAddrInfos(%v))=%v, %v", infos, back, err)
	}

	good := encodeAddrInfos(infos[:1])
	tooMany := appendBytes(nil, []byte(ids[0]))
	tooMany = append(tooMany, maxMeshAddrs+1)
	for name, b := range map[string][]byte{
		"truncated":        good[:len(good)-1],
		"length past end":  {0x05, 1, 2},
		"bad peer id":      appendBytes(appendBytes(nil, []byte("not a peer id")), nil),
		"no address count": appendBytes(nil, []byte(ids[0])),
		"too many addrs":   tooMany,
		"bad address":      append(append(appendBytes(nil, []byte(ids[0])), 1), appendBytes(nil, []byte{0xff, 0xff})...),
	} {
		if _, err := decodeAddrInfos(b); !errors.Is(err, ErrBadFrame) {
			t.Errorf("%s: decodeAddrInfos()=%v, want ErrBadFrame", name, err)
		}
	}
	many := bytes.Repeat(encodePeerIDs(ids[:1]), maxCaretakers+1)
	if _, err := decodePeerIDs(many); !errors.Is(err, ErrBadFrame) {
		t.Errorf("%d ids: decodePeerIDs()=%v, want ErrBadFrame", maxCaretakers+1, err)
	}
	if _, err := decodePeerIDs([]byte{0x03, 'a', 'b', 'c'}); !errors.Is(err, ErrBadFrame) {
		t.Errorf("a bad id: decodePeerIDs()=%v, want ErrBadFrame", err)
	}
}

// testID returns the peer id of a new key.
func testID(t *testing.T) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(newKey(t))
	if err != nil {
		t.Fatalf("IDFromPrivateKey()=%v", err)
	}
	return id
}
