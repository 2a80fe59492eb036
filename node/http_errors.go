package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ratelimit"
)

// The HTTP API answers errors in BigchainDB's three body shapes
// (../shared/BIGCHAINDB.md §1.1):
//
//  1. {"message": "<text>", "status": <code>}: application errors (make_error);
//  2. {"message": {"<parameter>": "<text>"}}: query parameter errors (reqparse);
//  3. {"message": "Unknown arguments: a, b"}: unknown parameters on the
//     endpoints BigchainDB parses strictly (/outputs, /blocks).

// Texts BigchainDB (flask-restful reqparse and bigchaindb/web/views) gives.
const (
	msgNotFound         = "Not found"
	msgMissingParam     = "Missing required parameter in the JSON body or the post body or the query string"
	msgInvalidHash      = "Invalid hash"
	msgInvalidKey       = "Invalid base58 ed25519 key"
	msgInvalidBool      = `Boolean value must be "true" or "false" (lowercase)`
	msgInvalidOperation = `Operation must be "CREATE" or "TRANSFER"`
	msgInvalidMode      = `Mode must be "async", "sync" or "commit"`
	msgEmptySearch      = "text_search cannot be empty"
	msgMethodNotAllowed = "The method is not allowed for the requested URL."
	msgInternal         = "Internal server error"
)

// Reasons given to HTTPMetrics.Rejected for refused POSTs that carry no
// ledger.ValidationError name.
const (
	rejectBadRequest  = "bad_request"
	rejectInvalidJSON = "invalid_json"
	rejectTooLarge    = "body_too_large"
	rejectBacklogFull = "backlog_full"
	rejectStopping    = "stopping"
	rejectQuota       = "quota"
)

// retryAfterSeconds is the Retry-After sent with 503 answers: a block
// interval or two frees the backlog, and a shutdown is not worth hammering.
const retryAfterSeconds = "1"

// apiError is an error answer: its status, its JSON body and what the
// dispatcher does besides writing it.
type apiError struct {
	status     int
	body       any
	reason     string // for HTTPMetrics.Rejected on POST; "" for none
	allow      string // Allow header of a 405
	retryAfter string // Retry-After header; "" for none
	internal   error  // logged at Error level; never shown to the client
}

// messageBody is shape 1.
type messageBody struct {
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// paramBody is shapes 2 and 3: a message keyed by parameter, or a string.
type paramBody struct {
	Message any `json:"message"`
}

// errMessage returns a shape-1 error.
func errMessage(status int, msg string) *apiError {
	return &apiError{status: status, body: messageBody{Message: msg, Status: status}}
}

// errNotFound returns BigchainDB's 404.
func errNotFound() *apiError { return errMessage(http.StatusNotFound, msgNotFound) }

// errParam returns a shape-2 error naming the query parameter at fault.
func errParam(name, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: paramBody{Message: map[string]string{name: msg}}}
}

// errUnknownArgs returns the shape-3 error of reqparse's strict mode.
func errUnknownArgs(names []string) *apiError {
	return &apiError{status: http.StatusBadRequest,
		body: paramBody{Message: "Unknown arguments: " + strings.Join(names, ", ")}}
}

// errInternal returns a 500 that hides err from the client and logs it.
func errInternal(err error) *apiError {
	e := errMessage(http.StatusInternalServerError, msgInternal)
	e.internal = err
	return e
}

// errMethod returns a 405 listing the methods the route allows.
func errMethod(allow string) *apiError {
	e := errMessage(http.StatusMethodNotAllowed, msgMethodNotAllowed)
	e.allow = allow
	return e
}

// errTooLarge returns the 413 of a POST body over limit bytes.
func errTooLarge(limit int64) *apiError {
	e := errMessage(http.StatusRequestEntityTooLarge,
		"Request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes")
	e.reason = rejectTooLarge
	return e
}

// errUnavailable returns a 503 asking the client to retry later.
func errUnavailable(msg, reason string) *apiError {
	e := errMessage(http.StatusServiceUnavailable, msg)
	e.reason = reason
	e.retryAfter = retryAfterSeconds
	return e
}

// errJSON returns the 400 of a POST body that is not JSON, naming what is
// wrong and where.
func errJSON(je *ledger.JSONError) *apiError {
	msg := fmt.Sprintf("Invalid JSON in the request body: %s at offset %d", je.Reason, je.Offset)
	if je.Path != "" {
		msg = fmt.Sprintf("Invalid JSON in the request body: %s: %s at offset %d", je.Path, je.Reason, je.Offset)
	}
	e := errMessage(http.StatusBadRequest, msg)
	e.reason = rejectInvalidJSON
	return e
}

// errTx classifies an error of ledger.Verify or Backend.Submit into its
// answer. Validation errors carry BigchainDB's message; the node's sentinels
// map to 503 (backlog full, stopping) and 504 (commit wait passed); anything
// else is internal.
func errTx(err error) *apiError {
	var ve *ledger.ValidationError
	var je *ledger.JSONError
	switch {
	case errors.Is(err, ratelimit.ErrQuotaExceeded) && errors.As(err, &ve):
		// Over quota is not a bad request: the same transaction is valid
		// once the epoch renews or quota is granted or bought.
		e := errMessage(http.StatusTooManyRequests, ve.Error())
		e.reason = rejectQuota
		return e
	case errors.As(err, &ve):
		e := errMessage(http.StatusBadRequest, ve.Error())
		e.reason = ve.Name()
		return e
	case errors.As(err, &je):
		return errJSON(je)
	case errors.Is(err, ErrBacklogFull):
		return errUnavailable(clientText(err), rejectBacklogFull)
	case errors.Is(err, ErrStopping):
		return errUnavailable("The node is shutting down; retry on another node or later", rejectStopping)
	case errors.Is(err, ErrCommitTimeout):
		return errMessage(http.StatusGatewayTimeout,
			"Timed out waiting for the transaction to be committed; it was accepted and may still be committed")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errUnavailable("The request was cancelled before the transaction was handled", "")
	}
	return errInternal(fmt.Errorf("submit transaction: %w", err))
}

// clientText returns err's text without the Go package prefix of the node's
// sentinels ("node: backlog full: ..." -> "Backlog full: ...").
func clientText(err error) string {
	s := strings.TrimPrefix(err.Error(), "node: ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
