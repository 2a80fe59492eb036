package node

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/mr-tron/base58"

	"github.com/ipdb/ipdb-node/ledger"
)

// maxHeightDigits bounds a block height in a path: a uint64 has 20 digits.
const maxHeightDigits = 20

// getTx serves GET /api/v1/transactions/{id}: the stored canonical bytes of
// a committed transaction, which hash to its id; 404 for anything else.
func (a *api) getTx(w http.ResponseWriter, _ *http.Request, id string) *apiError {
	if !isStoredTxID(id) {
		return errNotFound()
	}
	tx, _, err := a.b.Store().Tx(id)
	if errors.Is(err, ledger.ErrNotFound) {
		return errNotFound()
	}
	if err != nil {
		return errInternal(fmt.Errorf("get transaction %s: %w", id, err))
	}
	writeRaw(w, http.StatusOK, tx)
	return nil
}

// backlogGate is implemented by backends that can tell before a signature
// is checked that their backlog has no room (Node does): under overload a
// POST is then refused with 503 for the price of a lock.
type backlogGate interface {
	Full() error
}

var _ backlogGate = (*Node)(nil)

// postTx serves POST /api/v1/transactions?mode=: verify the body, submit it
// to the backend and echo its canonical bytes with 202 (§1.4).
func (a *api) postTx(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	mode, e := modeParam(r)
	if e != nil {
		e.reason = rejectBadRequest
		return e
	}
	body, e := a.readBody(w, r)
	if e != nil {
		return e
	}
	if g, ok := a.b.(backlogGate); ok {
		if err := g.Full(); err != nil {
			return errTx(err)
		}
	}
	v, err := ledger.Verify(body)
	if err != nil {
		return errTx(err)
	}
	if err := a.b.Submit(r.Context(), v, mode); err != nil {
		return errTx(err)
	}
	writeRaw(w, http.StatusAccepted, v.Tx().Canonical())
	return nil
}

// modeParam parses POST's mode (parameters.valid_mode: case-sensitive,
// default async; other parameters ignored).
func modeParam(r *http.Request) (Mode, *apiError) {
	q, e := parseQuery(r.URL.RawQuery, "mode")
	if e != nil {
		return 0, e
	}
	v, ok := q.get("mode")
	if !ok {
		return ModeAsync, nil
	}
	switch v {
	case "async":
		return ModeAsync, nil
	case "sync":
		return ModeSync, nil
	case "commit":
		return ModeCommit, nil
	}
	return 0, errParam("mode", msgInvalidMode)
}

// readBody reads a POST body of at most a.maxBody bytes.
func (a *api) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	if r.ContentLength > a.maxBody {
		return nil, errTooLarge(a.maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge(a.maxBody)
	}
	if err != nil {
		e := errMessage(http.StatusBadRequest, "Could not read the request body")
		e.reason = rejectBadRequest
		return nil, e
	}
	return body, nil
}

// getBlock serves GET /api/v1/blocks/{height}; a height that is not a
// decimal integer, or above the newest block, is 404 as in BigchainDB.
func (a *api) getBlock(w http.ResponseWriter, _ *http.Request, param string) *apiError {
	h, ok := parseHeight(param)
	st := a.b.Store()
	if !ok || h > st.Height() {
		return errNotFound()
	}
	b, c, err := st.BlockByHeight(h)
	if errors.Is(err, ledger.ErrNotFound) {
		return errNotFound()
	}
	if err != nil {
		return errInternal(fmt.Errorf("block %d: %w", h, err))
	}
	return a.writeBlock(w, b, c)
}

// getLatestBlock serves GET /api/v1/blocks/latest.
func (a *api) getLatestBlock(w http.ResponseWriter, _ *http.Request, _ string) *apiError {
	b, c, err := a.b.Store().LatestBlock()
	if err != nil {
		return errInternal(fmt.Errorf("latest block: %w", err))
	}
	return a.writeBlock(w, b, c)
}

// parseHeight parses a path height: ASCII digits only (Werkzeug's int
// converter), leading zeros allowed.
func parseHeight(s string) (uint64, bool) {
	if s == "" || len(s) > maxHeightDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, err := strconv.ParseUint(s, 10, 64)
	return h, err == nil
}

// blockHead is the part of a block answer before its transactions: BigchainDB's
// height, and our cid, prev (null at genesis) and time (RFC 3339, UTC).
type blockHead struct {
	Height   uint64         `json:"height"`
	CID      string         `json:"cid"`
	Prev     *string        `json:"prev"`
	Time     string         `json:"time"`
	Evidence []evidenceJSON `json:"evidence,omitempty"` // only when the block carries some
}

// evidenceJSON is one equivocation in a block answer: the caretaker's key
// (base58, as BigchainDB shows keys), the vote slot and both votes.
type evidenceJSON struct {
	PublicKey string          `json:"public_key"`
	Height    uint64          `json:"height"`
	Round     uint32          `json:"round"`
	Type      string          `json:"type"`
	Votes     [2]evidenceVote `json:"votes"`
}

// evidenceVote is one of the two votes: the block voted for (null: nil)
// and the signature, hex.
type evidenceVote struct {
	Block     *string `json:"block"`
	Signature string  `json:"signature"`
}

func evidenceOf(evs []ledger.Equivocation) []evidenceJSON {
	var out []evidenceJSON
	for _, e := range evs {
		typ := "prevote"
		if e.Type == ledger.VotePrecommit {
			typ = "precommit"
		}
		out = append(out, evidenceJSON{PublicKey: base58.Encode(e.PublicKey), Height: e.Height, Round: e.Round, Type: typ,
			Votes: [2]evidenceVote{voteJSON(e.BlockA, e.SigA), voteJSON(e.BlockB, e.SigB)}})
	}
	return out
}

func voteJSON(c cid.Cid, sig []byte) evidenceVote {
	v := evidenceVote{Signature: hex.EncodeToString(sig)}
	if c.Defined() {
		s := c.String()
		v.Block = &s
	}
	return v
}

// writeBlock writes {"height", "cid", "prev", "time", "transactions": [full
// transactions]}, streaming the transactions so that a large block costs no
// more memory than one transaction. A store failure after the answer began
// aborts the connection, so a client never takes a cut answer for a whole one.
func (a *api) writeBlock(w http.ResponseWriter, b *ledger.Block, c cid.Cid) *apiError {
	ids := make([]string, len(b.Txs))
	for i, tc := range b.Txs {
		id, err := ledger.TxIDFromCID(tc)
		if err != nil {
			return errInternal(fmt.Errorf("block %d: transaction %d: %w", b.Height, i, err))
		}
		ids[i] = id
	}
	head := blockHead{Height: b.Height, CID: c.String(),
		Time: time.UnixMilli(b.Time).UTC().Format(time.RFC3339Nano), Evidence: evidenceOf(b.Evidence)}
	if b.Prev.Defined() {
		prev := b.Prev.String()
		head.Prev = &prev
	}
	buf, err := encodeJSON(head)
	if err != nil {
		return errInternal(fmt.Errorf("encode block head: %w", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(append(buf[:len(buf)-1], `,"transactions":[`...))
	for i, id := range ids {
		tx, _, err := a.b.Store().Tx(id)
		if err != nil {
			a.log.Error("http: block transaction unreadable; answer aborted", "height", b.Height, "tx", id, "err", err)
			panic(http.ErrAbortHandler)
		}
		if i > 0 {
			w.Write([]byte{','})
		}
		w.Write(tx)
	}
	w.Write([]byte("]}"))
	return nil
}
