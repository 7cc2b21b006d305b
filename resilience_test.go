package ami_test

// Health and resilience of one server, on a fake clock: reconnect backoff
// and jitter, circuit breaker, heartbeat, read timeout, connect and auth
// timeouts.

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
	"github.com/apntalk/ami/internal/clock"
)

// rNextRetry waits for the n-th failed connect of c and returns the delay
// the client scheduled before its next attempt (fake time does not move).
func rNextRetry(t *testing.T, m *ami.Manager, c *ami.Client, fake *clock.Fake, n int) time.Duration {
	t.Helper()
	rTickUntil(t, m, "connect failure", func() bool {
		return c.State() == ami.StateReconnecting && c.Stats().ConnectFailures == uint64(n)
	})
	h := c.Health()
	if h.Attempts != n {
		t.Fatalf("failure %d: Health.Attempts = %d", n, h.Attempts)
	}
	return h.NextRetry.Sub(fake.Now())
}

// rExpectRetryAt checks that no attempt starts before delay has passed on
// the fake clock and that exactly one starts when it has.
func rExpectRetryAt(t *testing.T, m *ami.Manager, fake *clock.Fake, delay time.Duration) {
	t.Helper()
	if delay > time.Millisecond {
		fake.Advance(delay - time.Millisecond)
		if s := m.Poll(); s.ConnectAttempts != 0 {
			t.Fatalf("attempt %v before the backoff of %v ended", time.Millisecond, delay)
		}
		delay = time.Millisecond
	}
	fake.Advance(delay)
	if s := m.Poll(); s.ConnectAttempts != 1 {
		t.Fatalf("ConnectAttempts = %d when the backoff ended, want 1", s.ConnectAttempts)
	}
}

func TestReconnectBackoffSequence(t *testing.T) {
	fake, now := rFake()
	m := rManager(t, rOne(rDeadAddr(t), ami.Options{
		ReconnectBase:    100 * time.Millisecond,
		ReconnectMax:     1600 * time.Millisecond,
		ReconnectJitter:  -1, // none: the schedule is exact
		BreakerThreshold: 1000,
	}), now)
	c := m.Default()
	if s := m.Poll(); s.ConnectAttempts != 1 {
		t.Fatalf("first tick: ConnectAttempts = %d, want 1", s.ConnectAttempts)
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 1600, 1600}
	for i, w := range want {
		got := rNextRetry(t, m, c, fake, i+1)
		if got != w*time.Millisecond {
			t.Fatalf("delay after failure %d = %v, want %v (whole schedule %v ms)", i+1, got, w*time.Millisecond, want)
		}
		rExpectRetryAt(t, m, fake, got)
	}
	if h := c.Health(); h.LastError == nil || !strings.Contains(h.LastError.Error(), "connect") {
		t.Fatalf("LastError = %v, want the dial error", h.LastError)
	}
}

// rJitterDelays returns the first n reconnect delays of a manager seeded
// with seed, with jitter 0.5 around a constant 100ms.
func rJitterDelays(t *testing.T, seed uint64, n int) []time.Duration {
	fake, now := rFake()
	m := rManager(t, rOne(rDeadAddr(t), ami.Options{
		ReconnectBase:    100 * time.Millisecond,
		ReconnectMax:     100 * time.Millisecond,
		ReconnectJitter:  0.5,
		BreakerThreshold: 1000,
	}), now, ami.WithRand(seed))
	c := m.Default()
	var out []time.Duration
	for i := 1; i <= n; i++ {
		d := rNextRetry(t, m, c, fake, i)
		out = append(out, d)
		rExpectRetryAt(t, m, fake, d)
	}
	return out
}

