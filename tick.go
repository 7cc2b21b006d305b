package ami

import (
	"context"
	"time"
)

// MaxTickWait is the longest a single TickAll waits. Longer requests are
// clamped to it, counted, and flagged in TickSummary.Clamped.
const MaxTickWait = 250 * time.Millisecond

// TickSummary says what one tick did, so that loops can tell idle from busy
// without guessing.
type TickSummary struct {
	BytesRead        int64 // bytes parsed from all servers
	BytesWritten     int64 // bytes the writers handed to sockets since the last tick
	Frames           int   // frames parsed
	EventsDispatched int   // events handed to listeners
	ActionsCompleted int   // actions completed (any outcome)
	StateChanges     int   // client state transitions
	ConnectAttempts  int   // dials started (cluster budget)
	// Requested is the timeout the caller asked for; Waited is how long the
	// tick actually waited for readiness.
	Requested time.Duration
	Waited    time.Duration
	// Clamped is true when Requested exceeded MaxTickWait.
	Clamped bool
	// Progress is true when anything above happened.
	Progress bool
}

func (s *TickSummary) finish() {
	s.Progress = s.BytesRead > 0 || s.BytesWritten > 0 || s.Frames > 0 || s.EventsDispatched > 0 ||
		s.ActionsCompleted > 0 || s.StateChanges > 0 || s.ConnectAttempts > 0
}

// TickAll runs one tick for every server. It first waits at most d for
// readiness (bytes from any server, a finished dial, an action's deadline),
// returning early as soon as work arrives, and does not wait at all when
// work is already pending. It then, per server in a rotating order, parses
// within the byte and frame budgets, routes responses to their actions and
// events to the bounded queue, sweeps timeouts and heartbeats, starts
// connects within the cluster budget, and dispatches queued events within
// the event budget.
//
// d < 0 returns ErrInvalidTimeout. d > MaxTickWait is clamped to
// MaxTickWait, counted, and flagged in the summary. d == 0 is Poll.
// TickAll, Poll and Run must not run concurrently (they serialise).
// Listeners and completion callbacks run inside TickAll.
func (m *Manager) TickAll(d time.Duration) (TickSummary, error) {
	return m.tickWait(d, nil)
}

// Poll is the non-blocking tick (TickAll(0)), for a loop owned by someone else.
func (m *Manager) Poll() TickSummary {
	s, _ := m.tickWait(0, nil)
	return s
}

func (m *Manager) tickWait(d time.Duration, stop <-chan struct{}) (TickSummary, error) {
	var sum TickSummary
	sum.Requested = d
	if d < 0 {
		return sum, ErrInvalidTimeout
	}
	if d > MaxTickWait {
		d = MaxTickWait
		sum.Clamped = true
		m.clamps.Add(1)
	}
	m.tickMu.Lock()
	defer m.tickMu.Unlock()
	if m.closed.Load() {
		return sum, ErrClosed
	}
	start := time.Now()
	if d > 0 && !m.hasWork() {
		if until, ok := m.untilDeadline(); ok && until < d {
			d = max(until, 0)
		}
		sum.Waited = m.wait(d, stop)
	}
	// This tick handles everything signalled so far: a wake left by data
	// that it is about to read must not make the next TickAll return early.
	select {
	case <-m.wake:
	default:
	}
	m.tick(&sum)
	m.metrics.Tick(time.Since(start), sum.Waited)
	return sum, nil
}

// wait blocks on the one wait point shared by every server.
func (m *Manager) wait(d time.Duration, stop <-chan struct{}) time.Duration {
	if d <= 0 {
		return 0
	}
	start := time.Now()
	m.timer.Reset(d)
	select {
	case <-m.wake:
	case <-m.timer.C:
	case <-stop:
	}
	m.timer.Stop()
	return time.Since(start)
}

// hasWork reports whether a tick has something to do right now.
func (m *Manager) hasWork() bool {
	select {
	case <-m.wake:
		return true
	default:
	}
	if !m.started {
		return true
	}
	for _, c := range m.clients {
		if c.moreInput || c.queue.Len() > 0 {
			return true
		}
		if c.dial != nil && len(c.dial.ch) > 0 {
			return true
		}
	}
	return false
}

// untilDeadline is the time to the earliest timer of any server.
func (m *Manager) untilDeadline() (time.Duration, bool) {
	now := m.now()
	var earliest time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (earliest.IsZero() || t.Before(earliest)) {
			earliest = t
		}
	}
	for _, c := range m.clients {
		switch c.State() {
		case StateDisconnected, StateReconnecting:
			if !c.closing {
				consider(c.nextRetry)
			}
		case StateConnecting, StateConnected, StateAuthenticating:
			consider(c.phaseDeadline)
		case StateReady:
			if c.opts.HeartbeatInterval > 0 && !c.pinging {
				consider(c.nextPing)
			}
			if c.opts.ReadTimeout > 0 {
				consider(c.lastRead.Add(c.opts.ReadTimeout))
			}
		}
		c.mu.Lock()
		consider(c.nextSweep)
		c.mu.Unlock()
		if c.dropSinceWarn > 0 {
			consider(c.warnWindow.Add(c.opts.DropWarnInterval))
		}
	}
	if earliest.IsZero() {
		return 0, false
	}
	return earliest.Sub(now), true
}

