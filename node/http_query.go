package node

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/textsearch"
)

// Limits on query strings and on the answers of endpoints without
// pagination (BigchainDB's API v1 has none).
const (
	// maxQueryBytes bounds a raw query string; gunicorn refused request lines
	// over 4094 bytes in front of BigchainDB.
	maxQueryBytes = 4096
	// maxQueryParams bounds the parameters of one query: no endpoint takes
	// more than three.
	maxQueryParams = 16
	// maxParamBytes bounds one decoded parameter value: ids and keys have at
	// most 64 characters, a text search a sentence or two.
	maxParamBytes = 1024
	// maxSearchResults caps a text search when limit is 0 or larger: ranked
	// results past it are noise, and each costs a document load.
	maxSearchResults = 1000
	// maxAssetTxs bounds GET /api/v1/transactions: an asset's whole history
	// is one answer, and 10,000 typical transactions are some 10 MB.
	maxAssetTxs = 10_000
	// maxOutputRefs bounds GET /api/v1/outputs: about 10 MB of references.
	maxOutputRefs = 100_000
)

// Patterns of bigchaindb/web/views/parameters.py (without Python's
// end-of-line quirk: "$" there also matches before a final newline).
var (
	txIDPattern      = regexp.MustCompile(`^[a-fA-F0-9]{64}$`)
	publicKeyPattern = regexp.MustCompile(`^[1-9a-zA-Z]{43,44}$`)
)

// queryArgs is a request's query string parsed for one endpoint: the values
// of the parameters it knows and the names of the others, in order.
type queryArgs struct {
	names   []string
	values  []string
	present []bool
	unknown []string
}

