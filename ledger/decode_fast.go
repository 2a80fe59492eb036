package ledger

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// The fast path of DecodeTx. Nodes gossip transactions in canonical form,
// and most clients send them so; for such bytes the general path builds a
// generic map for every object of the envelope (the transaction, its asset,
// each input, output, condition and reference) only to read them back.
// decodeFast reads the envelope in place instead, against the one layout
// the canonical form allows, and decodes only the free-form values (asset
// data, metadata, condition details) with the general decoder.
//
// It decides nothing: it returns a Tx only when every rule of the general
// path holds, and nil for anything else (other bytes, a rule broken,
// unsigned inputs), which then goes through the general path and gets its
// error from there. So errors and their order are the general path's, and
// the differential tests (decode_fast_test.go, FuzzDecodeTx) hold the
// fast path to it: a Tx it returns equals the general path's.

// decodeFast returns the transaction canonical bytes b encode, or nil when
// b is not a valid canonical transaction in the common layout. The Tx has
// no generic body (see Tx.generic).
func decodeFast(b []byte) *Tx {
	const head = `{"asset":`
	if len(b) > MaxTxBytes || !bytes.HasPrefix(b, []byte(head)) {
		return nil
	}
	p := fastParser{b: b, s: string(b)}
	tx := &Tx{}
	if !p.lit(`{"asset":`) || !p.asset(tx) {
		return nil
	}
	if !p.lit(`,"id":`) {
		return nil
	}
	idStart := p.pos
	if tx.ID = p.str(); !isHexID(tx.ID) {
		return nil
	}
	idEnd := p.pos
	if !p.lit(`,"inputs":[`) {
		return nil
	}
	for {
		tx.Inputs = append(tx.Inputs, Input{})
		if len(tx.Inputs) > MaxInputs || !p.input(&tx.Inputs[len(tx.Inputs)-1]) {
			return nil
		}
		if p.lit("]") {
			break
		}
		if !p.lit(",") {
			return nil
		}
	}
	if !p.lit(`,"metadata":`) {
		return nil
	}
	var ok bool
	if tx.Metadata, ok = p.objectOrNull(1, 1); !ok {
		return nil
	}
	if !p.lit(`,"operation":`) {
		return nil
	}
	tx.Operation = p.str()
	if !p.lit(`,"outputs":[`) || !p.outputs(tx) {
		return nil
	}
	if !p.lit(`,"version":"2.0"}`) || p.pos != len(b) {
		return nil
	}
	tx.Version = Version
	if !consistent(tx) {
		return nil
	}
	// The id is the hash of the bytes with its value replaced by null.
	in := canonicalInput{b: b, idStart: idStart, idEnd: idEnd}
	if in.id() != tx.ID {
		return nil
	}
	if checkKeys(tx) != nil || decodeFulfillments(tx) != nil {
		return nil
	}
	tx.canonical = bytes.Clone(b)
	return tx
}

// fastParser reads canonical transaction bytes in place. Its methods
// report false (or "") at the first byte that is not where the canonical
// layout puts it.
type fastParser struct {
	b   []byte
	s   string // b as one string: the strings read are substrings of it
	pos int
}

// lit moves past w if the bytes at pos are w.
func (p *fastParser) lit(w string) bool {
	if !bytes.HasPrefix(p.b[p.pos:], []byte(w)) {
		return false
	}
	p.pos += len(w)
	return true
}

// str reads a string of printable ASCII without escapes (every string of
// the envelope that its patterns accept); "" for anything else.
func (p *fastParser) str() string {
	if p.pos >= len(p.b) || p.b[p.pos] != '"' {
		return ""
	}
	start := p.pos + 1
	for i := start; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c == '"':
			p.pos = i + 1
			return p.s[start:i]
		case c == '\\' || c < 0x20 || c >= 0x80:
			return ""
		}
	}
	return ""
}

// value decodes the free-form value at pos with the general decoder, which
// is at depth (the objects and arrays around it); ok is false unless it is
// valid and canonical.
func (p *fastParser) value(depth int) (v any, ok bool) {
	var stack decoderStack
	d := decoder{b: p.b, s: p.s, pos: p.pos, depth: depth,
		path: stack.path[:0], members: stack.members[:0], values: stack.values[:0]}
	v, err := d.value()
	if err != nil || d.noncanon {
		return nil, false
	}
	p.pos = d.pos
	return v, true
}

// objectOrNull reads null or an object of at least minProps members (the
// schema's rule for metadata and asset data).
func (p *fastParser) objectOrNull(depth, minProps int) (any, bool) {
	if p.lit("null") {
		return nil, true
	}
	if p.pos >= len(p.b) || p.b[p.pos] != '{' {
		return nil, false
	}
	v, ok := p.value(depth)
	if m, isObj := v.(map[string]any); !ok || !isObj || len(m) < minProps {
		return nil, false
	}
	return v, true
}

