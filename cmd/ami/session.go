package main

import (
	"context"
	"errors"
	"time"

	"github.com/apntalk/ami"
)

// background runs m.Run on its own goroutine, so that the calling goroutine
// can use the blocking Do helpers. stop cancels Run (graceful shutdown:
// Logoff, bounded flush) and waits for it.
func background(ctx context.Context, m *ami.Manager) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return func() error {
		cancel()
		err := <-done
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		return err
	}
}

// waitReady polls c until it is Ready, its login is refused, ctx is done or
// budget has passed. The tick goroutine (background) does the work; the
// poll only reads the state.
func waitReady(ctx context.Context, c *ami.Client, budget time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		h := c.Health()
		if h.State == ami.StateReady {
			return nil
		}
		if h.LastError != nil && errors.Is(h.LastError, ami.ErrAuthFailed) {
			return h.LastError
		}
		select {
		case <-ctx.Done():
			if h.LastError != nil {
				return h.LastError
			}
			return &ami.NotReadyError{Server: c.Key(), State: h.State}
		case <-t.C:
		}
	}
}
