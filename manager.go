package ami

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/backoff"
	"github.com/apntalk/ami/internal/breaker"
	"github.com/apntalk/ami/internal/logsink"
	"github.com/apntalk/ami/internal/redact"
	"github.com/apntalk/ami/internal/ring"
)

// Manager drives the clients of many servers from one tick loop. See the
// package documentation for the runtime contract.
type Manager struct {
	opts     Options
	clients  []*Client // sorted by key
	byKey    map[string]*Client
	byPrefix map[string]*Client
	def      *Client
	instance string

	subs  registry
	route atomic.Pointer[routeHolder]

	now     func() time.Time
	rng     *mrand.Rand
	metrics Metrics
	log     *slog.Logger
	sink    *logsink.Handler
	redact  *redact.Redactor

	wake  chan struct{}
	wg    sync.WaitGroup // dial goroutines
	timer *time.Timer

	tickMu  sync.Mutex
	started bool
	rot     int
	cursor  int
	tickNow time.Time
	tickSum *TickSummary
	closed  atomic.Bool
	clamps  atomic.Uint64

	logDropsReported uint64 // tick-owned

	panicLog throttle
}

type routeHolder struct{ s RouteStrategy }

// ManagerOption configures what is not serialisable: logger, metrics, clock.
type ManagerOption func(*managerOptions)

type managerOptions struct {
	logger  *slog.Logger
	metrics Metrics
	now     func() time.Time
	seed    *uint64
}

// WithLogger sets the logger. Defaults to slog.Default(). Whatever the
// handler, the manager wraps it in a bounded, non-blocking handler (records
// are dropped and counted when it is slow) and in secret redaction.
func WithLogger(l *slog.Logger) ManagerOption { return func(o *managerOptions) { o.logger = l } }

// WithMetrics sets the metrics sink (see package amiprom). Defaults to none.
func WithMetrics(m Metrics) ManagerOption { return func(o *managerOptions) { o.metrics = m } }

// WithNow replaces the clock used for deadlines, backoff and event times
// (for tests with a fake clock). The waits of TickAll stay in real time.
func WithNow(now func() time.Time) ManagerOption { return func(o *managerOptions) { o.now = now } }

// WithRand seeds the random source of the reconnect jitter, for
// reproducible tests.
func WithRand(seed uint64) ManagerOption { return func(o *managerOptions) { o.seed = &seed } }

// NewManager validates cfg (every bad value is a *ConfigError naming the
// field and its range) and builds a manager with one Client per server. It
// does not connect: the first tick (TickAll, Poll or Run) starts connecting
// every server, within the cluster connect budget.
func NewManager(cfg Config, opts ...ManagerOption) (*Manager, error) {
	cfg = cfg.Copy()
	var mo managerOptions
	for _, o := range opts {
		o(&mo)
	}
	for k, s := range cfg.Servers {
		if s.Secret == "" && s.SecretFile != "" {
			b, err := os.ReadFile(s.SecretFile)
			if err != nil {
				return nil, &ConfigError{Field: "servers." + k + ".secret_file", Msg: fmt.Sprintf("cannot read: %v", err)}
			}
			s.Secret = strings.TrimRight(string(b), "\r\n")
			cfg.Servers[k] = s
		}
	}
	servers, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	global := cfg.Options.mergeOver(DefaultOptions())
	m := &Manager{
		opts:     global,
		byKey:    make(map[string]*Client, len(servers)),
		byPrefix: make(map[string]*Client, len(servers)),
		instance: newInstanceID(),
		now:      time.Now,
		metrics:  NopMetrics{},
		wake:     make(chan struct{}, 1),
		timer:    time.NewTimer(time.Hour),
	}
	m.timer.Stop()
	if mo.now != nil {
		m.now = mo.now
	}
	if mo.metrics != nil {
		m.metrics = mo.metrics
	}
	if mo.seed != nil {
		m.rng = mrand.New(mrand.NewPCG(*mo.seed, *mo.seed^0x9e3779b97f4a7c15))
	} else {
		m.rng = mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
	}
	var patterns []*regexp.Regexp
	for _, p := range global.RedactPatterns {
		patterns = append(patterns, regexp.MustCompile(p)) // validated by resolve
	}
	m.redact = redact.New(global.RedactKeys, patterns)
	for _, s := range servers {
		m.redact.AddSecretValue(s.cfg.Secret)
	}
	base := mo.logger
	if base == nil {
		base = slog.Default()
	}
	m.sink = logsink.New(m.redact.Handler(base.Handler()), logsink.Options{Capacity: global.LogBufferSize})
	m.log = slog.New(m.sink)
	m.panicLog.every = time.Second

	for _, s := range servers {
		c, err := m.newClient(s)
		if err != nil {
			m.sink.Close(context.Background())
			return nil, err
		}
		m.clients = append(m.clients, c)
		m.byKey[s.key] = c
		if other, dup := m.byPrefix[c.idPrefix]; dup {
			m.sink.Close(context.Background())
			return nil, &ConfigError{Field: "servers", Msg: fmt.Sprintf("keys %q and %q map to the same ActionID prefix", other.key, c.key)}
		}
		m.byPrefix[c.idPrefix] = c
	}
	switch {
	case cfg.Default != "":
		m.def = m.byKey[cfg.Default]
	default:
		m.def = m.clients[0]
	}
	m.route.Store(&routeHolder{s: RoundRobin()})
	return m, nil
}