// asset reads {"data":...} (CREATE and elections) or {"id":"..."}
// (TRANSFER and VOTE); which one the operation needs is checked by
// consistent, as the operation comes later.
func (p *fastParser) asset(tx *Tx) bool {
	if p.lit(`{"data":`) {
		var ok bool
		if tx.Asset.Data, ok = p.objectOrNull(2, 0); !ok {
			return false
		}
		return p.lit("}")
	}
	if !p.lit(`{"id":`) {
		return false
	}
	tx.Asset.ID = p.str()
	return isHexID(tx.Asset.ID) && p.lit("}")
}

// input reads one signed input.
func (p *fastParser) input(in *Input) bool {
	if !p.lit(`{"fulfillment":`) {
		return false
	}
	// An unsigned input (fulfillment null or details) takes the general path.
	if in.Fulfillment = p.str(); in.Fulfillment == "" || !isBase64URL(in.Fulfillment) {
		return false
	}
	if !p.lit(`,"fulfills":`) {
		return false
	}
	if !p.lit("null") {
		if !p.lit(`{"output_index":`) {
			return false
		}
		idx, ok := p.outputIndex()
		if !ok || !p.lit(`,"transaction_id":`) {
			return false
		}
		ref := &OutputRef{TxID: p.str(), Index: idx}
		if !isHexID(ref.TxID) || !p.lit("}") {
			return false
		}
		in.Fulfills = ref
	}
	if !p.lit(`,"owners_before":`) {
		return false
	}
	var ok bool
	in.OwnersBefore, ok = p.keys()
	return ok && p.lit("}")
}

// outputIndex reads an output index: a canonical integer below MaxOutputs.
func (p *fastParser) outputIndex() (uint64, bool) {
	start := p.pos
	for p.pos < len(p.b) && isDigit(p.b[p.pos]) {
		p.pos++
	}
	text := p.s[start:p.pos]
	if text == "" || text[0] == '0' && len(text) > 1 {
		return 0, false
	}
	n, err := strconv.ParseUint(text, 10, 64)
	return n, err == nil && n < MaxOutputs
}

// keys reads a list of 1 to MaxKeysPerList base58 Ed25519 public keys.
func (p *fastParser) keys() ([]string, bool) {
	if !p.lit("[") {
		return nil, false
	}
	var keys []string
	for {
		k := p.str()
		if _, err := publicKey("", k); k == "" || err != nil {
			return nil, false
		}
		if keys = append(keys, k); len(keys) > MaxKeysPerList {
			return nil, false
		}
		if p.lit("]") {
			return keys, true
		}
		if !p.lit(",") {
			return nil, false
		}
	}
}

// outputs reads the outputs array after its '[', with each output's
// amount, its condition parsed from the details, and the rule that the uri
// and public keys follow from them.
func (p *fastParser) outputs(tx *Tx) bool {
	tx.Outputs = []Output{}
	if p.lit("]") {
		return true
	}
	for {
		if len(tx.Outputs) == MaxOutputs || !p.lit(`{"amount":`) {
			return false
		}
		var out Output
		amount := p.str()
		if !isAmount(amount) || !p.lit(`,"condition":{"details":`) {
			return false
		}
		// The details are at depth 4: the transaction, outputs, the output
		// and its condition.
		details, ok := p.value(4)
		if !ok || !p.lit(`,"uri":`) {
			return false
		}
		if out.URI = p.str(); !isConditionURI(out.URI) || !p.lit(`},"public_keys":`) {
			return false
		}
		if out.PublicKeys, ok = p.keys(); !ok || !p.lit("}") {
			return false
		}
		var verr *ValidationError
		if out.Amount, verr = parseAmount("", amount); verr != nil {
			return false
		}
		d, err := cryptocondition.ParseDetails(details)
		if err != nil {
			return false
		}
		if out.Details = d; checkOutputAgrees("", &out) != nil {
			return false
		}
		tx.Outputs = append(tx.Outputs, out)
		if p.lit("]") {
			return true
		}
		if !p.lit(",") {
			return false
		}
	}
}

// consistent checks the rules that tie the envelope to the operation: a
// known operation, the asset form and the input count and references it
// takes.
func consistent(tx *Tx) bool {
	switch {
	case !slices.Contains(operations, tx.Operation):
		return false
	case tx.IsCreateLike():
		return tx.Asset.ID == "" && len(tx.Inputs) == 1 && tx.Inputs[0].Fulfills == nil
	case tx.Asset.ID == "":
		return false
	}
	for _, in := range tx.Inputs {
		if in.Fulfills == nil {
			return false
		}
	}
	return true
}
