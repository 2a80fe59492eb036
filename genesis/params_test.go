package genesis

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultParamsValid(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("DefaultParams().Validate()=%v, want nil", err)
	}
	for _, info := range ParamTable() {
		got, err := DefaultParams().Get(info.Name)
		if err != nil || got != info.Default {
			t.Fatalf("DefaultParams().Get(%s)=%d, %v, want the table's default %d", info.Name, got, err, info.Default)
		}
		if info.Doc == "" || info.Unit == "" || info.Min > info.Default || info.Default > info.Max || info.Max > maxSafeInteger {
			t.Fatalf("ParamTable() entry %+v: want a doc, a unit and min <= default <= max <= 2^53-1", info)
		}
	}
}

func TestParamTableCoversParams(t *testing.T) {
	var p Params
	for i, info := range ParamTable() {
		if err := p.Set(info.Name, "99999"); err != nil && !strings.Contains(err.Error(), "want") {
			t.Fatalf("Set(%s)=%v", info.Name, err)
		}
		if got := *p.field(info.Name); got != 0 && got != 99999 {
			t.Fatalf("Set(%s) wrote %d", info.Name, got)
		}
		if i > 0 && p.field(info.Name) == p.field(ParamTable()[i-1].Name) {
			t.Fatalf("two names share a field: %s", info.Name)
		}
	}
	if got, want := len(ParamTable()), 9; got != want {
		t.Fatalf("len(ParamTable())=%d, want %d (one per Params field)", got, want)
	}
}

func TestParamsSet(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // error substring; "" = accepted
		check       func(p Params) bool
	}{
		{"max_block_txs", "500", "", func(p Params) bool { return p.MaxBlockTxs == 500 }},
		{"block_interval_ms", " 250 ", "", func(p Params) bool { return p.BlockIntervalMS == 250 }},
		{"fee_per_tx", "0", "", func(p Params) bool { return p.FeePerTx == 0 }},
		{"free_tier_txs_per_epoch", "0", "", func(p Params) bool { return p.FreeTierTxsPerEpoch == 0 }},
		{"max_tx_bytes", "65536", "", func(p Params) bool { return p.MaxTxBytes == 65536 }},
		{"max_tx_bytes", "65537", "params.max_tx_bytes: want 1024 to 65536 (bytes), got 65537", nil},
		{"max_block_txs", "0", "params.max_block_txs: want 1 to 10000 (transactions), got 0", nil},
		{"epoch_blocks", "-1", `params.epoch_blocks: want a decimal integer, got "-1"`, nil},
		{"epoch_blocks", "1e3", `want a decimal integer`, nil},
		{"fee_per_tx", "9007199254740992", "params.fee_per_tx: want 0 to 9007199254740991", nil},
		{"fee", "1", `unknown parameter "fee": valid names are max_block_txs, block_interval_ms, max_tx_bytes, election_expiry_blocks, free_tier_txs_per_epoch, free_tier_bytes_per_epoch, epoch_blocks, fee_per_tx, max_caretakers`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			p := DefaultParams()
			err := p.Set(tt.name, tt.value)
			if tt.want == "" {
				if err != nil || !tt.check(p) {
					t.Fatalf("Set(%s, %s)=%v, params %+v", tt.name, tt.value, err, p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Set(%s, %s)=%v, want an error containing %q", tt.name, tt.value, err, tt.want)
			}
			if p != DefaultParams() {
				t.Fatalf("Set(%s, %s) failed but changed params to %+v", tt.name, tt.value, p)
			}
		})
	}
}

func TestParamsSetAssignment(t *testing.T) {
	p := DefaultParams()
	if err := p.SetAssignment("epoch_blocks=20"); err != nil || p.EpochBlocks != 20 {
		t.Fatalf("SetAssignment(epoch_blocks=20)=%v, epoch_blocks %d, want 20", err, p.EpochBlocks)
	}
	if err := p.SetAssignment("epoch_blocks"); err == nil || !strings.Contains(err.Error(), "want NAME=VALUE with NAME one of max_block_txs") {
		t.Fatalf("SetAssignment(epoch_blocks)=%v, want the NAME=VALUE error", err)
	}
	if err := p.SetAssignment("nope=1"); !errors.Is(err, ErrUnknownParam) {
		t.Fatalf("SetAssignment(nope=1)=%v, want ErrUnknownParam", err)
	}
	if _, err := p.Get("nope"); !errors.Is(err, ErrUnknownParam) {
		t.Fatalf("Get(nope)=%v, want ErrUnknownParam", err)
	}
}
