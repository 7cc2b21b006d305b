package ami

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/backoff"
	"github.com/apntalk/ami/internal/breaker"
	"github.com/apntalk/ami/internal/ring"
	"github.com/apntalk/ami/internal/session"
)

// Client is the connection to one server: its parser, write buffer, event
// queue, pending actions and reconnect state belong to it alone. Clients
// are made by NewManager and driven by the manager's ticks.
//
// Send, Do, State, Health, Stats, Banner, OnEvent and OnAnyEvent are safe
// from any goroutine; nothing else of a Client is exported.
type Client struct {
	m        *Manager
	key      string
	idPrefix string
	cfg      ServerConfig
	opts     Options
	tlsConf  *tls.Config
	log      *slog.Logger

	state atomic.Int32
	subs  registry

	// mu guards what Send shares with the tick: the session pointer, the
	// pending table, the sequence and the encode buffer.
	mu      sync.Mutex
	sess    *session.Session
	pending map[string]*Pending
	seq     uint64
	encBuf  []byte
	hdrBuf  []Header

	// Tick-owned.
	parser        *amiproto.Parser
	queue         *ring.Ring[*Event]
	carry         []byte
	moreInput     bool
	policy        backoff.Policy
	attempt       int
	nextRetry     time.Time
	brk           *breaker.Breaker
	dial          *dialAttempt
	phaseDeadline time.Time
	lastRead      time.Time
	nextPing      time.Time
	pinging       bool
	missed        int
	nextSweep     time.Time // guarded by mu: Send moves it earlier
	desyncs       []time.Time
	everReady     bool
	lastWritten   uint64
	closing       bool
	closedSess    *session.Session // closed by beginClose, waited for by endClose

	unmatchedLog  throttle
	dropSinceWarn uint64
	warnWindow    time.Time
	warnsInWindow int

	hmu     sync.Mutex
	health  Health
	changed chan struct{} // closed and replaced on every state change

	st clientStats
}

type clientStats struct {
	eventsReceived, eventsDispatched, eventsDropped atomic.Uint64
	actionsSent, actionsCompleted, actionsFailed    atomic.Uint64
	unmatched, bytesRead, bytesWritten, bytesPurged atomic.Uint64
	reconnects, connectFailures, desyncs, protoErrs atomic.Uint64
	listenerPanics, preReadyEvents, dropWarnedTotal atomic.Uint64
}

// Key is the server key.
func (c *Client) Key() string { return c.key }

// State is the current connection state.
func (c *Client) State() State { return State(c.state.Load()) }

// Banner is the greeting of the current or last connection, e.g.
// "Asterisk Call Manager/13.0.0", or "".
func (c *Client) Banner() string {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	return c.health.Banner
}

// Health returns a snapshot of the server's health.
func (c *Client) Health() Health {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	h := c.health
	h.State = c.State()
	return h
}

// OnEvent registers h for the events of this server named name
// (case-insensitive). See EventHandler for the concurrency contract.
func (c *Client) OnEvent(name string, h EventHandler) *Subscription {
	return c.subs.add(Filter{Names: []string{name}}, h)
}

// OnAnyEvent registers h for every event of this server.
func (c *Client) OnAnyEvent(h EventHandler) *Subscription { return c.subs.add(Filter{}, h) }

// Subscribe registers h for the events of this server that match f.
func (c *Client) Subscribe(f Filter, h EventHandler) *Subscription { return c.subs.add(f, h) }

// WaitReady blocks until the client is Ready (nil), closing or closed
// (ErrClosed), or ctx is done (the context's error, wrapped, with the last
// connection error). Someone must drive the manager (Run) on another
// goroutine; never call it from an event handler.
func (c *Client) WaitReady(ctx context.Context) error {
	for {
		c.hmu.Lock()
		changed := c.changed
		c.hmu.Unlock()
		switch st := c.State(); st {
		case StateReady:
			return nil
		case StateClosing, StateClosed:
			return fmt.Errorf("ami: server %q is %s: %w", c.key, st, ErrClosed)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			h := c.Health()
			return fmt.Errorf("ami: waiting for server %q to be ready (state %s, last error: %v): %w", c.key, h.State, h.LastError, ctx.Err())
		}
	}
}

