package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/sync/errgroup"

	"github.com/ipdb/ipdb-node/ledger"
)

// ErrInvalidProposal is wrapped when a proposed or synced block breaks a
// rule that needs state: it does not extend our tip, its commit of the
// previous block does not verify, a transaction is invalid, or its state
// hash is wrong.
var ErrInvalidProposal = errors.New("node: invalid block")

// candidate is a proposed block of the current height.
type candidate struct {
	block     *ledger.Block
	cid       cid.Cid
	from      peer.ID // the peer that gossiped its proposal ("" for ours)
	checked   []*ledger.CheckedTx
	verifying bool      // a verifier runs (loop-owned)
	built     time.Time // when we built it (ours only)
}

// verifier checks proposed and synced blocks against the store. Its
// methods are safe for concurrent use, but a check is only meaningful
// while the store's tip is the block's parent.
type verifier struct {
	store   *ledger.Store
	backlog *backlog
	gov     *govBook
	fetch   *txFetcher // nil: no peers to ask
}

func invalidBlock(h uint64, format string, args ...any) error {
	return fmt.Errorf("%w %d: %s", ErrInvalidProposal, h, fmt.Sprintf(format, args...))
}

// verify checks a proposed block (paper: valid(v)): its header against our
// tip, its transactions (fetched from the proposer when the backlog lacks
// them) statelessly and then in a batch over the store, and its state hash.
// It returns the checked transactions, in block order.
func (v *verifier) verify(ctx context.Context, c *candidate) ([]*ledger.CheckedTx, error) {
	prev, prevCID, err := v.store.LatestBlock()
	if err != nil {
		return nil, fmt.Errorf("read newest block: %w", err)
	}
	if err := v.checkHeader(c.block, prev, prevCID, time.Now()); err != nil {
		return nil, err
	}
	vtxs, err := v.collect(ctx, c.block, c.from)
	if err != nil {
		return nil, err
	}
	return v.execute(prev, c.block, vtxs)
}

// checkHeader checks b as the child of prev (whose CID is prevCID). now is
// the time a live proposal must not be far ahead of (zero: not checked).
func (v *verifier) checkHeader(b, prev *ledger.Block, prevCID cid.Cid, now time.Time) error {
	h := b.Height
	set, params := v.gov.setAt(h), v.gov.paramsAt(h)
	switch {
	case b.ChainID != set.chainID:
		return invalidBlock(h, "chain %q", b.ChainID)
	case h != prev.Height+1:
		return invalidBlock(h, "height after %d", prev.Height)
	case !b.Prev.Equals(prevCID):
		return invalidBlock(h, "prev %s, want %s", b.Prev, prevCID)
	case b.Time < prev.Time:
		return invalidBlock(h, "time %d before the previous block's %d", b.Time, prev.Time)
	case !now.IsZero() && b.Time > now.Add(maxBlockSkew).UnixMilli():
		return invalidBlock(h, "time %d is in the future", b.Time)
	case !bytes.Equal(b.CaretakersHash, set.hash):
		return invalidBlock(h, "caretakers hash %x, want %x", b.CaretakersHash, set.hash)
	case uint64(len(b.Txs)) > params.MaxBlockTxs:
		return invalidBlock(h, "%d transactions, over the network's max_block_txs of %d", len(b.Txs), params.MaxBlockTxs)
	}
	for i := range b.Evidence {
		ev := &b.Evidence[i]
		if err := ev.Verify(set.chainID, v.gov.setAt(ev.Height).power); err != nil {
			return fmt.Errorf("%w %d: evidence %d: %w", ErrInvalidProposal, h, i, err)
		}
	}
	return v.checkLastCommit(b)
}

// checkLastCommit accepts b's commit of the previous block when it is the
// one we stored or when it verifies on its own.
func (v *verifier) checkLastCommit(b *ledger.Block) error {
	if b.Height <= 1 {
		return nil
	}
	if ours, err := v.store.Commit(b.Height - 1); err == nil {
		a, aerr := ours.Encode()
		c, cerr := b.LastCommit.Encode()
		if aerr == nil && cerr == nil && bytes.Equal(a, c) {
			return nil
		}
	}
	if err := v.gov.setAt(b.Height-1).verifyCommit(b.LastCommit, b.Height-1, b.Prev); err != nil {
		return fmt.Errorf("%w %d: last commit: %w", ErrInvalidProposal, b.Height, err)
	}
	return nil
}

