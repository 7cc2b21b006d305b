package amiprom

import (
	"errors"
	"sync"
	"time"

	"github.com/apntalk/ami"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics implements ami.Metrics on Prometheus collectors. Create it with
// New and pass it to ami.NewManager with ami.WithMetrics. It is safe for
// concurrent use.
type Metrics struct {
	cfg     config
	events  nameSet
	actions nameSet

	eventsReceived  *prometheus.CounterVec
	eventsDropped   *prometheus.CounterVec
	actionsSent     *prometheus.CounterVec
	actionsDone     *prometheus.CounterVec
	actionDuration  *prometheus.HistogramVec
	pending         *prometheus.GaugeVec
	writeBuffer     *prometheus.GaugeVec
	purged          *prometheus.CounterVec
	connState       *prometheus.GaugeVec
	reconnects      *prometheus.CounterVec
	connectFailures *prometheus.CounterVec
	circuit         *prometheus.GaugeVec
	protocolErrors  *prometheus.CounterVec
	logDropped      prometheus.Counter
	outputDropped   prometheus.Counter
	tickDuration    prometheus.Histogram
	tickWait        prometheus.Histogram

	servers sync.Map // server key -> *serverMetrics
}

var _ ami.Metrics = (*Metrics)(nil)

// circuitStates are the breaker states reported by ami.Metrics.CircuitState.
var circuitStates = [...]string{"closed", "open", "half_open"}

// states are the connection states, in ami.State order.
var states = func() []ami.State {
	var s []ami.State
	for st := ami.StateDisconnected; st <= ami.StateClosed; st++ {
		s = append(s, st)
	}
	return s
}()

// serverMetrics holds the cached children of one server.
type serverMetrics struct {
	eventsDropped prometheus.Counter
	pending       prometheus.Gauge
	writeBuffer   prometheus.Gauge
	purged        prometheus.Counter
	reconnects    prometheus.Counter
	states        []prometheus.Gauge
	circuit       [len(circuitStates)]prometheus.Gauge

	events   *children[prometheus.Counter]
	actions  *children[*actionMetrics]
	failures *children[prometheus.Counter]
	protocol *children[prometheus.Counter]
}

// actionMetrics holds the children of one server and action.
type actionMetrics struct {
	sent     prometheus.Counter
	duration prometheus.Observer
	done     [len(outcomes) + 1]prometheus.Counter // outcomes, then Other
}

// New creates the collectors, registers them on reg and returns the adapter.
// A nil reg means prometheus.DefaultRegisterer. When a collector with the
// same description is already registered (two managers sharing a registry),
// the existing one is reused, so both managers feed the same series. Any
// other registration error panics, like prometheus.MustRegister.
func New(reg prometheus.Registerer, opts ...Option) *Metrics {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	m := &Metrics{
		cfg:     cfg,
		events:  newNameSet(cfg.eventNames),
		actions: newNameSet(cfg.actionNames),
	}
	ns, cl := cfg.namespace, cfg.constLabels
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help, ConstLabels: cl}, labels))
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help, ConstLabels: cl}, labels))
	}
	m.eventsReceived = counter("events_received_total", "Events received from the PBX, by event name (bounded set, else \"other\").", "server", "event")
	m.eventsDropped = counter("events_dropped_total", "Events dropped because the server's event queue was full (oldest first).", "server")
	m.actionsSent = counter("actions_sent_total", "Actions accepted for sending, by action name.", "server", "action")
	m.actionsDone = counter("actions_completed_total", "Actions completed, by action name and outcome (success, error, timeout, connection_lost, closed, protocol).", "server", "action", "outcome")
	m.actionDuration = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "action_duration_seconds", Help: "Time from Send to completion of an action, any outcome.",
		ConstLabels: cl, Buckets: cfg.actionBuckets,
	}, []string{"server", "action"}))
	m.pending = gauge("pending_actions", "Actions waiting for their response.", "server")
	m.writeBuffer = gauge("write_buffer_bytes", "Bytes queued for the current connection and not yet written.", "server")
	m.purged = counter("purged_bytes_total", "Bytes purged from a write buffer when its connection was lost (never sent).", "server")
	m.connState = gauge("connection_state", "1 for the server's current connection state, 0 for the others.", "server", "state")
	m.reconnects = counter("reconnects_total", "Reconnections after a lost connection.", "server")
	m.connectFailures = counter("connect_failures_total", "Failed connect or login attempts, by reason.", "server", "reason")
	m.circuit = gauge("circuit_state", "1 for the circuit breaker's current state (closed, open, half_open), 0 for the others.", "server", "state")
	m.protocolErrors = counter("protocol_errors_total", "Protocol errors by kind (desync, frame_too_large, output_too_large, unmatched, ...).", "server", "kind")
	m.logDropped = register(reg, prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "log_records_dropped_total", Help: "Log records dropped because the log buffer was full.", ConstLabels: cl}))
	m.outputDropped = register(reg, prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "output_lines_dropped_total", Help: "Output lines dropped by the ami CLI because stdout was slower than the PBX.", ConstLabels: cl}))
	m.tickDuration = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "tick_duration_seconds", Help: "Duration of one tick, including its wait.", ConstLabels: cl, Buckets: cfg.tickBuckets}))
	m.tickWait = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "tick_wait_seconds", Help: "Time one tick spent waiting for work.", ConstLabels: cl, Buckets: cfg.tickWaitBuckets}))
	return m
}

