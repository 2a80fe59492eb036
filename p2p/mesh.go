package p2p

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Caretaker mesh: caretakers do not relay one another's transaction batches, so each
// should be connected to every other. An operator lists the caretakers they know in
// [p2p] peers; one who joined through a single node (init --join) knows that node only,
// and the others do not know the newcomer. So a host that lacks connections to current
// caretakers asks the caretakers it is connected to for their addresses
// (/ipdb/<chain>/caretaker-addrs/1: the request lists peer ids, the answer gives the
// listen addresses the peer knows for those it is connected to) and dials them, once
// every meshInterval. The dial's security handshake checks the peer id, so a wrong
// answer costs a failed dial only.

// meshName is the reserved protocol name of the caretaker address exchange.
const meshName = "caretaker-addrs"

// meshLoop completes the caretaker mesh every meshInterval until the host closes.
func (h *Host) meshLoop() {
	for h.sleep(meshInterval) {
		h.completeMesh(h.ctx)
	}
}

// completeMesh asks the connected caretakers for the addresses of the caretakers we are
// not connected to, and dials those. It returns how many it connected to.
func (h *Host) completeMesh(ctx context.Context) int {
	if !h.IsCaretaker(h.host.ID()) {
		return 0
	}
	missing := h.UnconnectedCaretakers()
	if len(missing) == 0 {
		return 0
	}
	req := encodePeerIDs(missing)
	connected := 0
	for _, p := range h.host.Network().Peers() {
		if !h.IsCaretaker(p) {
			continue
		}
		resp, err := h.Request(ctx, p, meshName, req, maxMeshResponseBytes)
		if err != nil {
			h.log.Debug("caretaker addresses: request failed", "peer", p, "err", err)
			continue
		}
		infos, err := decodeAddrInfos(resp)
		if err != nil {
			h.log.Debug("caretaker addresses: bad answer", "peer", p, "err", err)
			continue
		}
		for _, ai := range infos {
			if !h.IsCaretaker(ai.ID) || ai.ID == h.host.ID() || h.host.Network().Connectedness(ai.ID) == network.Connected {
				continue
			}
			if err := h.dial(ai); err != nil {
				h.log.Debug("caretaker addresses: dial failed", "peer", ai.ID, "via", p, "err", err)
				continue
			}
			h.log.Info("connected to a caretaker whose address a peer gave", "peer", ai.ID, "via", p)
			connected++
		}
		if len(h.UnconnectedCaretakers()) == 0 {
			break
		}
	}
	return connected
}

// serveCaretakerAddrs answers a caretaker's request with the listen addresses of the
// requested caretakers we are connected to. Non-caretakers are refused: they need no
// full mesh.
func (h *Host) serveCaretakerAddrs(_ context.Context, from peer.ID, req []byte) ([]byte, error) {
	if !h.IsCaretaker(from) {
		return nil, errors.New("caretaker addresses are given to caretakers only")
	}
	ids, err := decodePeerIDs(req)
	if err != nil {
		return nil, err
	}
	var infos []peer.AddrInfo
	for _, id := range ids {
		if !h.IsCaretaker(id) || h.host.Network().Connectedness(id) != network.Connected {
			continue
		}
		addrs := h.host.Peerstore().Addrs(id)
		infos = append(infos, peer.AddrInfo{ID: id, Addrs: addrs[:min(len(addrs), maxMeshAddrs)]})
	}
	return encodeAddrInfos(infos), nil
}

// startMesh registers the address exchange and starts meshLoop.
func (h *Host) startMesh() {
	h.handle(meshName, maxMeshRequestBytes, h.serveCaretakerAddrs)
	h.goTracked(h.meshLoop)
}

// encodePeerIDs writes ids as uvarint-length-prefixed bytes.
func encodePeerIDs(ids []peer.ID) []byte {
	var out []byte
	for _, id := range ids {
		out = appendBytes(out, []byte(id))
	}
	return out
}

// decodePeerIDs reads at most maxCaretakers peer ids written by encodePeerIDs.
func decodePeerIDs(b []byte) ([]peer.ID, error) {
	var ids []peer.ID
	for len(b) > 0 {
		if len(ids) == maxCaretakers {
			return nil, fmt.Errorf("%w: more than %d peer ids", ErrBadFrame, maxCaretakers)
		}
		id, rest, err := readPeerID(b)
		if err != nil {
			return nil, err
		}
		ids, b = append(ids, id), rest
	}
	return ids, nil
}

// encodeAddrInfos writes each info as its peer id, its address count (uvarint) and its
// addresses, each uvarint-length-prefixed.
func encodeAddrInfos(infos []peer.AddrInfo) []byte {
	var out []byte
	for _, ai := range infos {
		out = appendBytes(out, []byte(ai.ID))
		out = binary.AppendUvarint(out, uint64(len(ai.Addrs)))
		for _, a := range ai.Addrs {
			out = appendBytes(out, a.Bytes())
		}
	}
	return out
}

// decodeAddrInfos reads what encodeAddrInfos wrote, at most maxCaretakers infos of at
// most maxMeshAddrs addresses.
func decodeAddrInfos(b []byte) ([]peer.AddrInfo, error) {
	var infos []peer.AddrInfo
	for len(b) > 0 {
		if len(infos) == maxCaretakers {
			return nil, fmt.Errorf("%w: more than %d peers", ErrBadFrame, maxCaretakers)
		}
		id, rest, err := readPeerID(b)
		if err != nil {
			return nil, err
		}
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > maxMeshAddrs {
			return nil, fmt.Errorf("%w: address count of %s not a uvarint of at most %d", ErrBadFrame, id, maxMeshAddrs)
		}
		b = rest[k:]
		ai := peer.AddrInfo{ID: id}
		for range n {
			raw, rest, err := readBytes(b, maxMultiaddrBytes)
			if err != nil {
				return nil, err
			}
			a, err := ma.NewMultiaddrBytes(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: address of %s: %v", ErrBadFrame, id, err)
			}
			ai.Addrs, b = append(ai.Addrs, a), rest
		}
		infos = append(infos, ai)
	}
	return infos, nil
}

// readPeerID reads one length-prefixed peer id from b and returns it and the rest.
func readPeerID(b []byte) (peer.ID, []byte, error) {
	raw, rest, err := readBytes(b, maxPeerIDBytes)
	if err != nil {
		return "", nil, err
	}
	id, err := peer.IDFromBytes(raw)
	if err != nil {
		return "", nil, fmt.Errorf("%w: peer id: %v", ErrBadFrame, err)
	}
	return id, rest, nil
}

// appendBytes appends b with a uvarint length prefix.
func appendBytes(out, b []byte) []byte {
	return append(binary.AppendUvarint(out, uint64(len(b))), b...)
}

// readBytes reads one uvarint-length-prefixed field of at most max bytes from b and
// returns it and the rest.
func readBytes(b []byte, max int) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(max) || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("%w: field not a uvarint length of at most %d bytes followed by them", ErrBadFrame, max)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}
