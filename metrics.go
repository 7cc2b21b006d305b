package ami

import "time"

// Metrics receives the runtime's measurements. Package amiprom implements it
// for Prometheus. Every method is called on the tick goroutine (or from
// Send for ActionSent) and must be cheap and non-blocking. Embed NopMetrics
// to implement only some methods and stay compatible with later additions.
type Metrics interface {
	// EventReceived: one event queued for listeners.
	EventReceived(server, event string)
	// EventsDropped: n events dropped from a full queue.
	EventsDropped(server string, n int)
	// ActionSent: an action was queued for writing.
	ActionSent(server, action string)
	// ActionDone: an action completed; outcome is "success", "error",
	// "timeout", "connection_lost", "closed" or "protocol".
	ActionDone(server, action string, d time.Duration, outcome string)
	// PendingActions: the size of the pending table, after each tick.
	PendingActions(server string, n int)
	// WriteBufferBytes: bytes queued for writing, after each tick.
	WriteBufferBytes(server string, n int)
	// BytesPurged: unwritten bytes dropped by a non-graceful close.
	BytesPurged(server string, n int)
	// ConnectionState: the client's new state.
	ConnectionState(server string, s State)
	// Reconnect: the server became Ready again after a loss.
	Reconnect(server string)
	// ConnectFailure: a connect or login failed; reason is "dial",
	// "timeout", "auth" or "auth_timeout".
	ConnectFailure(server, reason string)
	// CircuitState: the breaker's new state ("closed", "open", "half_open").
	CircuitState(server string, state string)
	// ProtocolError: kind is "desync", "frame_too_large",
	// "output_too_large" or "unmatched".
	ProtocolError(server, kind string)
	// LogRecordsDropped: n more log records were dropped by the bounded
	// log handler (reported after each tick that saw new drops, and at Close).
	LogRecordsDropped(n int)
	// Tick: the duration of one TickAll and how long it waited.
	Tick(d, waited time.Duration)
}

// NopMetrics implements Metrics and does nothing.
type NopMetrics struct{}

// EventReceived implements Metrics.
func (NopMetrics) EventReceived(string, string) {}

// EventsDropped implements Metrics.
func (NopMetrics) EventsDropped(string, int) {}

// ActionSent implements Metrics.
func (NopMetrics) ActionSent(string, string) {}

// ActionDone implements Metrics.
func (NopMetrics) ActionDone(string, string, time.Duration, string) {}

// PendingActions implements Metrics.
func (NopMetrics) PendingActions(string, int) {}

// WriteBufferBytes implements Metrics.
func (NopMetrics) WriteBufferBytes(string, int) {}

// BytesPurged implements Metrics.
func (NopMetrics) BytesPurged(string, int) {}

// ConnectionState implements Metrics.
func (NopMetrics) ConnectionState(string, State) {}

// Reconnect implements Metrics.
func (NopMetrics) Reconnect(string) {}

// ConnectFailure implements Metrics.
func (NopMetrics) ConnectFailure(string, string) {}

// CircuitState implements Metrics.
func (NopMetrics) CircuitState(string, string) {}

// ProtocolError implements Metrics.
func (NopMetrics) ProtocolError(string, string) {}

// LogRecordsDropped implements Metrics.
func (NopMetrics) LogRecordsDropped(int) {}

// Tick implements Metrics.
func (NopMetrics) Tick(time.Duration, time.Duration) {}