func TestReconnectJitterSpreadSeeded(t *testing.T) {
	const n = 30
	a := rJitterDelays(t, 42, n)
	for i, d := range a {
		if d < 50*time.Millisecond || d > 150*time.Millisecond {
			t.Fatalf("delay %d = %v, outside 100ms ± 50%%", i, d)
		}
	}
	lo, hi := slices.Min(a), slices.Max(a)
	if hi-lo < 40*time.Millisecond {
		t.Fatalf("jitter does not spread: delays within [%v, %v]", lo, hi)
	}
	distinct := len(slices.Compact(slices.Sorted(slices.Values(a))))
	if distinct < n*2/3 {
		t.Fatalf("only %d distinct delays out of %d: %v", distinct, n, a)
	}
	if b := rJitterDelays(t, 42, n); !slices.Equal(a, b) {
		t.Fatalf("same seed, different delays:\n%v\n%v", a, b)
	}
	if b := rJitterDelays(t, 43, n); slices.Equal(a, b) {
		t.Fatalf("different seeds, same delays: %v", a)
	}
}

func TestCircuitBreakerTransitions(t *testing.T) {
	addr := rDeadAddr(t)
	srv := amitest.NewUnstartedServer(amitest.Options{})
	t.Cleanup(srv.Close)
	fake, now := rFake()
	const cooldown = 10 * time.Second
	m := rManager(t, rOne(addr, ami.Options{
		ReconnectBase:         100 * time.Millisecond,
		ReconnectMax:          100 * time.Millisecond,
		ReconnectJitter:       -1,
		BreakerThreshold:      3,
		BreakerCooldown:       cooldown,
		BreakerHalfOpenProbes: 1,
		HeartbeatInterval:     -1,
	}), now)
	c := m.Default()
	m.Poll()

	// Closed: failures 1 and 2 keep the circuit closed and retry after the backoff.
	for i := 1; i <= 2; i++ {
		d := rNextRetry(t, m, c, fake, i)
		if b := c.Health().Breaker; b != "closed" {
			t.Fatalf("after %d failures: breaker %q, want closed", i, b)
		}
		rExpectRetryAt(t, m, fake, d)
	}
	// The third consecutive failure opens it: the next retry waits the cooldown.
	d := rNextRetry(t, m, c, fake, 3)
	if b := c.Health().Breaker; b != "open" {
		t.Fatalf("after 3 failures: breaker %q, want open", b)
	}
	if d != cooldown {
		t.Fatalf("retry scheduled %v after the trip, want the cooldown %v", d, cooldown)
	}
	// Open: nothing is attempted, past the backoff and up to the cooldown.
	for _, step := range []time.Duration{100 * time.Millisecond, 5 * time.Second, cooldown - 5*time.Second - 100*time.Millisecond - time.Millisecond} {
		fake.Advance(step)
		if s := m.Poll(); s.ConnectAttempts != 0 {
			t.Fatalf("attempt while the circuit is open (breaker %q)", c.Health().Breaker)
		}
	}
	// Cooldown over: one probe, half-open.
	fake.Advance(time.Millisecond)
	if s := m.Poll(); s.ConnectAttempts != 1 {
		t.Fatalf("ConnectAttempts = %d after the cooldown, want 1 probe", s.ConnectAttempts)
	}
	if b := c.Health().Breaker; b != "half_open" {
		t.Fatalf("breaker %q during the probe, want half_open", b)
	}
	if s := m.Poll(); s.ConnectAttempts != 0 {
		t.Fatal("a second attempt during the single half-open probe")
	}
	// The probe fails: open again for a full cooldown.
	d = rNextRetry(t, m, c, fake, 4)
	if b := c.Health().Breaker; b != "open" || d != cooldown {
		t.Fatalf("failed probe: breaker %q, next retry in %v; want open, %v", b, d, cooldown)
	}
	// The PBX comes back; the next probe succeeds and closes the circuit.
	if err := srv.StartAt(addr); err != nil {
		t.Skipf("cannot listen again on %s: %v", addr, err)
	}
	fake.Advance(cooldown)
	if s := m.Poll(); s.ConnectAttempts != 1 {
		t.Fatalf("ConnectAttempts = %d after the second cooldown, want 1", s.ConnectAttempts)
	}
	rTickUntil(t, m, "ready after the probe", rState(c, ami.StateReady))
	h := c.Health()
	if h.Breaker != "closed" || h.Attempts != 0 || h.LastError != nil || !h.NextRetry.IsZero() {
		t.Fatalf("after a successful probe: %+v", h)
	}
	if f := c.Stats().ConnectFailures; f != 4 {
		t.Fatalf("ConnectFailures = %d, want 4", f)
	}
}