// Do sends a and waits for its result or ctx. Someone must drive the
// manager (Run) on another goroutine.
func (c *Client) Do(ctx context.Context, a Action, opts ...SendOption) (*Result, error) {
	p, err := c.Send(a, opts...)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// Send queues a for writing and returns at once. It is goroutine-safe and
// never blocks: it returns *NotReadyError unless the client is Ready,
// ErrBackpressure when the write buffer or the pending table is full, and
// an *amiproto.EncodeError for a header that cannot be sent (CR/LF in a
// value, a line longer than Asterisk reads, ...). The returned Pending
// completes on a later tick.
func (c *Client) Send(a Action, opts ...SendOption) (*Pending, error) {
	var so sendOptions
	for _, o := range opts {
		o(&so)
	}
	return c.send(a, so, nil)
}

// send queues an action. internal != nil marks the client's own actions
// (login, heartbeat, logoff), which are allowed before Ready.
func (c *Client) send(a Action, so sendOptions, internal func(*Result, error)) (*Pending, error) {
	if a == nil {
		return nil, fmt.Errorf("ami: nil action")
	}
	name := a.ActionName()
	comp := completionOf(a)
	if so.hasComp {
		comp = so.completion
	}
	timeout := so.timeout
	if timeout <= 0 {
		timeout = c.opts.ActionTimeout
		if th, ok := a.(TimeoutHinter); ok {
			timeout = th.TimeoutHint(timeout)
		}
	}
	now := c.m.now()

	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.State()
	if c.sess == nil || (internal == nil && st != StateReady) {
		return nil, &NotReadyError{Server: c.key, State: st}
	}
	if len(c.pending) >= c.opts.MaxPendingActions && internal == nil {
		return nil, fmt.Errorf("ami: server %q: %d actions pending: %w", c.key, len(c.pending), ErrBackpressure)
	}
	id := so.actionID
	if id != "" {
		if err := validActionID(id); err != nil {
			return nil, err
		}
		if _, dup := c.pending[id]; dup {
			return nil, fmt.Errorf("ami: server %q: ActionID %q: %w", c.key, id, ErrDuplicateActionID)
		}
	} else {
		// Skip a generated ActionID that a caller chose for an action
		// still pending: replacing it would orphan that action.
		for dup := true; dup; {
			c.seq++
			id = c.makeActionID(c.seq)
			_, dup = c.pending[id]
		}
	}
	c.hdrBuf = a.AppendHeaders(c.hdrBuf[:0])
	frame, err := amiproto.AppendAction(c.encBuf[:0], name, id, c.hdrBuf)
	clear(c.hdrBuf)
	if err != nil {
		return nil, err
	}
	c.encBuf = frame[:0]
	start, err := c.sess.Enqueue(frame)
	if err != nil {
		if err == session.ErrBufferFull {
			return nil, fmt.Errorf("ami: server %q: write buffer full: %w", c.key, ErrBackpressure)
		}
		return nil, &NotReadyError{Server: c.key, State: st}
	}
	p := &Pending{
		server:     c.key,
		actionID:   id,
		action:     name,
		done:       make(chan struct{}),
		completion: comp,
		sentAt:     now,
		deadline:   now.Add(timeout),
		start:      start,
		internal:   internal,
	}
	c.pending[id] = p
	if c.nextSweep.IsZero() || p.deadline.Before(c.nextSweep) {
		c.nextSweep = p.deadline
	}
	c.st.actionsSent.Add(1)
	c.m.metrics.ActionSent(c.key, name)
	return p, nil
}

func (c *Client) makeActionID(seq uint64) string {
	b := make([]byte, 0, len(c.idPrefix)+len(c.m.instance)+22)
	b = append(b, c.idPrefix...)
	b = append(b, ':')
	b = append(b, c.m.instance...)
	b = append(b, ':')
	b = appendUint(b, seq)
	return string(b)
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// MaxActionIDLength is the longest ActionID accepted or generated.
const MaxActionIDLength = 64

func validActionID(id string) error {
	if id == "" || len(id) > MaxActionIDLength {
		return fmt.Errorf("ami: ActionID %q: length must be 1..%d: %w", id, MaxActionIDLength, ErrInvalidActionID)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return fmt.Errorf("ami: ActionID %q: byte %d is not printable ASCII: %w", id, i, ErrInvalidActionID)
		}
	}
	return nil
}

// idPrefixFor makes the server part of generated ActionIDs: the key with
// every byte outside [A-Za-z0-9._-] replaced by '_', shortened with a hash
// when long, so that an ActionID never exceeds MaxActionIDLength.
func idPrefixFor(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		ch := key[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '.', ch == '_', ch == '-':
			b.WriteByte(ch)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 24 || s != key {
		if len(s) > 15 {
			s = s[:15]
		}
		s = fmt.Sprintf("%s-%08x", s, fnv32(key))
	}
	return s
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Stats returns the server's counters.
func (c *Client) Stats() ServerStats {
	c.mu.Lock()
	pending := len(c.pending)
	buffered := 0
	if c.sess != nil {
		buffered = c.sess.Buffered()
	}
	c.mu.Unlock()
	// Load the outflows before the inflow: received only grows, so the
	// snapshot keeps received = dispatched + dropped + queued exactly.
	dispatched := c.st.eventsDispatched.Load()
	dropped := c.st.eventsDropped.Load()
	received := c.st.eventsReceived.Load()
	return ServerStats{
		Server:             c.key,
		State:              c.State(),
		EventsReceived:     received,
		EventsDispatched:   dispatched,
		EventsDropped:      dropped,
		EventsQueued:       received - dispatched - dropped,
		ActionsSent:        c.st.actionsSent.Load(),
		ActionsCompleted:   c.st.actionsCompleted.Load(),
		ActionsFailed:      c.st.actionsFailed.Load(),
		UnmatchedResponses: c.st.unmatched.Load(),
		Pending:            pending,
		WriteBuffered:      buffered,
		BytesRead:          c.st.bytesRead.Load(),
		BytesWritten:       c.st.bytesWritten.Load(),
		BytesPurged:        c.st.bytesPurged.Load(),
		Reconnects:         c.st.reconnects.Load(),
		ConnectFailures:    c.st.connectFailures.Load(),
		Desyncs:            c.st.desyncs.Load(),
		ProtocolErrors:     c.st.protoErrs.Load(),
		ListenerPanics:     c.st.listenerPanics.Load(),
		EventsBeforeReady:  c.st.preReadyEvents.Load(),
	}
}

// setState changes the state, counts the transition and updates health.
func (c *Client) setState(s State, now time.Time, sum *TickSummary) {
	old := State(c.state.Swap(int32(s)))
	if old == s {
		return
	}
	if sum != nil {
		sum.StateChanges++
	}
	c.hmu.Lock()
	c.health.State = s
	c.health.Since = now
	close(c.changed) // wakes WaitReady
	c.changed = make(chan struct{})
	c.hmu.Unlock()
	c.m.metrics.ConnectionState(c.key, s)
	c.log.Debug("ami: state", "from", old.String(), "to", s.String())
}

func (c *Client) setHealth(f func(h *Health)) {
	c.hmu.Lock()
	f(&c.health)
	c.hmu.Unlock()
}
