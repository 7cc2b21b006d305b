package ami

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/apntalk/ami/internal/breaker"
	"github.com/apntalk/ami/internal/session"
)

// Failure causes that are not errors from the network.
var (
	errConnectTimeout = errors.New("ami: connect timeout")
	errAuthTimeout    = errors.New("ami: authentication timeout")
	errReadTimeout    = errors.New("ami: read timeout: no bytes received")
	errHeartbeat      = errors.New("ami: heartbeat missed")
	errDesync         = errors.New("ami: repeated protocol desync")
)

// Read buffers: a connection holds at most inboxChunks chunks of readChunk
// bytes (1 MiB) between its reader and the tick; they come from and go back
// to a pool shared by every connection (see internal/session).
const (
	readChunk   = 32 << 10
	inboxChunks = 32
)

// desyncLimit desyncs within desyncWindow reset the connection.
const (
	desyncLimit  = 8
	desyncWindow = 10 * time.Second
)

type dialResult struct {
	conn net.Conn
	err  error
}

// dialAttempt is one asynchronous dial. The goroutine hands its result over
// under mu unless the tick abandoned the attempt, in which case it closes
// the connection itself: a late success never leaks a socket.
type dialAttempt struct {
	mu        sync.Mutex
	ch        chan dialResult
	cancel    context.CancelFunc
	abandoned bool
}

func (d *dialAttempt) deliver(r dialResult) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.abandoned {
		if r.conn != nil {
			_ = r.conn.Close()
		}
		return
	}
	d.ch <- r
}

func (d *dialAttempt) abandon() {
	d.cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.abandoned = true
	select {
	case r := <-d.ch:
		if r.conn != nil {
			_ = r.conn.Close()
		}
	default:
	}
}

// wantsConnect reports whether the client is due for a connect attempt.
func (c *Client) wantsConnect(now time.Time) bool {
	if c.closing {
		return false
	}
	st := c.State()
	return (st == StateDisconnected || st == StateReconnecting) && !now.Before(c.nextRetry)
}

// startConnect starts an asynchronous dial (DNS, TCP and TLS inside the
// goroutine, bounded by ConnectTimeout). It returns false when the circuit
// breaker refuses the attempt.
func (c *Client) startConnect(now time.Time, sum *TickSummary) bool {
	if !c.brk.Allow(now) {
		// Open: wait for the cooldown. Half-open with every probe taken:
		// check again a backoff step later, never in a tight loop.
		c.nextRetry = c.brk.OpenUntil()
		if !c.nextRetry.After(now) {
			c.nextRetry = now.Add(c.opts.ReconnectBase)
		}
		c.setHealth(func(h *Health) { h.NextRetry = c.nextRetry })
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.ConnectTimeout)
	d := &dialAttempt{ch: make(chan dialResult, 1), cancel: cancel}
	c.dial = d
	c.phaseDeadline = now.Add(c.opts.ConnectTimeout)
	c.attempt++
	att := c.attempt
	c.setHealth(func(h *Health) { h.Attempts = att })
	c.setState(StateConnecting, now, sum)
	sum.ConnectAttempts++
	c.log.Debug("ami: connecting", "address", c.cfg.Address, "attempt", att)
	addr, tlsConf, wake := c.cfg.Address, c.tlsConf, c.m.wakeUp
	c.m.wg.Add(1)
	go func() {
		defer c.m.wg.Done()
		var conn net.Conn
		var err error
		nd := &net.Dialer{KeepAlive: 30 * time.Second}
		if tlsConf != nil {
			conn, err = (&tls.Dialer{NetDialer: nd, Config: tlsConf}).DialContext(ctx, "tcp", addr)
		} else {
			conn, err = nd.DialContext(ctx, "tcp", addr)
		}
		d.deliver(dialResult{conn: conn, err: err})
		wake()
	}()
	return true
}