// parseQuery parses raw strictly for an endpoint knowing names: a known
// parameter given twice, over maxParamBytes or not UTF-8 is refused naming
// it; unknown ones are listed (each once) for strict endpoints to refuse.
func parseQuery(raw string, names ...string) (*queryArgs, *apiError) {
	q := &queryArgs{names: names, values: make([]string, len(names)), present: make([]bool, len(names))}
	if len(raw) > maxQueryBytes {
		return nil, errMessage(http.StatusRequestURITooLong,
			fmt.Sprintf("Query string exceeds the limit of %d bytes", maxQueryBytes))
	}
	count := 0
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		if count++; count > maxQueryParams {
			return nil, errMessage(http.StatusBadRequest,
				fmt.Sprintf("Too many query parameters (the limit is %d)", maxQueryParams))
		}
		if err := q.add(part); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// add parses one name=value part.
func (q *queryArgs) add(part string) *apiError {
	rawName, rawValue, _ := strings.Cut(part, "=")
	name, err := url.QueryUnescape(rawName)
	if err != nil || !utf8.ValidString(name) {
		return errMessage(http.StatusBadRequest, "Invalid query string: a parameter name is not URL-encoded UTF-8")
	}
	i := q.index(name)
	if i < 0 {
		if !slices.Contains(q.unknown, name) {
			q.unknown = append(q.unknown, name)
		}
		return nil
	}
	if q.present[i] {
		return errParam(name, "Parameter given more than once")
	}
	value, err := url.QueryUnescape(rawValue)
	switch {
	case err != nil:
		return errParam(name, "Value is not URL-encoded")
	case len(value) > maxParamBytes:
		return errParam(name, fmt.Sprintf("Value exceeds the limit of %d bytes", maxParamBytes))
	case !utf8.ValidString(value):
		return errParam(name, "Value is not valid UTF-8")
	}
	q.values[i], q.present[i] = value, true
	return nil
}

// index returns the position of a known name, or -1.
func (q *queryArgs) index(name string) int {
	for i, n := range q.names {
		if n == name {
			return i
		}
	}
	return -1
}

// get returns a known parameter's value and whether it was given.
func (q *queryArgs) get(name string) (string, bool) {
	i := q.index(name)
	if i < 0 {
		return "", false
	}
	return q.values[i], q.present[i]
}

// required returns a parameter that must be given.
func (q *queryArgs) required(name string) (string, *apiError) {
	v, ok := q.get(name)
	if !ok {
		return "", errParam(name, msgMissingParam)
	}
	return v, nil
}

// strict refuses unknown parameters, as reqparse's parse_args(strict=True)
// does after every known one parsed.
func (q *queryArgs) strict() *apiError {
	if len(q.unknown) > 0 {
		return errUnknownArgs(q.unknown)
	}
	return nil
}

// boolParam parses an optional true/false parameter, case-insensitive
// (parameters.valid_bool); nil when absent.
func (q *queryArgs) boolParam(name string) (*bool, *apiError) {
	v, ok := q.get(name)
	if !ok {
		return nil, nil
	}
	switch strings.ToLower(v) {
	case "true":
		t := true
		return &t, nil
	case "false":
		f := false
		return &f, nil
	}
	return nil, errParam(name, msgInvalidBool)
}

// limitParam parses limit as Python's int() (surrounding spaces, a sign),
// refusing negatives; absent or 0 mean no limit, and the result is capped at
// max.
func (q *queryArgs) limitParam(max int) (int, *apiError) {
	v, ok := q.get("limit")
	if !ok {
		return max, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && n > 0:
		return max, nil
	case errors.Is(err, strconv.ErrRange):
		return 0, errParam("limit", "Limit must not be negative")
	case err != nil:
		return 0, errParam("limit", "invalid literal for int() with base 10: "+pyRepr(v))
	case n < 0:
		return 0, errParam("limit", "Limit must not be negative")
	case n == 0 || n > int64(max):
		return max, nil
	}
	return int(n), nil
}

// pyRepr quotes s as Python's repr() of a str does, for int()'s message.
func pyRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(quote):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// listTxs serves GET /api/v1/transactions?asset_id=&operation=&last_tx=
// (non-strict; reqparse order: operation, asset_id, last_tx).
func (a *api) listTxs(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	q, e := parseQuery(r.URL.RawQuery, "operation", "asset_id", "last_tx")
	if e != nil {
		return e
	}
	op, e := operationParam(q)
	if e != nil {
		return e
	}
	assetID, e := q.required("asset_id")
	if e != nil {
		return e
	}
	if !txIDPattern.MatchString(assetID) {
		return errParam("asset_id", msgInvalidHash)
	}
	last, e := q.boolParam("last_tx")
	if e != nil {
		return e
	}
	txs, err := a.b.Store().TxsByAsset(strings.ToLower(assetID), op, last != nil && *last, maxAssetTxs+1)
	if err != nil {
		return errInternal(fmt.Errorf("transactions by asset: %w", err))
	}
	if len(txs) > maxAssetTxs {
		return errMessage(http.StatusBadRequest, fmt.Sprintf(
			"The asset has more than %d transactions, the most one answer holds; narrow the query with operation or last_tx", maxAssetTxs))
	}
	return writeRawList(w, txs)
}

// operationParam parses the optional operation, case-insensitive
// (parameters.valid_operation); "" when absent.
func operationParam(q *queryArgs) (string, *apiError) {
	v, ok := q.get("operation")
	if !ok {
		return "", nil
	}
	switch op := strings.ToUpper(v); op {
	case ledger.OpCreate, ledger.OpTransfer:
		return op, nil
	}
	return "", errParam("operation", msgInvalidOperation)
}

// writeRawList writes a JSON array of JSON documents.
func writeRawList(w http.ResponseWriter, docs [][]byte) *apiError {
	n := 2
	for _, d := range docs {
		n += len(d) + 1
	}
	body := make([]byte, 0, n)
	body = append(body, '[')
	for i, d := range docs {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, d...)
	}
	writeRaw(w, http.StatusOK, append(body, ']'))
	return nil
}

// outputRefJSON is one entry of GET /api/v1/outputs.
type outputRefJSON struct {
	TransactionID string `json:"transaction_id"`
	OutputIndex   uint64 `json:"output_index"`
}

