package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/ledger"
)

// Defaults of `ipdb-node bench`.
const (
	benchDefaultRate     = 100
	benchDefaultDuration = 10 * time.Second
	benchDefaultSize     = 1024
	benchDefaultWorkers  = 64
	// benchDefaultDrain is how long commits are awaited after the last POST:
	// the node's default commit_wait.
	benchDefaultDrain = 30 * time.Second
)

// newBenchCmd returns `ipdb-node bench`.
func newBenchCmd(a *app) *cobra.Command {
	var apis []string
	var keyPath, profilePath string
	cfg := benchConfig{Progress: a.stdout}
	c := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a network: post signed CREATEs at a fixed rate and measure submit-to-commit latency",
		Long: "bench signs rate × duration CREATEs of about --size bytes ahead (in parallel), then\n" +
			"posts them with mode=async round-robin over the --api URLs at --rate per second (an\n" +
			"open loop with at most --workers in flight), watches the first API's event stream\n" +
			"for their commits, and waits up to --drain for the last ones. The last line is\n" +
			"`committed N tx in S s: X tx/s, p50 A ms, p99 B ms, sustained Y tx/s`, S running from\n" +
			"the first POST to the last commit, Y the commits seen from a quarter of --duration\n" +
			"into the load to its end, per second. Keep --size under the node's [http]\n" +
			"max_body_bytes. With\n" +
			"--backoff, a worker refused with Retry-After waits that long, as a client that\n" +
			"honours it does: the offered rate then falls to what the network takes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.APIs, err = a.benchAPIs(apis); err != nil {
				return err
			}
			if cfg.Key, err = benchKey(keyPath); err != nil {
				return err
			}
			if profilePath != "" {
				stop, err := startCPUProfile(profilePath)
				if err != nil {
					return err
				}
				defer stop()
			}
			_, err = runBench(cmd.Context(), cfg)
			return err
		},
	}
	f := c.Flags()
	f.StringSliceVar(&apis, "api", nil, "API URLs, comma-separated (default: from the home's config)")
	f.Float64Var(&cfg.Rate, "rate", benchDefaultRate, "transactions per second to offer")
	f.DurationVar(&cfg.Duration, "duration", benchDefaultDuration, "how long to offer them")
	f.IntVar(&cfg.Size, "size", benchDefaultSize, "about how many bytes each transaction has")
	f.IntVar(&cfg.Workers, "workers", benchDefaultWorkers, "most POSTs in flight")
	f.DurationVar(&cfg.Drain, "drain", benchDefaultDrain, "how long to wait for commits after the last POST")
	f.BoolVar(&cfg.Backoff, "backoff", false, "after a refusal with Retry-After (503), a worker waits that long before its next POST")
	f.BoolVar(&cfg.Timeline, "timeline", false, "after the summary, print each second's POSTs sent, refused, and commits seen")
	f.StringVar(&keyPath, "key", "", "key file of the issuer (default: a fresh key)")
	f.StringVar(&profilePath, "cpuprofile", "", "write the generator's own CPU profile (pprof) to this file")
	return c
}

// benchAPIs normalises the --api URLs, or finds the home's API.
func (a *app) benchAPIs(flags []string) ([]string, error) {
	if len(flags) == 0 {
		u, err := a.apiURL("")
		return []string{u}, err
	}
	if len(flags) > maxBenchAPIs {
		return nil, fmt.Errorf("--api: %d URLs, over the limit of %d", len(flags), maxBenchAPIs)
	}
	out := make([]string, len(flags))
	for i, s := range flags {
		u, err := normalizeAPIURL(s)
		if err != nil {
			return nil, err
		}
		out[i] = u
	}
	return out, nil
}

// benchKey reads the issuer key, or makes a fresh one.
func benchKey(path string) (ledger.KeyPair, error) {
	if path == "" {
		return newKeyPair()
	}
	return readKeyFile(path)
}

// startCPUProfile writes a CPU profile of this process to path until the
// returned stop is called: it tells whether the load generator, sharing
// the machine with the nodes under test, is what limits a run.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
