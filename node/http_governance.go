package node

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ratelimit"
)

// GovernanceBackend is what the governance endpoints need beyond Backend:
// *Node implements it. A Backend without it serves /api/v1/validators from
// Status alone and answers 404 on the other governance routes.
type GovernanceBackend interface {
	// Governance returns the governance state in force and the height of
	// the newest block.
	Governance() (st *governance.State, tip uint64)
	// Genesis returns the network's genesis document.
	Genesis() *genesis.Doc
	// SubscribeElections returns a channel of election events, each one
	// JSON object, buffering at most buf; the channel is closed when the
	// subscriber falls behind or the node stops. cancel unsubscribes.
	SubscribeElections(buf int) (events <-chan []byte, cancel func())
	// QuotaAccount returns a key's free tier, quota and usage at the next
	// height; an error wrapping ratelimit.ErrInvalidKey for a malformed key.
	QuotaAccount(pub string) (ratelimit.Account, error)
}

// ValidatorInfo is one caretaker as GET /api/v1/validators and Status show
// it: BigchainDB 2.x's shape (public_key as ed25519-base64, voting_power)
// plus its base58 key, libp2p peer id and name.
type ValidatorInfo struct {
	PublicKey   ValidatorKey `json:"public_key"`
	VotingPower uint64       `json:"voting_power"`
	KeyBase58   string       `json:"public_key_base58"`
	PeerID      string       `json:"peer_id,omitempty"`
	Name        string       `json:"name,omitempty"`
}

// ValidatorKey is a caretaker's key as BigchainDB stores it.
type ValidatorKey struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// validatorInfos returns set in the shape of /api/v1/validators.
func validatorInfos(set governance.Set) []ValidatorInfo {
	out := make([]ValidatorInfo, 0, len(set.Caretakers))
	for _, c := range set.Caretakers {
		raw, err := ledger.DecodePublicKey(c.PublicKey)
		if err != nil {
			continue // the rules admit only valid keys
		}
		out = append(out, ValidatorInfo{
			PublicKey:   ValidatorKey{Type: validatorKeyType, Value: base64.StdEncoding.EncodeToString(raw)},
			VotingPower: c.Power, KeyBase58: c.PublicKey, PeerID: c.PeerID, Name: c.Name,
		})
	}
	return out
}

// governance returns the backend's governance side, or the 404 of a node
// without one.
func (a *api) governance() (GovernanceBackend, *apiError) {
	g, ok := a.b.(GovernanceBackend)
	if !ok {
		return nil, errNotFound()
	}
	return g, nil
}

// getValidators serves GET /api/v1/validators[?height=H]: the caretaker
// set in force at the next height, or at H (1 to the next height).
func (a *api) getValidators(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	q, e := parseQuery(r.URL.RawQuery, "height")
	if e != nil {
		return e
	}
	if e := q.strict(); e != nil {
		return e
	}
	g, ok := a.b.(GovernanceBackend)
	raw, given := q.get("height")
	if !ok {
		if given {
			return errParam("height", "This node keeps no caretaker history")
		}
		return a.statusValidators(w)
	}
	st, tip := g.Governance()
	h := tip + 1
	if given {
		v, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || v < 1 || v > tip+1 {
			return errParam("height", fmt.Sprintf("Want a height from 1 to %d (the next block)", tip+1))
		}
		h = v
	}
	return writeJSON(w, http.StatusOK, validatorInfos(st.SetAt(h)))
}

// electionStatuses are the statuses ?status= accepts.
var electionStatuses = []string{governance.StatusOngoing, governance.StatusApproved, governance.StatusRejected,
	governance.StatusExpired, governance.StatusInconclusive}