// pollDial consumes the result of the dial in progress, or times it out.
func (c *Client) pollDial(now time.Time, sum *TickSummary) {
	d := c.dial
	if d == nil {
		return
	}
	select {
	case r := <-d.ch:
		c.dial = nil
		d.cancel()
		if r.err != nil {
			c.st.connectFailures.Add(1)
			c.m.metrics.ConnectFailure(c.key, "dial")
			c.fail(now, sum, fmt.Errorf("ami: connect %s: %w", c.cfg.Address, r.err), "connect")
			return
		}
		c.mu.Lock()
		c.sess = session.New(session.Config{
			Conn:            r.conn,
			Wake:            c.m.wakeUp,
			WriteBufferSize: c.opts.WriteBufferSize,
			ReadChunk:       readChunk,
			InboxChunks:     inboxChunks,
		})
		c.pending = make(map[string]*Pending)
		c.mu.Unlock()
		c.parser.Reset()
		c.carry = c.carry[:0]
		c.lastRead = now
		c.lastWritten = 0
		c.phaseDeadline = now.Add(c.opts.AuthTimeout)
		c.setState(StateConnected, now, sum)
	default:
		if !now.Before(c.phaseDeadline) {
			c.dial = nil
			d.abandon()
			c.st.connectFailures.Add(1)
			c.m.metrics.ConnectFailure(c.key, "timeout")
			c.fail(now, sum, fmt.Errorf("%w after %v (%s)", errConnectTimeout, c.opts.ConnectTimeout, c.cfg.Address), "connect")
		}
	}
}

// onBanner starts the login once the greeting arrived.
func (c *Client) onBanner(banner string, now time.Time, sum *TickSummary) {
	c.setHealth(func(h *Health) { h.Banner = banner })
	if c.State() != StateConnected {
		return
	}
	c.setState(StateAuthenticating, now, sum)
	so := sendOptions{timeout: c.opts.AuthTimeout}
	if strings.EqualFold(c.cfg.Auth, "md5") {
		_, err := c.send(Challenge{AuthType: "MD5"}, so, func(res *Result, err error) {
			if err != nil {
				c.authFailed(err)
				return
			}
			sum := md5.Sum([]byte(res.Get("Challenge") + c.cfg.Secret))
			c.sendLogin(Login{Username: c.cfg.Username, AuthType: "MD5", Key: hex.EncodeToString(sum[:]), Events: c.eventMask()})
		})
		if err != nil {
			c.authFailed(err)
		}
		return
	}
	c.sendLogin(Login{Username: c.cfg.Username, Secret: c.cfg.Secret, Events: c.eventMask()})
}

func (c *Client) eventMask() string {
	if c.cfg.Events == "" {
		return "on"
	}
	return c.cfg.Events
}

func (c *Client) sendLogin(l Login) {
	_, err := c.send(l, sendOptions{timeout: c.opts.AuthTimeout}, func(_ *Result, err error) {
		if err != nil {
			c.authFailed(err)
			return
		}
		c.becomeReady()
	})
	if err != nil {
		c.authFailed(err)
	}
}

// authFailed runs on the tick (from a pending callback).
func (c *Client) authFailed(err error) {
	var ae *ActionError
	if errors.As(err, &ae) {
		err = &AuthError{Server: c.key, Message: ae.Message}
	}
	if c.closing || errors.Is(err, ErrConnectionLost) {
		// Lost with its connection: whoever dropped the session (fail,
		// beginClose) already counts that one failure of the attempt.
		return
	}
	c.st.connectFailures.Add(1)
	c.m.metrics.ConnectFailure(c.key, "auth")
	c.fail(c.m.tickNow, c.m.tickSum, err, "auth")
}

func (c *Client) becomeReady() {
	now, sum := c.m.tickNow, c.m.tickSum
	if c.closing || c.State() != StateAuthenticating {
		return
	}
	if c.everReady {
		c.st.reconnects.Add(1)
		c.m.metrics.Reconnect(c.key)
	}
	c.everReady = true
	c.attempt = 0
	c.missed = 0
	c.pinging = false
	c.brk.Success(now)
	c.nextPing = now.Add(c.opts.HeartbeatInterval)
	c.lastRead = now
	c.setHealth(func(h *Health) {
		h.Attempts, h.LastError, h.NextRetry, h.Degraded = 0, nil, time.Time{}, false
	})
	c.setState(StateReady, now, sum)
	c.log.Info("ami: ready", "address", c.cfg.Address, "banner", c.Banner())
}

