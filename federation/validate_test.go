package federation

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func validConfig() Config {
	return Config{Self: "v0", TimeoutPropose: 3 * time.Second, TimeoutPrevote: time.Second,
		TimeoutPrecommit: time.Second, TimeoutDelta: 500 * time.Millisecond, RetryInterval: 2 * time.Second}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"observer", func(c *Config) { c.Self = "" }, ""},
		{"zero delta", func(c *Config) { c.TimeoutDelta = 0 }, ""},
		{"max timeouts", func(c *Config) { c.TimeoutPropose, c.TimeoutDelta = MaxTimeout, MaxTimeout }, ""},
		{"long self", func(c *Config) { c.Self = ValidatorID(strings.Repeat("x", MaxValidatorIDBytes+1)) }, "self"},
		{"zero propose", func(c *Config) { c.TimeoutPropose = 0 }, "timeout_propose"},
		{"negative prevote", func(c *Config) { c.TimeoutPrevote = -1 }, "timeout_prevote"},
		{"zero precommit", func(c *Config) { c.TimeoutPrecommit = 0 }, "timeout_precommit"},
		{"zero retry", func(c *Config) { c.RetryInterval = 0 }, "retry_interval"},
		{"huge propose", func(c *Config) { c.TimeoutPropose = MaxTimeout + 1 }, "timeout_propose"},
		{"negative delta", func(c *Config) { c.TimeoutDelta = -1 }, "timeout_delta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate()=%v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Validate()=%v, want %v naming %s", err, ErrInvalid, tt.field)
			}
			if _, err := New(c); !errors.Is(err, ErrInvalid) {
				t.Fatalf("New()=%v, want %v", err, ErrInvalid)
			}
		})
	}
}

func TestMessageValidateBasic(t *testing.T) {
	v := Vote{Type: Prevote, Height: 1, Round: 2, BlockID: "B", Validator: "v1"}
	p := Proposal{Height: 1, Round: 2, BlockID: "B", POLRound: 1, Proposer: "v1"}
	tests := []struct {
		name string
		msg  Message
		ok   bool
	}{
		{"vote", Message{Vote: &v}, true},
		{"proposal", Message{Proposal: &p}, true},
		{"both", Message{Vote: &v, Proposal: &p}, false},
		{"neither", Message{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.msg.ValidateBasic(); (err == nil) != tt.ok {
				t.Fatalf("ValidateBasic()=%v, want ok=%v", err, tt.ok)
			}
		})
	}
	maxRound := Proposal{Height: 1, Round: MaxRound, BlockID: "B", POLRound: MaxRound - 1, Proposer: "v1"}
	if err := maxRound.ValidateBasic(); err != nil {
		t.Fatalf("ValidateBasic(round MaxRound)=%v, want nil", err)
	}
}

func TestTimeoutAt(t *testing.T) {
	tests := []struct {
		base, delta time.Duration
		round       uint32
		want        time.Duration
	}{
		{time.Second, 0, 1000, time.Second},
		{time.Second, 500 * time.Millisecond, 0, time.Second},
		{time.Second, 500 * time.Millisecond, 4, 3 * time.Second},
		{time.Second, time.Minute, 59, time.Second + 59*time.Minute},
		{time.Second, time.Minute, 60, MaxTimeout},
		{MaxTimeout, MaxTimeout, MaxRound, MaxTimeout},
		{time.Millisecond, time.Nanosecond, MaxRound, time.Millisecond + MaxRound*time.Nanosecond},
	}
	for _, tt := range tests {
		if got := timeoutAt(tt.base, tt.delta, tt.round); got != tt.want {
			t.Fatalf("timeoutAt(%v, %v, %d)=%v, want %v", tt.base, tt.delta, tt.round, got, tt.want)
		}
	}
}

func TestShortID(t *testing.T) {
	cid := BlockID([]byte{0x01, 0x71, 0x12, 0x20, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})
	tests := []struct {
		id   BlockID
		want string
	}{
		{"", "nil"},
		{"h1/r0/n2", "h1/r0/n2"},
		{"a b", "…612062"},
		{cid, "…aabbccddeeff"},
	}
	for _, tt := range tests {
		if got := shortID(tt.id); got != tt.want {
			t.Fatalf("shortID(%q)=%q, want %q", tt.id, got, tt.want)
		}
	}
}

// TestTimeoutAtOracle compares timeoutAt with min(base + round*delta,
// MaxTimeout) computed without overflow.
func TestTimeoutAtOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := time.Duration(rapid.Int64Range(1, int64(MaxTimeout)).Draw(t, "base"))
		delta := time.Duration(rapid.Int64Range(0, int64(MaxTimeout)).Draw(t, "delta"))
		round := rapid.Uint32Range(0, MaxRound).Draw(t, "round")
		want := new(big.Int).Mul(big.NewInt(int64(delta)), big.NewInt(int64(round)))
		want.Add(want, big.NewInt(int64(base)))
		if want.Cmp(big.NewInt(int64(MaxTimeout))) > 0 {
			want.SetInt64(int64(MaxTimeout))
		}
		if got := timeoutAt(base, delta, round); int64(got) != want.Int64() {
			t.Fatalf("timeoutAt(%v, %v, %d)=%v, want %v", base, delta, round, got, time.Duration(want.Int64()))
		}
	})
}
