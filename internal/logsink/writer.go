package logsink

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/apntalk/ami/internal/ring"
)

// entry is one queued record with the handler it is destined for.
type entry struct {
	ctx context.Context
	h   slog.Handler
	r   slog.Record
}

// core is the state shared by a Handler and its derivatives.
type core struct {
	base     slog.Handler // receives drop warnings
	interval time.Duration

	mu        sync.Mutex
	q         *ring.Ring[entry]
	stats     Stats
	closed    bool  // no more records accepted
	abandoned bool  // Close gave up: the writer must exit without delivering
	closeErr  error // what Close returns once abandoned
	inFlight  bool  // the writer holds a record not yet counted
	warned    uint64
	lastWarn  time.Time

	wake chan struct{} // 1-slot: work or state change for the writer
	done chan struct{} // closed when the writer exits
}

// run is the writer goroutine.
func (c *core) run() {
	defer close(c.done)
	var timer *time.Timer
	for {
		e, ok, exit := c.take()
		if exit {
			return
		}
		if ok {
			errored, panicked := deliver(e.ctx, e.h, e.r)
			if !c.finish(errored, panicked) {
				return
			}
			c.maybeWarn()
			continue
		}
		// Idle: wait for work, or for the moment a pending warning is due.
		var due <-chan time.Time
		if wait := c.maybeWarn(); wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
				defer timer.Stop()
			} else {
				timer.Reset(wait)
			}
			due = timer.C
		}
		select {
		case <-c.wake:
		case <-due:
		}
	}
}

// take pops the next record. exit is true when the writer must stop.
func (c *core) take() (e entry, ok, exit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.abandoned {
		return e, false, true
	}
	e, ok = c.q.Pop()
	if !ok {
		return e, false, c.closed
	}
	c.inFlight = true
	return e, true, false
}

// finish accounts for the record just handed to the sink. It reports false
// if Close has given up, in which case the record was already counted as
// Dropped and the writer must exit.
func (c *core) finish(errored, panicked bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight = false
	if c.abandoned {
		return false
	}
	c.stats.Delivered++
	c.countFailure(errored, panicked)
	return true
}

// countFailure must be called with c.mu held.
func (c *core) countFailure(errored, panicked bool) {
	if errored {
		c.stats.Errors++
	}
	if panicked {
		c.stats.Panics++
	}
}

// maybeWarn emits a drop warning if drops happened since the last one and
// WarnInterval has elapsed. If a warning is pending but throttled, it
// returns how long to wait; otherwise 0.
func (c *core) maybeWarn() time.Duration {
	c.mu.Lock()
	total := c.stats.Dropped
	delta := total - c.warned
	if delta == 0 || c.abandoned {
		c.mu.Unlock()
		return 0
	}
	now := time.Now()
	if !c.lastWarn.IsZero() {
		if elapsed := now.Sub(c.lastWarn); elapsed < c.interval {
			c.mu.Unlock()
			return c.interval - elapsed
		}
	}
	c.warned, c.lastWarn = total, now
	c.mu.Unlock()

	ctx := context.Background()
	if !c.base.Enabled(ctx, slog.LevelWarn) {
		return 0
	}
	r := slog.NewRecord(now, slog.LevelWarn, DropWarningMessage, 0)
	r.AddAttrs(slog.Uint64("dropped", delta), slog.Uint64("dropped_total", total))
	errored, panicked := deliver(ctx, c.base, r)
	if errored || panicked {
		c.mu.Lock()
		c.countFailure(errored, panicked)
		c.mu.Unlock()
	}
	return 0
}

// deliver calls h.Handle, containing panics.
func deliver(ctx context.Context, h slog.Handler, r slog.Record) (errored, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	return h.Handle(ctx, r) != nil, false
}

// close implements Handler.Close.
func (c *core) close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	if c.abandoned {
		// An earlier Close gave up on a blocked sink: do not wait again.
		err := c.closeErr
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		// The writer finished while we were taking the lock.
		return nil
	default:
	}
	if !c.abandoned {
		c.abandoned = true
		c.closeErr = ctx.Err()
		c.stats.Dropped += uint64(c.q.Clear())
		if c.inFlight {
			c.stats.Dropped++
		}
	}
	return c.closeErr
}