// fail records a connection failure: the connection (if any) is closed
// non-gracefully, pending actions fail, and a retry is scheduled with
// backoff. Every failure counts for the circuit breaker.
func (c *Client) fail(now time.Time, sum *TickSummary, cause error, phase string) {
	if st := c.State(); phase != "connect" && phase != "auth" && (st == StateConnected || st == StateAuthenticating) && !c.closing {
		// The connection ended (read error, desync) before the login
		// completed: a failed login attempt, counted once, here.
		c.st.connectFailures.Add(1)
		c.m.metrics.ConnectFailure(c.key, "auth")
	}
	c.dropSession(now, sum, cause)
	if c.closing {
		return
	}
	c.brk.Failure(now, phase+": "+cause.Error())
	// attempt counts the dials since the last Ready: the first retry (after
	// a loss from Ready, or after the first failed dial) waits Base, so a
	// flapping PBX never sees a tight loop.
	delay := c.policy.Delay(max(c.attempt-1, 0), c.m.rng)
	c.nextRetry = now.Add(delay)
	if c.brk.State() == breaker.StateOpen && c.brk.OpenUntil().After(c.nextRetry) {
		c.nextRetry = c.brk.OpenUntil()
	}
	next := c.nextRetry
	c.setHealth(func(h *Health) { h.LastError, h.NextRetry, h.Degraded = cause, next, false })
	c.setState(StateReconnecting, now, sum)
	c.log.Warn("ami: connection failed", "address", c.cfg.Address, "phase", phase, "attempt", c.attempt,
		"backoff", delay, "next_retry_at", next, "error", cause.Error(), "breaker", c.brk.State().String())
}