// listElections serves GET /api/v1/elections[?status=S]: the elections,
// oldest first, with their status at the newest block.
func (a *api) listElections(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	g, e := a.governance()
	if e != nil {
		return e
	}
	q, e := parseQuery(r.URL.RawQuery, "status")
	if e != nil {
		return e
	}
	if e := q.strict(); e != nil {
		return e
	}
	want, filter := q.get("status")
	if filter && !slices.Contains(electionStatuses, want) {
		return errParam("status", "Want one of "+strings.Join(electionStatuses, ", "))
	}
	st, tip := g.Governance()
	out := []governance.Election{}
	for _, el := range st.Elections() {
		el.Status = el.StatusAt(tip)
		if !filter || el.Status == want {
			out = append(out, el)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// getElection serves GET /api/v1/elections/{id}.
func (a *api) getElection(w http.ResponseWriter, _ *http.Request, id string) *apiError {
	g, e := a.governance()
	if e != nil {
		return e
	}
	if !isHexID(id) {
		return errMessage(http.StatusBadRequest, "Invalid election id: want 64 hexadecimal digits")
	}
	st, tip := g.Governance()
	el, ok := st.Election(id)
	if !ok {
		return errMessage(http.StatusNotFound, "election "+id+" not found")
	}
	el.Status = el.StatusAt(tip)
	return writeJSON(w, http.StatusOK, el)
}

// isHexID reports whether s is 64 lowercase hexadecimal digits.
func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// paramJSON is one parameter of GET /api/v1/params.
type paramJSON struct {
	Name   string `json:"name"`
	Value  uint64 `json:"value"`
	Height uint64 `json:"height"`
	Min    uint64 `json:"min"`
	Max    uint64 `json:"max"`
	Unit   string `json:"unit"`
	Doc    string `json:"doc"`
}

// getParams serves GET /api/v1/params: the network parameters in force at
// the next height, with the height each value was first in force.
func (a *api) getParams(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	g, e := a.governance()
	if e != nil {
		return e
	}
	if q, e := parseQuery(r.URL.RawQuery); e != nil {
		return e
	} else if e := q.strict(); e != nil {
		return e
	}
	st, tip := g.Governance()
	info := genesis.ParamTable()
	out := make([]paramJSON, 0, len(info))
	for i, pv := range st.Params() {
		p := paramJSON{Name: pv.Name, Value: pv.Value, Height: pv.Height}
		if i < len(info) && info[i].Name == pv.Name {
			p.Min, p.Max, p.Unit, p.Doc = info[i].Min, info[i].Max, info[i].Unit, info[i].Doc
		}
		out = append(out, p)
	}
	return writeJSON(w, http.StatusOK, struct {
		Height uint64      `json:"height"`
		Params []paramJSON `json:"params"`
	}{tip, out})
}

// genesisHashHeader carries the hex hash of the genesis document served by
// GET /api/v1/genesis, so that a joining node can check what it read.
const genesisHashHeader = "Ipdb-Genesis-Hash"

// getGenesis serves GET /api/v1/genesis: the genesis document, with its
// hash in a header.
func (a *api) getGenesis(w http.ResponseWriter, _ *http.Request, _ string) *apiError {
	g, e := a.governance()
	if e != nil {
		return e
	}
	doc := g.Genesis()
	body := doc.Encode()
	w.Header().Set(genesisHashHeader, fmt.Sprintf("%x", doc.Hash()))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body) //nolint:errcheck // the client left; nothing to do
	return nil
}

// statusValidators serves /api/v1/validators from Status's Caretakers and
// Powers, for a Backend without governance.
func (a *api) statusValidators(w http.ResponseWriter) *apiError {
	st := a.b.Status()
	if st.Validators != nil {
		return writeJSON(w, http.StatusOK, st.Validators)
	}
	if len(st.Powers) != len(st.Caretakers) {
		return errInternal(fmt.Errorf("status lists %d caretakers and %d powers", len(st.Caretakers), len(st.Powers)))
	}
	set := governance.Set{}
	for i, k := range st.Caretakers {
		set.Caretakers = append(set.Caretakers, genesis.Caretaker{PublicKey: k, Power: st.Powers[i]})
	}
	return writeJSON(w, http.StatusOK, validatorInfos(set))
}

// getQuota serves GET /api/v1/quota/{public_key}: the key's free tier,
// granted and bought quota, and what it used in the epoch of the next
// block.
func (a *api) getQuota(w http.ResponseWriter, _ *http.Request, pub string) *apiError {
	g, e := a.governance()
	if e != nil {
		return e
	}
	acct, err := g.QuotaAccount(pub)
	if errors.Is(err, ratelimit.ErrInvalidKey) {
		detail := strings.TrimPrefix(err.Error(), ratelimit.ErrInvalidKey.Error()+": ")
		return errMessage(http.StatusBadRequest, "Invalid public key in the path: "+detail)
	}
	if err != nil {
		return errInternal(fmt.Errorf("quota of %s: %w", pub, err))
	}
	return writeJSON(w, http.StatusOK, acct)
}