// rPingServer is an amitest server whose Ping is ignored while *ignore.
func rPingServer(t *testing.T, ignore *atomic.Bool) *amitest.Server {
	srv := amitest.NewServer(t, amitest.Options{})
	srv.Handle("Ping", func(w *amitest.ResponseWriter, _ *amitest.Request) {
		if ignore.Load() {
			w.Ignore()
			return
		}
		w.Default()
	})
	return srv
}

func TestHeartbeatDegradesThenRecovers(t *testing.T) {
	var ignore atomic.Bool
	srv := rPingServer(t, &ignore)
	fake, now := rFake()
	m := rManager(t, rOne(srv.Addr(), ami.Options{
		HeartbeatInterval:  time.Second,
		HeartbeatTimeout:   300 * time.Millisecond,
		HeartbeatMaxMissed: 2,
		ReadTimeout:        -1,
	}), now)
	c := m.Default()
	rTickUntil(t, m, "ready", rState(c, ami.StateReady))
	ignore.Store(true)

	fake.Advance(time.Second)
	m.Poll() // heartbeat sent
	if _, err := srv.Conns()[0].WaitAction(rCtx(t), "Ping"); err != nil {
		t.Fatal(err)
	}
	fake.Advance(299 * time.Millisecond)
	m.Poll()
	if c.Health().Degraded {
		t.Fatal("degraded before the heartbeat timeout")
	}
	fake.Advance(time.Millisecond)
	m.Poll()
	if h := c.Health(); !h.Degraded || h.State != ami.StateReady {
		t.Fatalf("one missed heartbeat: %+v, want Ready and Degraded", h)
	}

	ignore.Store(false)
	fake.Advance(700 * time.Millisecond)
	m.Poll() // next heartbeat, answered
	rTickUntil(t, m, "heartbeat answered", func() bool { return !c.Health().Degraded })
	if c.State() != ami.StateReady {
		t.Fatalf("state %v after recovery", c.State())
	}
}

func TestHeartbeatMaxMissedResetsConnection(t *testing.T) {
	var ignore atomic.Bool
	ignore.Store(true)
	srv := rPingServer(t, &ignore)
	fake, now := rFake()
	m := rManager(t, rOne(srv.Addr(), ami.Options{
		HeartbeatInterval:  time.Second,
		HeartbeatTimeout:   300 * time.Millisecond,
		HeartbeatMaxMissed: 2,
		ReadTimeout:        -1,
		ReconnectBase:      100 * time.Millisecond,
		ReconnectJitter:    -1,
	}), now)
	c := m.Default()
	rTickUntil(t, m, "ready", rState(c, ami.StateReady))

	// Heartbeats are due at 1s and 2s after Ready; each goes unanswered 300ms.
	for missed, wait := range []time.Duration{time.Second, 700 * time.Millisecond} {
		missed++
		fake.Advance(wait)
		m.Poll() // heartbeat sent
		fake.Advance(300 * time.Millisecond)
		m.Poll() // ... and missed
		h := c.Health()
		if missed == 1 && (!h.Degraded || h.State != ami.StateReady) {
			t.Fatalf("first miss: %+v, want Ready and Degraded", h)
		}
		if missed == 2 {
			if h.State != ami.StateReconnecting || h.Degraded {
				t.Fatalf("second miss: %+v, want Reconnecting and not Degraded", h)
			}
			if h.LastError == nil || !strings.Contains(h.LastError.Error(), "heartbeat") {
				t.Fatalf("LastError = %v, want heartbeat missed", h.LastError)
			}
		}
	}
	// The connection was reset: the server sees its close, the client comes back.
	select {
	case <-srv.Conns()[0].Done():
	case <-rCtx(t).Done():
		t.Fatal("first connection not closed after the heartbeat reset")
	}
	fake.Advance(100 * time.Millisecond)
	rTickUntil(t, m, "ready again", rState(c, ami.StateReady))
	if n := len(srv.Conns()); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

func TestReadTimeoutResetsSilentConnection(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	fake, now := rFake()
	m := rManager(t, rOne(srv.Addr(), ami.Options{
		ReadTimeout:       2 * time.Second,
		HeartbeatInterval: -1,
	}), now)
	c := m.Default()
	rTickUntil(t, m, "ready", rState(c, ami.StateReady))

	fake.Advance(1500 * time.Millisecond)
	m.Poll()
	before := c.Stats().BytesRead
	srv.Broadcast(amitest.H("Event", "Heartbeat"), amitest.H("Privilege", "system,all"))
	rTickUntil(t, m, "event bytes", func() bool { return c.Stats().BytesRead > before })
	// 3s since Ready, but only 1.5s since the last byte: still Ready.
	fake.Advance(1500 * time.Millisecond)
	m.Poll()
	if st := c.State(); st != ami.StateReady {
		t.Fatalf("state %v 1.5s after the last byte, ReadTimeout 2s", st)
	}
	fake.Advance(500 * time.Millisecond)
	m.Poll()
	h := c.Health()
	if h.State != ami.StateReconnecting || h.LastError == nil || !strings.Contains(h.LastError.Error(), "read timeout") {
		t.Fatalf("2s of silence: %+v, want Reconnecting with a read timeout", h)
	}
}

// rSilentListener accepts connections and never writes a byte. Each
// accepted connection is sent on the returned channel; the cleanup closes
// the listener and every connection.
func rSilentListener(t *testing.T) (addr string, accepted <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			ch <- nc
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, nc := range conns {
			_ = nc.Close()
		}
	})
	return ln.Addr().String(), ch
}

