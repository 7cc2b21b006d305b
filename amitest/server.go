package amitest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Server is a fake Asterisk Manager Interface server listening on a loopback
// address. Create one with NewServer (started, closed by the test's cleanup)
// or NewUnstartedServer (then Start or StartAt). All methods are safe for
// concurrent use.
type Server struct {
	opts     Options
	pbx      *pbx
	counters counters

	lifeMu sync.Mutex // serialises Start, StartAt and Close

	mu       sync.Mutex
	ln       net.Listener
	addr     string
	running  bool
	done     chan struct{} // closed by Close; replaced by the next Start
	changed  chan struct{} // closed and replaced on every observable change
	conns    []*Conn
	live     map[*Conn]struct{}
	loggedIn int
	refuse   bool
	paused   bool
	resume   chan struct{} // closed when reading resumes
	handlers map[string]HandlerFunc
	tlsCert  *tls.Certificate
	tlsPool  *tlsPool
	wg       sync.WaitGroup
}

// NewServer returns a started server listening on 127.0.0.1 with a random
// port. If tb is not nil, tb.Cleanup(s.Close) is registered and a failure to
// start is fatal to the test; if tb is nil, the caller must call Close and
// NewServer panics if the server cannot start.
func NewServer(tb testing.TB, o Options) *Server {
	if tb != nil {
		tb.Helper()
	}
	s := NewUnstartedServer(o)
	if err := s.Start(); err != nil {
		if tb != nil {
			tb.Fatalf("amitest: %v", err)
		}
		panic(err)
	}
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// NewUnstartedServer returns a server that is not listening yet: adjust it
// (Handle, SetRefuse ...) and call Start or StartAt.
func NewUnstartedServer(o Options) *Server {
	o = o.withDefaults()
	s := &Server{
		opts:     o,
		changed:  make(chan struct{}),
		live:     make(map[*Conn]struct{}),
		resume:   make(chan struct{}),
		handlers: make(map[string]HandlerFunc),
	}
	close(s.resume)
	s.pbx = newPBX(s)
	return s
}

// Start starts listening on 127.0.0.1 with a port chosen by the system.
func (s *Server) Start() error { return s.StartAt("127.0.0.1:0") }

// StartAt starts listening on addr, which must be a loopback address
// ("127.0.0.1:5038"). A closed server can be started again, which restarts
// a PBX on the same port: StartAt(old.Addr()) after old.Close(). The
// history (Conns, Stats, handlers, TLS certificate) is kept across
// restarts; the simulated PBX state (channels, queues, variables) starts
// afresh, as after an Asterisk restart.
func (s *Server) StartAt(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ami: amitest: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if running {
		return ErrServerRunning
	}
	var tlsConf *tls.Config
	if s.opts.TLS {
		if tlsConf, err = s.serverTLSConfig(); err != nil {
			return err
		}
	}
	lc := net.ListenConfig{Control: rcvbufControl(s.opts.ReadBufferSize)}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return fmt.Errorf("ami: amitest: listen: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.addr = ln.Addr().String()
	s.running = true
	s.done = make(chan struct{})
	s.notifyLocked()
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.acceptLoop(ln, tlsConf)
	}()
	s.logf("listening on %s (tls=%v)", s.addr, s.opts.TLS)
	return nil
}

// Addr returns the listening address, "127.0.0.1:port". It stays valid
// after Close (so that StartAt can reuse it) and is empty before the first
// Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops listening, closes every connection abruptly, stops the
// simulated calls and waits for every goroutine of the server to return.
// It is idempotent; a client that stopped reading cannot hang it.
func (s *Server) Close() {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return
	}
	s.running = false
	close(s.done)
	ln := s.ln
	live := s.liveLocked()
	s.notifyLocked()
	s.mu.Unlock()
	ln.Close()
	for _, c := range live {
		c.abort()
	}
	s.wg.Wait()
	s.pbx.reset()
	s.logf("closed")
}

// CloseClientConnections drops every live connection abruptly (a TCP reset
// where the platform allows it) and keeps listening.
func (s *Server) CloseClientConnections() {
	s.mu.Lock()
	live := s.liveLocked()
	s.mu.Unlock()
	for _, c := range live {
		c.abort()
	}
}

// SetRefuse makes the server accept new connections and close them at once,
// without a banner, while refuse is true (a PBX whose manager is down). Live
// connections are not affected.
func (s *Server) SetRefuse(refuse bool) {
	s.mu.Lock()
	s.refuse = refuse
	s.mu.Unlock()
}

// SetReading(false) stops reading from every connection (current and new):
// what clients write piles up in the TCP buffers, then their writes block,
// like a hung PBX. SetReading(true) resumes. Writes to clients (events,
// Send) keep working.
func (s *Server) SetReading(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on == !s.paused {
		return
	}
	s.paused = !on
	if on {
		close(s.resume)
		for c := range s.live {
			c.nc.SetReadDeadline(noDeadline)
		}
		return
	}
	s.resume = make(chan struct{})
	for c := range s.live {
		if c.reading.Load() {
			c.nc.SetReadDeadline(pastDeadline) // wakes a blocked Read
		}
	}
}

// Conns returns every connection ever accepted (refused ones excepted), in
// accept order, including closed ones.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Conn(nil), s.conns...)
}

// WaitConns waits until at least n connections were accepted since the
// server was created (closed ones count). It returns the context's error,
// wrapped, or ErrServerClosed if the server closes first.
func (s *Server) WaitConns(ctx context.Context, n int) error {
	err := s.waitFor(ctx, func() bool { return len(s.conns) >= n })
	if err != nil {
		return fmt.Errorf("ami: amitest: waiting for %d connections: %w", n, err)
	}
	return nil
}

// Ready waits until at least n connections have logged in successfully
// since the server was created (connections that have since closed count,
// so Ready(ctx, 2) waits for the login that follows a reconnect). It
// returns the context's error, wrapped, or ErrServerClosed.
func (s *Server) Ready(ctx context.Context, n int) error {
	err := s.waitFor(ctx, func() bool { return s.loggedIn >= n })
	if err != nil {
		return fmt.Errorf("ami: amitest: waiting for %d logins: %w", n, err)
	}
	return nil
}

// Handle sets the handler of an action (the name is case-insensitive),
// replacing the built-in reply; a nil handler restores the built-in one.
// Handlers run on the connection's reader goroutine, after the login check
// (before login only Login, Challenge and Logoff reach a handler). A
// handler can call ResponseWriter.Default to fall back on the built-in
// behaviour, for example after a delay.
func (s *Server) Handle(action string, h HandlerFunc) {
	key := strings.ToLower(action)
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.handlers, key)
		return
	}
	s.handlers[key] = h
}

func (s *Server) handler(key string) HandlerFunc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handlers[key]
}

// waitFor polls cond (called with s.mu held) on every change.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, ch, running := cond(), s.changed, s.running
		s.mu.Unlock()
		switch {
		case ok:
			return nil
		case !running:
			return ErrServerClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notify wakes the waiters (WaitConns, Ready, WaitAction).
func (s *Server) notify() {
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// liveLocked returns the live connections in accept order.
func (s *Server) liveLocked() []*Conn {
	out := make([]*Conn, 0, len(s.live))
	for c := range s.live {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Conn) int { return a.id - b.id })
	return out
}

// goFunc runs f on a goroutine that Close waits for. It returns false, and
// does not run f, when the server is closed.
func (s *Server) goFunc(f func(done <-chan struct{})) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return false
	}
	done := s.done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(done)
	}()
	return true
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf("amitest: "+format, args...)
	}
}
