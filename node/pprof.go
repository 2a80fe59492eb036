package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofReadHeaderTimeout bounds a profile request's headers; the profiles
// themselves run for the seconds the request asks (CPU, trace).
const pprofReadHeaderTimeout = 10 * time.Second

// profiler serves Go's runtime profiles (/debug/pprof/) on its own
// listener, [metrics] pprof_addr, as CometBFT's rpc.pprof_laddr does: an
// operator can profile a busy node without exposing the profiles on the
// public API address.
type profiler struct {
	ln  net.Listener
	srv *http.Server
}

// newProfiler binds addr. The handlers are registered on a mux of ours,
// never on http.DefaultServeMux.
func newProfiler(addr string, log *slog.Logger) (*profiler, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.pprof_addr: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: pprofReadHeaderTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	return &profiler{ln: ln, srv: srv}, nil
}

// run serves until ctx is done, then closes the server (a profile in
// progress is cut off: it is a debugging aid, not a service).
func (p *profiler) run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { p.srv.Close() })
	defer stop()
	if err := p.srv.Serve(p.ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pprof: serve: %w", err)
	}
	return nil
}

// close releases the listener of a profiler that never ran.
func (p *profiler) close() error {
	if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("pprof: close listener: %w", err)
	}
	return nil
}
