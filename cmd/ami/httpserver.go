package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/internal/redact"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthJSON is the body of /healthz.
type healthJSON struct {
	Status  string             `json:"status"` // "ok" or "unavailable"
	Ready   int                `json:"ready"`
	Total   int                `json:"total"`
	Servers []serverHealthJSON `json:"servers"`
}

type serverHealthJSON struct {
	Server    string     `json:"server"`
	Address   string     `json:"address"`
	State     string     `json:"state"`
	Degraded  bool       `json:"degraded"`
	Breaker   string     `json:"breaker"`
	LastError string     `json:"last_error,omitempty"`
	Attempts  int        `json:"attempts"`
	NextRetry *time.Time `json:"next_retry,omitempty"`
	Since     time.Time  `json:"since"`
	Banner    string     `json:"banner,omitempty"`
}

func healthBody(h ami.ClusterHealth, r *redact.Redactor) healthJSON {
	out := healthJSON{Status: "unavailable", Ready: h.Ready, Total: h.Total, Servers: make([]serverHealthJSON, 0, len(h.Servers))}
	if h.AllReady() {
		out.Status = "ok"
	}
	for _, s := range h.Servers {
		j := serverHealthJSON{Server: s.Server, Address: s.Address, State: s.State.String(), Degraded: s.Degraded,
			Breaker: s.Breaker, Attempts: s.Attempts, Since: s.Since, Banner: s.Banner}
		if s.LastError != nil {
			j.LastError = r.String(s.LastError.Error())
		}
		if !s.NextRetry.IsZero() {
			t := s.NextRetry
			j.NextRetry = &t
		}
		out.Servers = append(out.Servers, j)
	}
	return out
}

// startHTTP serves /metrics (reg) and /healthz (health of m) on addr and
// returns the bound address and a shutdown function.
func startHTTP(addr string, reg *prometheus.Registry, m *ami.Manager, r *redact.Redactor, logger *slog.Logger) (string, func(context.Context), error) {
	if _, err := net.ResolveTCPAddr("tcp", addr); err != nil {
		return "", nil, usagef("--metrics-addr %q: want HOST:PORT: %v", addr, err) // a flag error: exit 2
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		// The address is valid but cannot be bound now (in use, not local):
		// a runtime failure (exit 1), which a supervisor may retry.
		return "", nil, failf("--metrics-addr %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		h := m.Health()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !h.AllReady() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(healthBody(h, r))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server failed", "err", err)
		}
	}()
	stop := func(ctx context.Context) {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
	}
	return ln.Addr().String(), stop, nil
}