// rClosedByPeer waits until the client closes nc (a read fails) and
// returns when that happened and how many bytes the client wrote. It does
// not touch t: it runs on helper goroutines too.
func rClosedByPeer(nc net.Conn) (at time.Time, n int64, err error) {
	_ = nc.SetReadDeadline(time.Now().Add(rWait))
	n, err = io.Copy(io.Discard, nc)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return time.Time{}, n, errors.New("the client never closed the connection")
	}
	return time.Now(), n, nil
}

func TestConnectTimeoutAbandonsHungDial(t *testing.T) {
	// A TLS handshake against a server that never answers hangs inside the
	// dial goroutine: only ConnectTimeout ends Connecting.
	addr, accepted := rSilentListener(t)
	fake, now := rFake()
	cfg := rOne(addr, ami.Options{ConnectTimeout: 5 * time.Second, BreakerThreshold: 1000})
	s := cfg.Servers["pbx"]
	s.TLS = ami.TLSOptions{Enabled: true, InsecureSkipVerify: true}
	cfg.Servers["pbx"] = s
	m := rManager(t, cfg, now)
	c := m.Default()
	m.Poll()
	var nc net.Conn
	select {
	case nc = <-accepted:
	case <-rCtx(t).Done():
		t.Fatal("no connection accepted")
	}
	for range 3 {
		start := time.Now()
		m.Poll()
		if el := time.Since(start); el > time.Second {
			t.Fatalf("a tick took %v while a dial hangs", el)
		}
		if st := c.State(); st != ami.StateConnecting {
			t.Fatalf("state %v while the handshake hangs, want connecting", st)
		}
	}
	fake.Advance(5 * time.Second)
	start := time.Now()
	m.Poll()
	if el := time.Since(start); el > time.Second {
		t.Fatalf("the tick that abandons the dial took %v", el)
	}
	h := c.Health()
	if h.State != ami.StateReconnecting || h.LastError == nil || !strings.Contains(h.LastError.Error(), "connect timeout") {
		t.Fatalf("after ConnectTimeout: %+v, want Reconnecting with a connect timeout", h)
	}
	if !h.NextRetry.After(fake.Now()) {
		t.Fatalf("no retry scheduled: NextRetry %v, now %v", h.NextRetry, fake.Now())
	}
	if f := c.Stats().ConnectFailures; f != 1 {
		t.Fatalf("ConnectFailures = %d, want 1", f)
	}
	// The abandoned dial does not leak its socket.
	if _, _, err := rClosedByPeer(nc); err != nil {
		t.Fatal(err)
	}
}

