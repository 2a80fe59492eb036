package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestStartInitsEmptyHomeAndStopsCleanly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new-home")
	n := startNode(t, dir)
	if out := n.stdout.String(); !strings.Contains(out, "no node in "+dir+" yet") || !strings.Contains(out, "initialised "+dir) {
		t.Fatalf("start on an empty home printed %q, want it to say it initialised the home", out)
	}
	st := getStatus(t, n.api)
	key, _, _ := home{dir}.loadKey()
	if !st.Ready || st.ChainID != defaultChainID || st.Height != 0 || len(st.Caretakers) != 1 || st.Caretakers[0] != key.PublicBase58() {
		t.Fatalf("status %+v, want a ready %s at height 0 with the home's caretaker", st, defaultChainID)
	}
	if err := n.stop(t); err != nil {
		t.Fatalf("start after its context was cancelled = %v, want nil (a clean stop)", err)
	}
	if b := readAll(t, filepath.Join(dir, lockFile)); len(b) != 0 {
		t.Fatalf("LOCK holds %q after a clean stop, want it empty", b)
	}
	// The same home starts again, on its existing ledger.
	n = startNode(t, dir)
	if strings.Contains(n.stdout.String(), "initialised") {
		t.Fatalf("second start initialised the home again: %q", n.stdout)
	}
	if err := n.stop(t); err != nil {
		t.Fatalf("second stop = %v", err)
	}
}

func TestStartRefusesLockedHome(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := startNode(t, dir)
	want := "home " + dir + " is in use by another ipdb-node (pid " + strconv.Itoa(os.Getpid()) + ")"
	tests := []struct {
		name string
		args []string
		more string
	}{
		{"start", []string{"start", "--home", dir, "--http", "127.0.0.1:0"}, ""},
		{"export", []string{"export", "--home", dir, "--car", filepath.Join(t.TempDir(), "x.car")}, "stop it first"},
		{"init --force", []string{"init", "--home", dir, "--force"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, tt.args...)
			checkOneLineError(t, stderr, err, want, tt.more)
		})
	}
	if st := getStatus(t, n.api); !st.Ready {
		t.Fatalf("the first node is not ready after the refused commands: %+v", st)
	}
}

func TestStartConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string   // config.toml content; "" keeps the default
		flags  []string // extra flags
		breaks func(h home) error
		want   []string
	}{
		{name: "out of bounds", config: "[block]\ninterval = \"0s\"\n",
			want: []string{configFile + ": ", "block.interval: must be between 1ms and 10s, got 0s"}},
		{name: "two problems", config: "[block]\ninterval = \"0s\"\n[log]\nlevel = \"loud\"\n",
			want: []string{"block.interval", "; log.level: must be one of debug, info, warn, error"}},
		{name: "unknown key", config: "[http]\nadr = \"127.0.0.1:1\"\n",
			want: []string{configFile, "line 2: http.adr: unknown key"}},
		{name: "duration as number", config: "[http]\ncommit_wait = 5\n",
			want: []string{configFile, "http.commit_wait"}},
		{name: "bad flag", flags: []string{"--log-format", "xml"},
			want: []string{"--log-format", "log.format: must be one of text, json"}},
		{name: "missing config", breaks: func(h home) error { return os.Remove(h.path(configFile)) },
			want: []string{configFile + ": missing", "config show"}},
		{name: "bad genesis", breaks: func(h home) error { return os.WriteFile(h.path(genesisFile), []byte("{}"), 0o644) },
			want: []string{genesisFile, "chain_id"}},
		{name: "missing key", breaks: func(h home) error { return os.Remove(h.keyPath()) },
			want: []string{keyFile, "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			mustRunCLI(t, "init", "--home", dir)
			h := home{dir}
			if tt.config != "" {
				if err := os.WriteFile(h.path(configFile), []byte(tt.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.breaks != nil {
				if err := tt.breaks(h); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"start", "--home", dir, "--http", "127.0.0.1:0"}, tt.flags...)
			_, stderr, err := runCLI(t, args...)
			checkOneLineError(t, stderr, err, tt.want...)
		})
	}
}

func TestConfigShow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, stderr, err := runCLI(t, "config", "show", "--home", dir)
	if err != nil || !strings.Contains(stderr, "showing the defaults") || !strings.Contains(out, `addr = "127.0.0.1:9984"`) {
		t.Fatalf("config show on an empty home = %v, stderr %q, stdout %q; want the defaults", err, stderr, out)
	}
	mustRunCLI(t, "init", "--home", dir)
	h := home{dir}
	if err := os.WriteFile(h.path(configFile), []byte("[block]\nmax_txs = 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = mustRunCLI(t, "config", "show", "--home", dir)
	if !strings.Contains(out, "max_txs = 7\n") || !strings.Contains(out, "interval = \"20ms\"") {
		t.Fatalf("config show printed %q, want max_txs 7 and the other defaults", out)
	}
}

func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"start", "--nope"}, "unknown flag: --nope (see 'ipdb-node start --help')"},
		{"extra argument", []string{"init", "x"}, `unknown command "x"`},
		{"missing flag", []string{"tx", "create", "--data", "{}"}, `required flag(s) "key" not set`},
		{"bad tx id", []string{"tx", "show", "xyz"}, "not a transaction id"},
		{"unknown subcommand", []string{"keys", "bogus"}, `unknown command "bogus" for "ipdb-node keys"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, tt.args...)
			checkOneLineError(t, stderr, err, tt.want)
		})
	}
}

func TestVersionAndCompletion(t *testing.T) {
	t.Parallel()
	out := mustRunCLI(t, "version")
	if !strings.HasPrefix(out, "ipdb-node ") || !strings.Contains(out, "\ngo go1.") || !strings.Contains(out, "\ncommit ") {
		t.Fatalf("version printed %q", out)
	}
	out = mustRunCLI(t, "version", "--json")
	for _, key := range []string{`"version":`, `"go": "go1.`, `"commit":`} {
		if !strings.Contains(out, key) {
			t.Fatalf("version --json printed %q, want %s", out, key)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			if out := mustRunCLI(t, "completion", shell); !strings.Contains(out, "ipdb-node") || len(out) < 1000 {
				t.Fatalf("completion %s printed %d bytes, want a script", shell, len(out))
			}
		})
	}
}
