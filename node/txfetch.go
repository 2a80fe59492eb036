package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

// The missing-transaction protocol: a node verifying a proposal asks the
// proposer (then other peers) for the transactions its backlog lacks.
//
//	request  = [id (32 bytes), ...]           at most MaxFetchTxs
//	response = [canonical tx (bytes), ...]    the ones the peer has, in request order

// fetchTimeout bounds one missing-transaction request.
const fetchTimeout = 10 * time.Second

// fetchPeers bounds how many peers are asked for one block's transactions.
const fetchPeers = 4

// txFetcher asks peers for transactions and serves their requests. It is
// safe for concurrent use.
type txFetcher struct {
	host    *p2p.Host
	backlog *backlog
	store   *ledger.Store
	gossip  *txGossip // offered what we fetch; nil in tests without one
	log     *slog.Logger
	metrics *Metrics
}

// serve answers a request from the backlog, then the store, within
// MaxFetchResponseBytes.
func (f *txFetcher) serve(_ context.Context, _ peer.ID, req []byte) ([]byte, error) {
	ids, err := decodeFetchRequest(req)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	size := 16
	for _, id := range ids {
		raw := f.lookup(id)
		if raw == nil {
			continue
		}
		if size += len(raw) + 8; size > MaxFetchResponseBytes {
			break
		}
		out = append(out, raw)
	}
	return mustEncode(out), nil
}

// lookup returns a transaction's canonical bytes, or nil.
func (f *txFetcher) lookup(id [32]byte) []byte {
	hexID, err := ledger.TxIDFromCID(ledger.TxCID(id))
	if err != nil {
		return nil
	}
	if v := f.backlog.Get(hexID); v != nil {
		return v.Tx().Canonical()
	}
	raw, _, err := f.store.Tx(hexID)
	if err != nil {
		return nil
	}
	return raw
}

func decodeFetchRequest(data []byte) ([][32]byte, error) {
	if len(data) > MaxFetchRequestBytes {
		return nil, malformedMsg("fetch request of %d bytes", len(data))
	}
	var raw [][]byte
	if err := decodeCanonical(data, &raw); err != nil {
		return nil, fmt.Errorf("fetch request: %w", err)
	}
	if len(raw) > MaxFetchTxs {
		return nil, malformedMsg("fetch request of %d ids", len(raw))
	}
	ids := make([][32]byte, len(raw))
	for i, r := range raw {
		if len(r) != 32 {
			return nil, malformedMsg("fetch request id %d of %d bytes", i, len(r))
		}
		ids[i] = [32]byte(r)
	}
	return ids, nil
}

// fetch returns the transactions want, verified, asking first then the
// other connected peers until all are found.
func (f *txFetcher) fetch(ctx context.Context, first peer.ID, want []cid.Cid) ([]*ledger.VerifiedTx, error) {
	got := make(map[cid.Cid]*ledger.VerifiedTx, len(want))
	var errs []error
	for _, p := range f.candidates(first) {
		if err := f.fetchFrom(ctx, p, want, got); err != nil {
			errs = append(errs, fmt.Errorf("peer %s: %w", p, err))
		}
		if len(got) == len(want) {
			f.metrics.fetched(len(want))
			out := make([]*ledger.VerifiedTx, len(want))
			for i, c := range want {
				out[i] = got[c]
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("fetch %d missing transactions: found %d: %w", len(want), len(got), errors.Join(errs...))
}

// candidates lists the peers to ask: first, then others, at most fetchPeers.
func (f *txFetcher) candidates(first peer.ID) []peer.ID {
	var out []peer.ID
	if first != "" {
		out = append(out, first)
	}
	for _, p := range f.host.Peers() {
		if len(out) >= fetchPeers {
			break
		}
		if p.ID != first {
			out = append(out, p.ID)
		}
	}
	return out
}

// fetchFrom asks p for the transactions of want not yet in got.
func (f *txFetcher) fetchFrom(ctx context.Context, p peer.ID, want []cid.Cid, got map[cid.Cid]*ledger.VerifiedTx) error {
	var ids [][]byte
	for _, c := range want {
		if got[c] == nil {
			ids = append(ids, []byte(c.Hash()[len(c.Hash())-32:]))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	resp, err := f.host.Request(ctx, p, reqTxs, mustEncode(ids), MaxFetchResponseBytes)
	if err != nil {
		return err
	}
	var raws [][]byte
	if err := decodeCanonical(resp, &raws); err != nil {
		return fmt.Errorf("fetch response: %w", err)
	}
	return f.admit(ctx, raws, want, got)
}

// admit verifies fetched transactions and records the wanted ones.
func (f *txFetcher) admit(ctx context.Context, raws [][]byte, want []cid.Cid, got map[cid.Cid]*ledger.VerifiedTx) error {
	wanted := make(map[string]bool, len(want))
	for _, c := range want {
		wanted[c.KeyString()] = true
	}
	vtxs, err := verifyAll(ctx, ledger.Verify, raws, nil)
	if err != nil {
		return err
	}
	for _, vt := range vtxs {
		c := vt.Tx().CID()
		if !wanted[c.KeyString()] {
			return fmt.Errorf("%w: fetched tx %s was not asked for", ErrMalformedMessage, vt.Tx().ID)
		}
		got[c] = vt
	}
	if f.gossip == nil {
		return nil
	}
	_, err = f.gossip.offer(raws, vtxs)
	return err
}