func TestConnectTimeoutIsWallClock(t *testing.T) {
	addr, _ := rSilentListener(t)
	const connectTimeout = 100 * time.Millisecond
	cfg := rOne(addr, ami.Options{ConnectTimeout: connectTimeout, BreakerThreshold: 1000})
	s := cfg.Servers["pbx"]
	s.TLS = ami.TLSOptions{Enabled: true, InsecureSkipVerify: true}
	cfg.Servers["pbx"] = s
	m := rManager(t, cfg)
	c := m.Default()
	start := time.Now()
	var slowest time.Duration
	for c.Stats().ConnectFailures == 0 && time.Since(start) < rWait {
		t0 := time.Now()
		if _, err := m.TickAll(25 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(t0))
	}
	el := time.Since(start)
	if c.Stats().ConnectFailures == 0 {
		t.Fatalf("no connect failure after %v with a hung handshake", el)
	}
	if el < connectTimeout*8/10 || el > 2*time.Second {
		t.Fatalf("Connecting ended after %v, ConnectTimeout %v", el, connectTimeout)
	}
	// A tick blocked on the hung handshake would last until the peer goes
	// away (rWait); 2s leaves room for a loaded machine (one tick took
	// ~600ms under a parallel race run and fuzzers).
	if slowest > 2*time.Second {
		t.Fatalf("slowest tick %v while a dial hangs", slowest)
	}
	if st := c.State(); st != ami.StateReconnecting {
		t.Fatalf("state %v after the connect timeout", st)
	}
}

func TestAuthTimeoutWithoutBanner(t *testing.T) {
	addr, accepted := rSilentListener(t)
	const authTimeout = 150 * time.Millisecond
	m := rManager(t, rOne(addr, ami.Options{
		AuthTimeout:      authTimeout,
		ReconnectBase:    50 * time.Millisecond,
		ReconnectMax:     50 * time.Millisecond,
		BreakerThreshold: 1000,
	}))
	c := m.Default()

	type closed struct {
		accepted, closed time.Time
		written          int64
		err              error
	}
	results := make(chan closed, 2)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 2 {
			select {
			case nc := <-accepted:
				r := closed{accepted: time.Now()}
				r.closed, r.written, r.err = rClosedByPeer(nc)
				results <- r
			case <-time.After(rWait):
				return
			}
		}
	}()
	t.Cleanup(wg.Wait)

	var slowest time.Duration
	deadline := time.Now().Add(rWait)
	for len(results) < 2 && time.Now().Before(deadline) {
		start := time.Now()
		if _, err := m.TickAll(25 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
	}
	if len(results) < 2 {
		t.Fatalf("no retry after the auth timeout; health %+v", c.Health())
	}
	// A tick blocked on the silent server would last until it goes away
	// (rWait); 2s leaves room for a loaded machine (one tick took ~600ms
	// under a parallel race run and fuzzers).
	if slowest > 2*time.Second {
		t.Fatalf("slowest tick %v: a tick blocked on a silent server", slowest)
	}
	first := <-results
	if first.err != nil || first.written != 0 {
		t.Fatalf("first connection: %v, %d bytes written before any banner", first.err, first.written)
	}
	if held := first.closed.Sub(first.accepted); held < authTimeout-20*time.Millisecond || held > 3*time.Second {
		t.Fatalf("the banner-less connection was held %v, want about AuthTimeout %v", held, authTimeout)
	}
	h := c.Health()
	if h.LastError == nil || !strings.Contains(h.LastError.Error(), "authentication timeout") {
		t.Fatalf("LastError = %v, want an authentication timeout", h.LastError)
	}
	if f := c.Stats().ConnectFailures; f < 2 {
		t.Fatalf("ConnectFailures = %d, want at least 2", f)
	}
	var nre *ami.NotReadyError
	if _, err := c.Send(ami.Ping{}); !errors.As(err, &nre) || !ami.SafeToRetry(err) {
		t.Fatalf("Send while not ready: %v", err)
	}
}