func (m *Manager) tick(sum *TickSummary) {
	now := m.now()
	m.tickNow, m.tickSum = now, sum
	defer func() { m.tickSum = nil }()
	n := len(m.clients)
	if !m.started {
		m.started = true
		for _, c := range m.clients {
			c.nextRetry = now
		}
	}
	r := m.rot
	m.rot = (m.rot + 1) % n
	for i := 0; i < n; i++ {
		c := m.clients[(r+i)%n]
		c.pollDial(now, sum)
		// The connection's error is loaded before reading: every byte its
		// reader delivered before failing is then read first. An error
		// that comes later is handled by the next tick (it wakes it).
		sess := c.sess
		var lost error
		if sess != nil {
			lost = sess.Err()
		}
		c.readFrames(now, sum)
		if lost != nil && c.sess == sess && !c.moreInput {
			c.fail(now, sum, lost, "read")
		}
		c.timers(now, sum)
	}
	m.connect(now, sum)
	for i := 0; i < n; i++ {
		c := m.clients[(r+i)%n]
		c.dispatch(sum)
		c.afterTick(now, sum)
	}
	m.reportLogDrops()
	sum.finish()
}

// connect starts due connects within the cluster budget. The cursor
// advances past every server considered, so with many servers down and a
// small budget every server still gets its turn.
func (m *Manager) connect(now time.Time, sum *TickSummary) {
	budget := m.opts.MaxConnectAttemptsPerTick
	n := len(m.clients)
	for i := 0; i < n && budget > 0; i++ {
		idx := (m.cursor + i) % n
		c := m.clients[idx]
		if !c.wantsConnect(now) {
			continue
		}
		m.cursor = (idx + 1) % n
		if c.startConnect(now, sum) {
			budget--
		}
	}
}

// afterTick updates gauges and coalesced warnings.
func (c *Client) afterTick(now time.Time, sum *TickSummary) {
	c.maybeWarnDrops(now)
	c.mu.Lock()
	pending := len(c.pending)
	var buffered int
	var written uint64
	if c.sess != nil {
		buffered = c.sess.Buffered()
		written = c.sess.Stats().BytesWritten
	}
	c.mu.Unlock()
	c.countWritten(written, sum)
	c.m.metrics.PendingActions(c.key, pending)
	c.m.metrics.WriteBufferBytes(c.key, buffered)
}

// countWritten adds what the session's writer handed to the socket since
// the last count (written is the session's total).
func (c *Client) countWritten(written uint64, sum *TickSummary) {
	if written > c.lastWritten {
		d := written - c.lastWritten
		if sum != nil {
			sum.BytesWritten += int64(d)
		}
		c.st.bytesWritten.Add(d)
		c.lastWritten = written
	}
}

// Run is the worker loop: it ticks with bounded waits (Options.TickInterval,
// default 25ms) until ctx is done, never busy-spinning when idle and never
// sleeping while work is pending. On cancel it shuts down gracefully (Close)
// and returns nil; it returns ErrClosed if the manager was already closed.
func (m *Manager) Run(ctx context.Context) error {
	if m.closed.Load() {
		return ErrClosed
	}
	for {
		if ctx.Err() != nil {
			return m.Close()
		}
		if _, err := m.tickWait(m.opts.TickInterval, ctx.Done()); err != nil {
			if m.closed.Load() {
				return nil
			}
			return err
		}
	}
}

// Close shuts down gracefully within Options.ShutdownTimeout: a Logoff to
// every Ready server, a bounded flush while answers are still read and
// queued events still dispatched, then a forced close. Actions still pending
// fail with ErrClosed. Every goroutine of the manager has ended when Close
// returns. It is idempotent and safe from any goroutine except the tick's
// own (an event handler or OnComplete callback): there, cancel Run's
// context instead.
func (m *Manager) Close() error {
	m.wakeUp()
	m.tickMu.Lock()
	defer m.tickMu.Unlock()
	if m.closed.Swap(true) {
		return nil
	}
	now := m.now()
	deadline := time.Now().Add(m.opts.ShutdownTimeout)
	var sum TickSummary
	m.tickNow, m.tickSum = now, &sum
	for _, c := range m.clients {
		c.beginClose(now, deadline)
	}
	for time.Now().Before(deadline) {
		busy, more := false, false
		now = m.now()
		m.tickNow = now
		for _, c := range m.clients {
			if c.sess == nil {
				continue
			}
			// Finished before reading: whatever the goroutines delivered
			// before they ended is then read below (or on the next round).
			finished := c.sess.Finished()
			c.readFrames(now, &sum)
			c.dispatch(&sum)
			if c.sess == nil {
				continue
			}
			if c.moreInput {
				more = true
			} else if !finished {
				busy = true
			}
		}
		if more {
			continue
		}
		if !busy {
			break
		}
		m.wait(min(10*time.Millisecond, time.Until(deadline)), nil)
	}
	now = m.now()
	for _, c := range m.clients {
		// Everything received is delivered: the queue is bounded, so this
		// is too.
		for c.queue.Len() > 0 {
			c.dispatch(&sum)
		}
		c.endClose(now)
	}
	m.tickSum = nil
	m.wg.Wait()
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Second).Add(time.Until(deadline)))
	defer cancel()
	_ = m.sink.Close(ctx)
	m.reportLogDrops()
	return nil
}

// reportLogDrops hands the log records dropped since the last report to the
// metrics, so that a running worker can alert on them.
func (m *Manager) reportLogDrops() {
	if d := m.sink.Stats().Dropped; d > m.logDropsReported {
		m.metrics.LogRecordsDropped(int(d - m.logDropsReported))
		m.logDropsReported = d
	}
}
