package bench

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// Credentials of amitest's default user.
const (
	user   = "admin"
	secret = "admin-secret"
)

// running is a manager driven by Run on its own goroutine.
type running struct {
	m    *ami.Manager
	stop func() error
}

// startManager builds a manager of the given addresses (keys pbx1..N),
// calls setup (if not nil) to register listeners, and runs it until stop.
// It returns once every server is Ready.
func startManager(addrs []string, o ami.Options, setup func(*ami.Manager)) (*running, error) {
	cfg := ami.Config{Servers: map[string]ami.ServerConfig{}, Options: o}
	for i, a := range addrs {
		cfg.Servers[fmt.Sprintf("pbx%d", i+1)] = ami.ServerConfig{Address: a, Username: user, Secret: secret}
	}
	m, err := ami.NewManager(cfg, ami.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	if setup != nil {
		setup(m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	r := &running{m: m, stop: func() error { cancel(); return <-done }}
	if err := waitFor(10*time.Second, func() bool { return m.Health().AllReady() }); err != nil {
		_ = r.stop()
		return nil, fmt.Errorf("ami: bench: servers not ready: %w", err)
	}
	return r, nil
}

// waitFor polls cond every 200µs until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(200 * time.Microsecond)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("ami: bench: timed out after %v", timeout)
		}
		<-t.C
	}
	return nil
}

// newServer starts a fake PBX; Close it.
func newServer() *amitest.Server { return amitest.NewServer(nil, amitest.Options{}) }

// loginEvents is the number of events amitest sends after every login
// (FullyBooted, SuccessfulAuth).
const loginEvents = 2