func newInstanceID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (m *Manager) newClient(s resolvedServer) (*Client, error) {
	o := s.opts
	parser, err := amiproto.NewParser(amiproto.Limits{
		MaxFrameSize:  o.MaxFrameSize,
		MaxBufferSize: o.MaxBufferSize,
		MaxOutputSize: o.MaxCommandOutput,
	})
	if err != nil {
		return nil, &ConfigError{Field: "servers." + s.key + ".options", Msg: err.Error()}
	}
	tlsConf, err := buildTLS(s.cfg)
	if err != nil {
		return nil, &ConfigError{Field: "servers." + s.key + ".tls", Msg: err.Error()}
	}
	jitter := o.ReconnectJitter
	if jitter < 0 {
		jitter = 0
	}
	if o.HeartbeatInterval < 0 {
		o.HeartbeatInterval = 0
	}
	if o.ReadTimeout < 0 {
		o.ReadTimeout = 0
	}
	c := &Client{
		m:            m,
		key:          s.key,
		idPrefix:     idPrefixFor(s.key),
		cfg:          s.cfg,
		opts:         o,
		tlsConf:      tlsConf,
		log:          m.log.With("server_key", s.key),
		pending:      make(map[string]*Pending),
		parser:       parser,
		queue:        ring.New[*Event](o.EventQueueCapacity),
		unmatchedLog: throttle{every: time.Second},
		policy:       backoff.Policy{Base: o.ReconnectBase, Max: o.ReconnectMax, Jitter: jitter},
		brk: breaker.New(breaker.Config{
			Threshold:      o.BreakerThreshold,
			Cooldown:       o.BreakerCooldown,
			HalfOpenProbes: o.BreakerHalfOpenProbes,
		}),
	}
	c.health = Health{Server: s.key, Address: s.cfg.Address, State: StateDisconnected, Breaker: "closed"}
	c.changed = make(chan struct{})
	c.brk.OnTransition(func(t breaker.Transition) {
		c.setHealth(func(h *Health) { h.Breaker = t.To.String() })
		m.metrics.CircuitState(c.key, t.To.String())
		c.log.Warn("ami: circuit breaker", "from", t.From.String(), "to", t.To.String(), "reason", t.Reason,
			"consecutive_failures", t.Failures, "trips", c.brk.Trips())
	})
	return c, nil
}

// wakeUp makes a waiting TickAll return; it never blocks.
func (m *Manager) wakeUp() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Server returns the client of the server with this key.
func (m *Manager) Server(key string) (*Client, error) {
	if c, ok := m.byKey[key]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("ami: server %q: %w", key, ErrUnknownServer)
}

// ServerOf returns the key of the server whose generated ActionIDs start
// like id.
func (m *Manager) ServerOf(actionID string) (string, bool) {
	i := strings.IndexByte(actionID, ':')
	if i < 0 {
		return "", false
	}
	c, ok := m.byPrefix[actionID[:i]]
	if !ok {
		return "", false
	}
	return c.key, true
}

// Default returns the client of Config.Default (the first server by key
// when unset).
func (m *Manager) Default() *Client { return m.def }

// Servers returns the server keys, sorted.
func (m *Manager) Servers() []string {
	out := make([]string, len(m.clients))
	for i, c := range m.clients {
		out[i] = c.key
	}
	return out
}

// Clients returns the clients, sorted by key.
func (m *Manager) Clients() []*Client { return append([]*Client(nil), m.clients...) }

// OnEvent registers h for events named name (case-insensitive) from every
// server. See EventHandler for the concurrency contract.
func (m *Manager) OnEvent(name string, h EventHandler) *Subscription {
	return m.subs.add(Filter{Names: []string{name}}, h)
}

// OnAnyEvent registers h for every event of every server.
func (m *Manager) OnAnyEvent(h EventHandler) *Subscription { return m.subs.add(Filter{}, h) }

// Subscribe registers h for the events that match f.
func (m *Manager) Subscribe(f Filter, h EventHandler) *Subscription { return m.subs.add(f, h) }

// Route sets the strategy that picks a server for Manager.Send and Do.
// Defaults to RoundRobin().
func (m *Manager) Route(s RouteStrategy) { m.route.Store(&routeHolder{s: s}) }

// Send routes a to a Ready server (see Route) and sends it there.
func (m *Manager) Send(a Action, opts ...SendOption) (*Pending, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	c, err := m.route.Load().s.pick(m)
	if err != nil {
		return nil, err
	}
	return c.Send(a, opts...)
}

// WaitReady blocks until every server is Ready, or returns the first
// server's error (see Client.WaitReady). Someone must drive the manager
// (Run) on another goroutine.
func (m *Manager) WaitReady(ctx context.Context) error {
	for _, c := range m.clients {
		if err := c.WaitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Do routes and sends a, then waits for its result or ctx. Someone must
// drive the manager (Run) on another goroutine.
func (m *Manager) Do(ctx context.Context, a Action, opts ...SendOption) (*Result, error) {
	p, err := m.Send(a, opts...)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// logPanic logs a recovered panic, at most once per second per manager.
func (m *Manager) logPanic(c *Client, msg string, r any) {
	if m.panicLog.allow(time.Now()) {
		c.log.Error(msg, "panic", fmt.Sprint(r), "suppressed", m.panicLog.take())
	}
}

// throttle allows one event per interval and counts the others.
type throttle struct {
	mu         sync.Mutex
	every      time.Duration
	last       time.Time
	suppressed uint64
}

func (t *throttle) allow(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() && now.Sub(t.last) < t.every {
		t.suppressed++
		return false
	}
	t.last = now
	return true
}

func (t *throttle) take() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.suppressed
	t.suppressed = 0
	return n
}
