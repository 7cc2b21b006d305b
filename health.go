package ami

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"
)

// Health is a snapshot of one server's health, safe to read from any goroutine.
type Health struct {
	Server  string
	Address string
	State   State
	// Degraded is true while heartbeats go unanswered (the connection is
	// reset after Options.HeartbeatMaxMissed of them).
	Degraded bool
	// Breaker is the circuit breaker state: "closed", "open" or "half_open".
	Breaker   string
	LastError error
	// Attempts counts connect attempts since the last time the server was Ready.
	Attempts  int
	NextRetry time.Time // zero unless waiting to reconnect
	Since     time.Time // when State was entered
	Banner    string    // e.g. "Asterisk Call Manager/13.0.0"
}

// ClusterHealth is the health of every server.
type ClusterHealth struct {
	Servers []Health
	Ready   int
	Total   int
}

// AllReady reports whether every server is Ready.
func (h ClusterHealth) AllReady() bool { return h.Total > 0 && h.Ready == h.Total }

// Health returns the health of every server, sorted by key.
func (m *Manager) Health() ClusterHealth {
	out := ClusterHealth{Total: len(m.clients)}
	for _, c := range m.clients {
		h := c.Health()
		if h.State == StateReady {
			out.Ready++
		}
		out.Servers = append(out.Servers, h)
	}
	return out
}

// ServerStats are one server's counters. Every counter is exact:
// EventsReceived = EventsDispatched + EventsDropped + EventsQueued.
type ServerStats struct {
	Server             string
	State              State
	EventsReceived     uint64 // events queued for listeners (list items excluded)
	EventsDispatched   uint64
	EventsDropped      uint64 // dropped from the full queue (oldest first)
	EventsQueued       uint64 // waiting in the queue
	EventsBeforeReady  uint64 // received before the login completed: not dispatched
	ActionsSent        uint64
	ActionsCompleted   uint64 // completed successfully
	ActionsFailed      uint64 // completed with an error (incl. timeouts, losses)
	UnmatchedResponses uint64 // responses whose ActionID matched nothing pending
	Pending            int
	WriteBuffered      int
	BytesRead          uint64
	BytesWritten       uint64
	BytesPurged        uint64 // unwritten bytes dropped by non-graceful closes
	Reconnects         uint64 // times the server became Ready again after a loss
	ConnectFailures    uint64
	Desyncs            uint64
	ProtocolErrors     uint64
	ListenerPanics     uint64
}

// ManagerStats are the counters of every server plus the manager's own.
type ManagerStats struct {
	Servers           []ServerStats
	LogRecordsDropped uint64
	TickClamps        uint64 // TickAll calls whose timeout was clamped to MaxTickWait
}

// Stats returns the counters of every server, sorted by key.
func (m *Manager) Stats() ManagerStats {
	out := ManagerStats{LogRecordsDropped: m.sink.Stats().Dropped, TickClamps: m.clamps.Load()}
	for _, c := range m.clients {
		out.Servers = append(out.Servers, c.Stats())
	}
	return out
}

// buildTLS returns the TLS config of a server, or nil for plain TCP.
func buildTLS(s ServerConfig) (*tls.Config, error) {
	if s.TLSConfig != nil {
		return s.TLSConfig.Clone(), nil
	}
	if !s.TLS.Enabled {
		return nil, nil
	}
	conf := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         s.TLS.ServerName,
		InsecureSkipVerify: s.TLS.InsecureSkipVerify, //nolint:gosec // opt-in, documented as never for production
	}
	if conf.ServerName == "" {
		if host, _, err := net.SplitHostPort(s.Address); err == nil {
			conf.ServerName = host
		}
	}
	if s.TLS.CAFile != "" {
		pem, err := os.ReadFile(s.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate", s.TLS.CAFile)
		}
		conf.RootCAs = pool
	}
	if s.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file/key_file: %v", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