// collect returns b's transactions verified statelessly: from the backlog
// (verified when admitted) or fetched from peers (from first) and verified
// here in parallel.
func (v *verifier) collect(ctx context.Context, b *ledger.Block, from peer.ID) ([]*ledger.VerifiedTx, error) {
	out := make([]*ledger.VerifiedTx, len(b.Txs))
	var missing []int
	for i, c := range b.Txs {
		id, err := ledger.TxIDFromCID(c)
		if err != nil {
			return nil, invalidBlock(b.Height, "tx %d: %v", i, err)
		}
		if out[i] = v.backlog.Get(id); out[i] == nil {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	if v.fetch == nil {
		return nil, fmt.Errorf("block %d: %d transactions missing and no peers", b.Height, len(missing))
	}
	want := make([]cid.Cid, len(missing))
	for j, i := range missing {
		want[j] = b.Txs[i]
	}
	got, err := v.fetch.fetch(ctx, from, want)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", b.Height, err)
	}
	for j, i := range missing {
		out[i] = got[j]
	}
	return out, nil
}

// executeSynced checks a synced block against the store, whose tip must be
// prev (of CID prevCID): its header and commit with the caretaker set of
// its height, then its transactions.
func (v *verifier) executeSynced(prev *ledger.Block, prevCID cid.Cid, sb *syncedBlock) ([]*ledger.CheckedTx, error) {
	b := sb.block
	if err := v.checkHeader(b, prev, prevCID, time.Time{}); err != nil {
		return nil, err
	}
	if err := v.gov.setAt(b.Height).verifyCommit(sb.commit, b.Height, sb.cid); err != nil {
		return nil, fmt.Errorf("%w %d: %w", ErrInvalidProposal, b.Height, err)
	}
	return v.execute(prev, b, sb.txs)
}

// execute checks b's transactions in a batch over the store (whose tip must
// be prev) and b's state hash.
func (v *verifier) execute(prev, b *ledger.Block, vtxs []*ledger.VerifiedTx) ([]*ledger.CheckedTx, error) {
	batch := ledger.NewBatch(v.store, v.gov.checker(b.Height))
	maxBytes := v.gov.paramsAt(b.Height).MaxTxBytes
	for i, vt := range vtxs {
		if err := checkTxBytes(vt.Tx(), maxBytes); err != nil {
			return nil, fmt.Errorf("%w %d: tx %d: %w", ErrInvalidProposal, b.Height, i, err)
		}
		if _, err := batch.Add(vt); err != nil {
			if !isInvalid(err) {
				return nil, fmt.Errorf("check tx %d of block %d: %w", i, b.Height, err)
			}
			return nil, fmt.Errorf("%w %d: tx %d: %w", ErrInvalidProposal, b.Height, i, err)
		}
	}
	checked := batch.Checked()
	if sh := ledger.NextStateHash(prev.StateHash, checked); !bytes.Equal(sh, b.StateHash) {
		return nil, invalidBlock(b.Height, "state hash %x, want %x", b.StateHash, sh)
	}
	return checked, nil
}

// verifyAll decodes and verifies raw transactions with check in parallel
// (one worker per CPU), checking each against the CID it must have (when
// want is not nil). Errors wrap ErrInvalidProposal or are the ledger's
// (*ledger.ValidationError, *ledger.JSONError).
func verifyAll(ctx context.Context, check txCheck, raws [][]byte, want []cid.Cid) ([]*ledger.VerifiedTx, error) {
	return verifyAllWith(ctx, check, raws, want, runtime.GOMAXPROCS(0))
}

// txCheck turns a transaction's bytes into a *ledger.VerifiedTx:
// ledger.Verify, or ledger.VerifyCommitted for the transactions of a block
// whose commit is verified before it is executed.
type txCheck func([]byte) (*ledger.VerifiedTx, error)

// verifyAllWith is verifyAll with check, on at most workers goroutines.
func verifyAllWith(ctx context.Context, check txCheck, raws [][]byte, want []cid.Cid, workers int) ([]*ledger.VerifiedTx, error) {
	out := make([]*ledger.VerifiedTx, len(raws))
	var next atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for range min(workers, len(raws)) {
		g.Go(func() error {
			for i := int(next.Add(1) - 1); i < len(raws) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				vt, err := verifyOne(check, raws[i], i, want)
				if err != nil {
					return err
				}
				out[i] = vt
			}
			return ctx.Err()
		})
	}
	return out, g.Wait()
}

// verifyOne verifies raw transaction i of a block or batch.
func verifyOne(check txCheck, raw []byte, i int, want []cid.Cid) (*ledger.VerifiedTx, error) {
	vt, err := check(raw)
	if err != nil {
		return nil, fmt.Errorf("tx %d: %w", i, err)
	}
	if want != nil && !vt.Tx().CID().Equals(want[i]) {
		return nil, fmt.Errorf("%w: tx %d is %s, want %s", ErrInvalidProposal, i, vt.Tx().CID(), want[i])
	}
	return vt, nil
}
