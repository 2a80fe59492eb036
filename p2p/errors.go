package p2p

import "errors"

// Sentinel errors. Match them with errors.Is.
var (
	// ErrClosed is returned by operations on a closed Host.
	ErrClosed = errors.New("p2p: host closed")
	// ErrConfig is wrapped by New and Join when a configuration value is out of bounds.
	ErrConfig = errors.New("p2p: invalid config")
	// ErrTopicJoined is returned by Join for a name already joined.
	ErrTopicJoined = errors.New("p2p: topic already joined")
	// ErrMessageTooLarge is returned by Publish for data over the topic's MaxBytes.
	ErrMessageTooLarge = errors.New("p2p: message too large")
	// ErrFrameTooLarge is returned when a stream frame announces more than its limit.
	ErrFrameTooLarge = errors.New("p2p: frame too large")
	// ErrRequestTooLarge is returned when a request exceeds the handler's (or MaxFrameBytes)
	// limit; from a remote handler it comes wrapped together with ErrRemote.
	ErrRequestTooLarge = errors.New("p2p: request too large")
	// ErrResponseTooLarge is returned by Request when the response exceeds maxResp.
	ErrResponseTooLarge = errors.New("p2p: response too large")
	// ErrRemote is wrapped by Request when the remote handler returned an error.
	ErrRemote = errors.New("p2p: remote error")
	// ErrBadFrame is returned for a malformed frame (bad length prefix or kind).
	ErrBadFrame = errors.New("p2p: malformed frame")
)
