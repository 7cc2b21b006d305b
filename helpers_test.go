package ami_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// quietLogger discards logs (tests that read logs build their own).
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serverCfg is the config of one amitest server with its default user.
func serverCfg(s *amitest.Server) ami.ServerConfig {
	return ami.ServerConfig{Address: s.Addr(), Username: "admin", Secret: "admin-secret"}
}

// newManager builds a manager and closes it at cleanup.
func newManager(t testing.TB, cfg ami.Config, opts ...ami.ManagerOption) *ami.Manager {
	t.Helper()
	opts = append([]ami.ManagerOption{ami.WithLogger(quietLogger())}, opts...)
	m, err := ami.NewManager(cfg, opts...)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// tickUntil drives the manager from the test goroutine until cond holds.
func tickUntil(t testing.TB, m *ami.Manager, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; health: %+v", timeout, what, m.Health())
		}
		if _, err := m.TickAll(5 * time.Millisecond); err != nil {
			t.Fatalf("TickAll: %v", err)
		}
	}
}

func allReady(m *ami.Manager) func() bool { return func() bool { return m.Health().AllReady() } }