// register registers c, or returns the collector already registered under
// the same description.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// server returns the cached children of a server, creating them once.
func (m *Metrics) server(key string) *serverMetrics {
	if v, ok := m.servers.Load(key); ok {
		return v.(*serverMetrics)
	}
	s := &serverMetrics{
		eventsDropped: m.eventsDropped.WithLabelValues(key),
		pending:       m.pending.WithLabelValues(key),
		writeBuffer:   m.writeBuffer.WithLabelValues(key),
		purged:        m.purged.WithLabelValues(key),
		reconnects:    m.reconnects.WithLabelValues(key),
	}
	for _, st := range states {
		s.states = append(s.states, m.connState.WithLabelValues(key, st.String()))
	}
	for i, st := range circuitStates {
		s.circuit[i] = m.circuit.WithLabelValues(key, st)
	}
	limit := m.cfg.maxLabelValues
	s.events = newChildren(len(m.events.lower)+1, func(l string) prometheus.Counter {
		return m.eventsReceived.WithLabelValues(key, l)
	})
	s.actions = newChildren(len(m.actions.lower)+1, func(l string) *actionMetrics {
		a := &actionMetrics{
			sent:     m.actionsSent.WithLabelValues(key, l),
			duration: m.actionDuration.WithLabelValues(key, l),
		}
		for i, o := range outcomes {
			a.done[i] = m.actionsDone.WithLabelValues(key, l, o)
		}
		a.done[len(outcomes)] = m.actionsDone.WithLabelValues(key, l, Other)
		return a
	})
	s.failures = newChildren(limit, func(l string) prometheus.Counter {
		return m.connectFailures.WithLabelValues(key, l)
	})
	s.protocol = newChildren(limit, func(l string) prometheus.Counter {
		return m.protocolErrors.WithLabelValues(key, l)
	})
	v, _ := m.servers.LoadOrStore(key, s)
	return v.(*serverMetrics)
}

// EventReceived counts one event read from the PBX.
func (m *Metrics) EventReceived(server, event string) {
	m.server(server).events.get(m.events.label(event)).Inc()
}

// EventsDropped counts n events dropped from a full event queue.
func (m *Metrics) EventsDropped(server string, n int) {
	if n > 0 {
		m.server(server).eventsDropped.Add(float64(n))
	}
}

// ActionSent counts one action accepted by Send.
func (m *Metrics) ActionSent(server, action string) {
	m.server(server).actions.get(m.actions.label(action)).sent.Inc()
}

// ActionDone counts one completed action and observes its duration.
func (m *Metrics) ActionDone(server, action string, d time.Duration, outcome string) {
	a := m.server(server).actions.get(m.actions.label(action))
	a.duration.Observe(d.Seconds())
	i := len(outcomes)
	for j, o := range outcomes {
		if o == outcome {
			i = j
			break
		}
	}
	a.done[i].Inc()
}

// PendingActions sets the number of actions waiting for a response.
func (m *Metrics) PendingActions(server string, n int) {
	m.server(server).pending.Set(float64(n))
}

// WriteBufferBytes sets the bytes queued for the current connection.
func (m *Metrics) WriteBufferBytes(server string, n int) {
	m.server(server).writeBuffer.Set(float64(n))
}

// BytesPurged counts bytes purged from a lost connection's write buffer.
func (m *Metrics) BytesPurged(server string, n int) {
	if n > 0 {
		m.server(server).purged.Add(float64(n))
	}
}

// ConnectionState sets the server's state gauge: 1 for s, 0 for the others.
func (m *Metrics) ConnectionState(server string, s ami.State) {
	for i, g := range m.server(server).states {
		if ami.State(i) == s {
			g.Set(1)
		} else {
			g.Set(0)
		}
	}
}

// Reconnect counts one reconnection.
func (m *Metrics) Reconnect(server string) { m.server(server).reconnects.Inc() }

// ConnectFailure counts one failed connect or login attempt.
func (m *Metrics) ConnectFailure(server, reason string) {
	if reason == "" {
		reason = "unknown"
	}
	m.server(server).failures.get(reason).Inc()
}

// CircuitState sets the breaker gauge: 1 for state, 0 for the others. An
// unknown state sets every gauge to 0.
func (m *Metrics) CircuitState(server string, state string) {
	for i, g := range m.server(server).circuit {
		if circuitStates[i] == state {
			g.Set(1)
		} else {
			g.Set(0)
		}
	}
}

// ProtocolError counts one protocol error of the given kind.
func (m *Metrics) ProtocolError(server, kind string) {
	if kind == "" {
		kind = "unknown"
	}
	m.server(server).protocol.get(kind).Inc()
}

// LogRecordsDropped counts n log records dropped by the bounded log handler.
func (m *Metrics) LogRecordsDropped(n int) {
	if n > 0 {
		m.logDropped.Add(float64(n))
	}
}

// OutputLinesDropped counts n output lines dropped by a bounded writer (the
// ami CLI's stdout). It is not part of ami.Metrics.
func (m *Metrics) OutputLinesDropped(n int) {
	if n > 0 {
		m.outputDropped.Add(float64(n))
	}
}

// Tick observes one tick: d is its whole duration, waited the part spent
// waiting for work.
func (m *Metrics) Tick(d, waited time.Duration) {
	m.tickDuration.Observe(d.Seconds())
	m.tickWait.Observe(waited.Seconds())
}