// dropSession closes the current connection non-gracefully: the write
// buffer is purged before anything else, and every pending action fails
// with ErrConnectionLost, telling purged (safe to retry) from written ones.
func (c *Client) dropSession(now time.Time, sum *TickSummary, cause error) {
	if d := c.dial; d != nil {
		c.dial = nil
		d.abandon()
	}
	c.mu.Lock()
	sess := c.sess
	c.sess = nil
	pend := c.pending
	c.pending = make(map[string]*Pending)
	var purged int
	var handed uint64
	if sess != nil {
		purged = sess.Close(false, time.Time{})
		handed = sess.HandedOff()
	}
	c.mu.Unlock()
	c.parser.Reset()
	c.carry = c.carry[:0]
	c.moreInput = false
	c.pinging = false
	if sess != nil {
		c.countWritten(sess.Stats().BytesWritten, sum)
		c.st.bytesPurged.Add(uint64(purged))
		c.m.metrics.BytesPurged(c.key, purged)
		c.log.Warn("ami: connection closed", "purged_bytes", purged, "failed_actions", len(pend), "error", errString(cause))
	}
	for _, p := range pend {
		written := p.start < handed
		c.finish(p, nil, &ConnectionLostError{Server: c.key, ActionID: p.actionID, Written: written, Cause: cause}, now, sum, "connection_lost")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// timers runs the deadlines of the connection: connect/auth timeouts,
// heartbeat, read timeout, action timeouts.
func (c *Client) timers(now time.Time, sum *TickSummary) {
	switch c.State() {
	case StateConnected, StateAuthenticating:
		if !now.Before(c.phaseDeadline) {
			c.st.connectFailures.Add(1)
			c.m.metrics.ConnectFailure(c.key, "auth_timeout")
			c.fail(now, sum, fmt.Errorf("%w after %v", errAuthTimeout, c.opts.AuthTimeout), "auth")
			return
		}
	case StateReady:
		if c.opts.ReadTimeout > 0 && now.Sub(c.lastRead) >= c.opts.ReadTimeout {
			c.fail(now, sum, fmt.Errorf("%w for %v", errReadTimeout, now.Sub(c.lastRead)), "read")
			return
		}
		if c.opts.HeartbeatInterval > 0 && !c.pinging && !now.Before(c.nextPing) {
			c.heartbeat(now)
		}
	}
	c.sweep(now, sum)
}

func (c *Client) heartbeat(now time.Time) {
	c.pinging = true
	c.nextPing = now.Add(c.opts.HeartbeatInterval)
	_, err := c.send(Ping{}, sendOptions{timeout: c.opts.HeartbeatTimeout}, func(_ *Result, err error) {
		c.pinging = false
		if err == nil {
			if c.missed > 0 {
				c.log.Info("ami: heartbeat recovered", "missed", c.missed)
			}
			c.missed = 0
			c.setHealth(func(h *Health) { h.Degraded = false })
			return
		}
		if !errors.Is(err, ErrActionTimeout) {
			return // connection lost or closing: handled there
		}
		c.missed++
		c.setHealth(func(h *Health) { h.Degraded = true })
		c.log.Warn("ami: heartbeat missed", "missed", c.missed, "max_missed", c.opts.HeartbeatMaxMissed)
		if c.missed >= c.opts.HeartbeatMaxMissed {
			c.missed = 0
			c.fail(c.m.tickNow, c.m.tickSum, fmt.Errorf("%w %d times", errHeartbeat, c.opts.HeartbeatMaxMissed), "heartbeat")
		}
	})
	if err != nil {
		c.pinging = false
	}
}

// sweep fails the actions whose deadline passed.
func (c *Client) sweep(now time.Time, sum *TickSummary) {
	var expired []*Pending
	var next time.Time
	c.mu.Lock()
	if c.nextSweep.IsZero() || now.Before(c.nextSweep) {
		c.mu.Unlock()
		return
	}
	for id, p := range c.pending {
		if !now.Before(p.deadline) {
			expired = append(expired, p)
			delete(c.pending, id)
		} else if next.IsZero() || p.deadline.Before(next) {
			next = p.deadline
		}
	}
	c.nextSweep = next
	c.mu.Unlock()
	for _, p := range expired {
		c.finish(p, nil, &TimeoutError{Server: c.key, Action: p.action, ActionID: p.actionID, After: p.deadline.Sub(p.sentAt)}, now, sum, "timeout")
	}
}

// finish completes a pending action already removed from the table.
func (c *Client) finish(p *Pending, res *Result, err error, now time.Time, sum *TickSummary, outcome string) {
	if res != nil {
		res.Latency = now.Sub(p.sentAt)
	}
	if !p.complete(res, err, c.onCallbackPanic) {
		return
	}
	if sum != nil {
		sum.ActionsCompleted++
	}
	if err != nil {
		c.st.actionsFailed.Add(1)
		if p.internal == nil {
			c.log.Debug("ami: action failed", "action_id", p.actionID, "action", p.action, "outcome", outcome, "error", err.Error())
		}
	} else {
		c.st.actionsCompleted.Add(1)
	}
	c.m.metrics.ActionDone(c.key, p.action, now.Sub(p.sentAt), outcome)
}

func (c *Client) onCallbackPanic(r any) {
	c.st.listenerPanics.Add(1)
	c.m.logPanic(c, "ami: completion callback panicked", r)
}

// closeFor ends the client at shutdown: a graceful Logoff when Ready,
// otherwise a non-graceful close.
func (c *Client) beginClose(now time.Time, deadline time.Time) {
	c.closing = true
	if d := c.dial; d != nil {
		c.dial = nil
		d.abandon()
	}
	st := c.State()
	// Closing before the Logoff is queued: a Send that takes c.mu after it
	// is refused, so nothing can be queued behind the Logoff.
	c.setState(StateClosing, now, nil)
	if st == StateReady {
		if _, err := c.send(Logoff{}, sendOptions{timeout: time.Until(deadline)}, func(*Result, error) {}); err == nil {
			c.mu.Lock()
			sess := c.sess
			c.mu.Unlock()
			sess.Close(true, deadline)
			return
		}
	}
	c.closedSess = c.closeSession(now)
}

// closeSession detaches the session at shutdown, purges its write buffer
// and fails every pending action with *ClosedError. It returns the session
// (nil if none), whose goroutines endClose waits for.
func (c *Client) closeSession(now time.Time) *session.Session {
	c.mu.Lock()
	sess := c.sess
	c.sess = nil
	pend := c.pending
	c.pending = make(map[string]*Pending)
	var handed uint64
	if sess != nil {
		purged := sess.Close(false, time.Time{})
		c.st.bytesPurged.Add(uint64(purged))
		c.m.metrics.BytesPurged(c.key, purged)
		handed = sess.HandedOff()
	}
	c.mu.Unlock()
	for _, p := range pend {
		c.finish(p, nil, &ClosedError{Server: c.key, ActionID: p.actionID, Written: p.start < handed}, now, nil, "closed")
	}
	return sess
}

// endClose fails what is left and marks the client closed.
func (c *Client) endClose(now time.Time) {
	sess := c.closeSession(now)
	if sess == nil {
		sess, c.closedSess = c.closedSess, nil
	}
	c.flushDropWarning(now)
	c.setState(StateClosed, now, nil)
	if sess != nil {
		sess.Wait(time.Second)
		c.countWritten(sess.Stats().BytesWritten, nil)
	}
}
