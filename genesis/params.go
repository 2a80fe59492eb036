package genesis

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ipdb/ipdb-node/ledger"
)

// maxSafeInteger is the largest integer a JavaScript client reads exactly
// (2^53-1): every parameter is shown at /api/v1/params, so none may exceed it.
const maxSafeInteger = 1<<53 - 1

// ErrUnknownParam is returned by Params.Set and Params.Get for a name that is
// not a network parameter.
var ErrUnknownParam = errors.New("genesis: unknown parameter")

// Params are the network parameters fixed by the genesis document. Every
// node of a network must use the same values, so they are part of the
// document and its hash. All are unsigned integers; ParamTable gives each
// one's bounds and meaning.
type Params struct {
	MaxBlockTxs           uint64 `json:"max_block_txs"`
	BlockIntervalMS       uint64 `json:"block_interval_ms"`
	MaxTxBytes            uint64 `json:"max_tx_bytes"`
	ElectionExpiryBlocks  uint64 `json:"election_expiry_blocks"`
	FreeTierTxsPerEpoch   uint64 `json:"free_tier_txs_per_epoch"`
	FreeTierBytesPerEpoch uint64 `json:"free_tier_bytes_per_epoch"`
	EpochBlocks           uint64 `json:"epoch_blocks"`
	FeePerTx              uint64 `json:"fee_per_tx"`
	MaxCaretakers         uint64 `json:"max_caretakers"`
}

// ParamInfo describes one network parameter: its JSON name, its meaning,
// its unit, its inclusive bounds and its default.
type ParamInfo struct {
	Name    string `json:"name"`
	Doc     string `json:"doc"`
	Unit    string `json:"unit"`
	Min     uint64 `json:"min"`
	Max     uint64 `json:"max"`
	Default uint64 `json:"default"`
}

// ParamTable returns the description of every network parameter, in the
// order of Params' fields. The slice is fresh on each call.
func ParamTable() []ParamInfo {
	d := DefaultParams()
	return []ParamInfo{
		{"max_block_txs", "most transactions in one block", "transactions", 1, ledger.MaxBlockTxs, d.MaxBlockTxs},
		{"block_interval_ms", "longest the first pending transaction waits before a block is proposed", "milliseconds", 1, 10_000, d.BlockIntervalMS},
		{"max_tx_bytes", "largest transaction accepted, canonical JSON bytes (a signed CREATE is about 600)", "bytes", 1024, ledger.MaxTxBytes, d.MaxTxBytes},
		{"election_expiry_blocks", "blocks after which an open caretaker election lapses", "blocks", 1, maxSafeInteger, d.ElectionExpiryBlocks},
		{"free_tier_txs_per_epoch", "transactions a key may submit free of charge in one epoch (0: no free tier)", "transactions", 0, maxSafeInteger, d.FreeTierTxsPerEpoch},
		{"free_tier_bytes_per_epoch", "transaction bytes a key may submit free of charge in one epoch (0: no free tier)", "bytes", 0, maxSafeInteger, d.FreeTierBytesPerEpoch},
		{"epoch_blocks", "length of an accounting epoch", "blocks", 1, maxSafeInteger, d.EpochBlocks},
		{"fee_per_tx", "fee-asset units that buy one transaction of quota beyond the free tier (0: quota cannot be bought)", "fee units", 0, maxSafeInteger, d.FeePerTx},
		{"max_caretakers", "most caretakers the set may hold (a bylaw: IPDB's is 100)", "caretakers", 1, MaxCaretakers, d.MaxCaretakers},
	}
}

// DefaultParams returns the parameters of a new network: 1000 transactions a
// block, 100 ms block interval, 15000-byte transactions (as IPDB's gateway),
// elections lapsing after 10000 blocks, a free tier of 1000 transactions or
// 1 MB per epoch of 1000 blocks, a fee of 1 per transaction beyond it,
// and at most 100 caretakers.
func DefaultParams() Params {
	return Params{
		MaxBlockTxs:           1000,
		BlockIntervalMS:       100,
		MaxTxBytes:            15000,
		ElectionExpiryBlocks:  10_000,
		FreeTierTxsPerEpoch:   1000,
		FreeTierBytesPerEpoch: 1_000_000,
		EpochBlocks:           1000,
		FeePerTx:              1,
		MaxCaretakers:         100,
	}
}

// field returns the address of the parameter called name, or nil.
func (p *Params) field(name string) *uint64 {
	switch name {
	case "max_block_txs":
		return &p.MaxBlockTxs
	case "block_interval_ms":
		return &p.BlockIntervalMS
	case "max_tx_bytes":
		return &p.MaxTxBytes
	case "election_expiry_blocks":
		return &p.ElectionExpiryBlocks
	case "free_tier_txs_per_epoch":
		return &p.FreeTierTxsPerEpoch
	case "free_tier_bytes_per_epoch":
		return &p.FreeTierBytesPerEpoch
	case "epoch_blocks":
		return &p.EpochBlocks
	case "fee_per_tx":
		return &p.FeePerTx
	case "max_caretakers":
		return &p.MaxCaretakers
	}
	return nil
}

// Get returns the value of the parameter called name (its JSON name), or
// an error wrapping ErrUnknownParam.
func (p Params) Get(name string) (uint64, error) {
	f := p.field(name)
	if f == nil {
		return 0, unknownParam(name)
	}
	return *f, nil
}

// Validate checks every parameter against its bounds, naming the first one
// out of bounds as params.NAME.
func (p Params) Validate() error {
	for _, info := range ParamTable() {
		if err := info.check(*p.field(info.Name)); err != nil {
			return err
		}
	}
	return nil
}

// check returns an error naming the parameter unless Min <= v <= Max.
func (info ParamInfo) check(v uint64) error {
	if v < info.Min || v > info.Max {
		return fmt.Errorf("genesis: params.%s: want %d to %d (%s), got %d", info.Name, info.Min, info.Max, info.Unit, v)
	}
	return nil
}

// Set sets the parameter called name (its JSON name) to value if value is
// a decimal integer within the parameter's bounds. An unknown name (the
// error wraps ErrUnknownParam and lists the valid names), or a bad or
// out-of-bounds value (the error gives the bounds), leaves p unchanged.
func (p *Params) Set(name, value string) error {
	f := p.field(name)
	if f == nil {
		return unknownParam(name)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64)
	if err != nil {
		return fmt.Errorf("genesis: params.%s: want a decimal integer, got %q", name, value)
	}
	for _, info := range ParamTable() {
		if info.Name == name {
			if err := info.check(v); err != nil {
				return err
			}
		}
	}
	*f = v
	return nil
}

// SetAssignment parses one NAME=VALUE assignment, as given to --param, and
// calls Set.
func (p *Params) SetAssignment(assignment string) error {
	name, value, ok := strings.Cut(assignment, "=")
	if !ok {
		return fmt.Errorf("genesis: param %q: want NAME=VALUE with NAME one of %s", assignment, paramNames())
	}
	return p.Set(strings.TrimSpace(name), value)
}

// unknownParam returns ErrUnknownParam wrapped with name and the valid names.
func unknownParam(name string) error {
	return fmt.Errorf("%w %q: valid names are %s", ErrUnknownParam, name, paramNames())
}

// paramNames returns the parameter names, comma-separated.
func paramNames() string {
	table := ParamTable()
	names := make([]string, len(table))
	for i, info := range table {
		names[i] = info.Name
	}
	return strings.Join(names, ", ")
}