// listOutputs serves GET /api/v1/outputs?public_key=&spent= (strict).
func (a *api) listOutputs(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	q, e := parseQuery(r.URL.RawQuery, "public_key", "spent")
	if e != nil {
		return e
	}
	pub, e := q.required("public_key")
	if e != nil {
		return e
	}
	if !publicKeyPattern.MatchString(pub) || strings.ContainsAny(pub, "Il0O") {
		return errParam("public_key", msgInvalidKey)
	}
	spent, e := q.boolParam("spent")
	if e != nil {
		return e
	}
	if e := q.strict(); e != nil {
		return e
	}
	refs, err := a.b.Store().Outputs(pub, spent, maxOutputRefs+1)
	if err != nil {
		return errInternal(fmt.Errorf("outputs: %w", err))
	}
	if len(refs) > maxOutputRefs {
		return errMessage(http.StatusBadRequest, fmt.Sprintf(
			"The key holds more than %d outputs, the most one answer holds; narrow the query with spent", maxOutputRefs))
	}
	out := make([]outputRefJSON, len(refs))
	for i, ref := range refs {
		out[i] = outputRefJSON{TransactionID: ref.TxID, OutputIndex: ref.Index}
	}
	return writeJSON(w, http.StatusOK, out)
}

// searchParams parses search and limit for /assets and /metadata
// (non-strict).
func searchParams(r *http.Request) (string, int, *apiError) {
	q, e := parseQuery(r.URL.RawQuery, "search", "limit")
	if e != nil {
		return "", 0, e
	}
	search, e := q.required("search")
	if e != nil {
		return "", 0, e
	}
	limit, e := q.limitParam(maxSearchResults)
	if e != nil {
		return "", 0, e
	}
	if search == "" {
		return "", 0, errMessage(http.StatusBadRequest, msgEmptySearch)
	}
	return search, limit, nil
}

// assetResult is one entry of GET /api/v1/assets.
type assetResult struct {
	Data any    `json:"data"`
	ID   string `json:"id"`
}

// metadataResult is one entry of GET /api/v1/metadata.
type metadataResult struct {
	Metadata any    `json:"metadata"`
	ID       string `json:"id"`
}

// searchError answers a search the client must narrow with 400 naming why
// (too broad, too long, too many terms), and anything else as internal.
func searchError(what string, err error) *apiError {
	if errors.Is(err, ledger.ErrSearchTooBroad) || errors.Is(err, textsearch.ErrQueryTooLong) || errors.Is(err, textsearch.ErrTooManyTerms) {
		return errMessage(http.StatusBadRequest, err.Error())
	}
	return errInternal(fmt.Errorf("%s: %w", what, err))
}

// searchAssets serves GET /api/v1/assets?search=&limit=.
func (a *api) searchAssets(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	search, limit, e := searchParams(r)
	if e != nil {
		return e
	}
	hits, err := a.b.Store().SearchAssets(search, limit)
	if err != nil {
		return searchError("search assets", err)
	}
	out := make([]assetResult, len(hits))
	for i, h := range hits {
		out[i] = assetResult{Data: h.Data, ID: h.ID}
	}
	return writeJSON(w, http.StatusOK, out)
}

// searchMetadata serves GET /api/v1/metadata?search=&limit=.
func (a *api) searchMetadata(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	search, limit, e := searchParams(r)
	if e != nil {
		return e
	}
	hits, err := a.b.Store().SearchMetadata(search, limit)
	if err != nil {
		return searchError("search metadata", err)
	}
	out := make([]metadataResult, len(hits))
	for i, h := range hits {
		out[i] = metadataResult{Metadata: h.Metadata, ID: h.ID}
	}
	return writeJSON(w, http.StatusOK, out)
}

// listBlocks serves GET /api/v1/blocks?transaction_id= (strict): the
// heights of the blocks holding the transaction.
func (a *api) listBlocks(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	q, e := parseQuery(r.URL.RawQuery, "transaction_id")
	if e != nil {
		return e
	}
	id, e := q.required("transaction_id")
	if e != nil {
		return e
	}
	if e := q.strict(); e != nil {
		return e
	}
	heights := []uint64{}
	if isStoredTxID(id) {
		found, err := a.b.Store().BlocksWithTx(id)
		if err != nil {
			return errInternal(fmt.Errorf("blocks with transaction: %w", err))
		}
		heights = append(heights, found...)
	}
	return writeJSON(w, http.StatusOK, heights)
}

// isStoredTxID reports whether s can be a stored transaction id: 64
// lower-case hex digits. Anything else is not stored, so the store is not
// asked.
func isStoredTxID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
