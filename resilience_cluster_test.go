package ami_test

// Resilience of a cluster: reconnect storms, the cluster connect budget,
// a PBX killed and restarted mid-traffic, graceful shutdown.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
	"github.com/apntalk/ami/internal/backoff"
)

// rSlow is an action the rSlowServer never answers: it stays pending.
var rSlow = ami.Generic{Name: "Slow"}

// rPadded is an action of about n KiB (headers of 1000 bytes), to fill
// write buffers quickly.
func rPadded(kib int) ami.Generic {
	pad := strings.Repeat("x", 1000-len("PadNN: \r\n"))
	g := ami.Generic{Name: "Slow"}
	for i := range kib {
		g.Headers = append(g.Headers, ami.H(fmt.Sprintf("Pad%02d", i), pad))
	}
	return g
}

// rSlowServer is an amitest server that never answers "Slow".
func rSlowServer(t testing.TB, o amitest.Options) *amitest.Server {
	srv := amitest.NewServer(t, o)
	srv.Handle("Slow", func(w *amitest.ResponseWriter, _ *amitest.Request) { w.Ignore() })
	return srv
}

// rReceivedIDs is the set of ActionIDs a server received on any connection.
func rReceivedIDs(srv *amitest.Server) map[string]bool {
	ids := map[string]bool{}
	for _, c := range srv.Conns() {
		for _, a := range c.Actions() {
			ids[a.ActionID()] = true
		}
	}
	return ids
}

// rMaxAttempts is the most connect attempts the backoff policy allows in
// window, counting each delay at its shortest (lowest jitter). The first
// retry after a loss waits Base, as does the one after the first failure.
func rMaxAttempts(p backoff.Policy, window time.Duration) int {
	n := 0
	var elapsed time.Duration
	for k := 0; ; k++ {
		d := time.Duration(float64(p.Delay(max(k-1, 0), nil)) * (1 - p.Jitter))
		elapsed += d
		if elapsed > window {
			return n
		}
		n++
	}
}

func TestReconnectStormIsBounded(t *testing.T) {
	policy := backoff.Policy{Base: 50 * time.Millisecond, Max: 400 * time.Millisecond, Jitter: 0.2}
	cfg := ami.Config{Servers: map[string]ami.ServerConfig{}, Options: ami.Options{
		ReconnectBase:             policy.Base,
		ReconnectMax:              policy.Max,
		ReconnectJitter:           policy.Jitter,
		BreakerThreshold:          1000,
		MaxConnectAttemptsPerTick: 1,
		HeartbeatInterval:         -1,
	}}
	var srvs []*amitest.Server
	for i := range 3 {
		s := amitest.NewServer(t, amitest.Options{})
		srvs = append(srvs, s)
		cfg.Servers[fmt.Sprintf("pbx%d", i)] = rServer(s.Addr())
	}
	m := rManager(t, cfg)
	rTickUntil(t, m, "all ready", func() bool { return m.Health().AllReady() })

	for _, s := range srvs {
		s.SetRefuse(true)
	}
	for _, s := range srvs {
		s.CloseClientConnections()
	}
	const window = 1500 * time.Millisecond
	attempts, maxPerTick, ticks := 0, 0, 0
	start := time.Now()
	for time.Since(start) < window {
		s, err := m.TickAll(10 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		ticks++
		attempts += s.ConnectAttempts
		maxPerTick = max(maxPerTick, s.ConnectAttempts)
	}
	elapsed := time.Since(start)
	if maxPerTick > 1 {
		t.Fatalf("%d connect attempts in one tick, budget 1", maxPerTick)
	}
	bound := 3 * (rMaxAttempts(policy, elapsed) + 1)
	if attempts > bound {
		t.Fatalf("%d connect attempts in %v (%d ticks): the backoff allows at most %d", attempts, elapsed, ticks, bound)
	}
	for i, s := range srvs {
		if s.Stats().Refused == 0 {
			t.Fatalf("server %d was never retried during the storm", i)
		}
		if st := m.Clients()[i].State(); st == ami.StateReady {
			t.Fatalf("server %d Ready while refusing", i)
		}
	}
	t.Logf("%d attempts in %v over %d ticks (bound %d)", attempts, elapsed, ticks, bound)

	for _, s := range srvs {
		s.SetRefuse(false)
	}
	rTickUntil(t, m, "all ready after the storm", func() bool { return m.Health().AllReady() })
	for i, s := range srvs {
		if err := s.Ready(rCtx(t), 2); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		if r := m.Clients()[i].Stats().Reconnects; r != 1 {
			t.Fatalf("server %d: Reconnects = %d, want 1", i, r)
		}
	}
}

func TestConnectBudgetRoundRobin(t *testing.T) {
	// 50 PBXs down, one connect attempt per tick for the whole cluster. Every
	// server is due on every tick (the fake clock jumps past every backoff),
	// so a budget spent from the first server each time would starve the
	// others: the cursor must rotate, giving each exactly one turn per
	// 50 ticks.
	const n = 50
	var lns []net.Listener
	cfg := ami.Config{Servers: map[string]ami.ServerConfig{}, Options: ami.Options{
		ReconnectBase:             time.Millisecond,
		ReconnectMax:              time.Millisecond,
		ReconnectJitter:           -1,
		BreakerThreshold:          1000,
		MaxConnectAttemptsPerTick: 1,
	}}
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		cfg.Servers[fmt.Sprintf("pbx%02d", i)] = rServer(ln.Addr().String())
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	fake, now := rFake()
	m := rManager(t, cfg, now)
	for step := range 2 * n {
		fake.Advance(time.Second)
		s, err := m.TickAll(50 * time.Millisecond) // returns as soon as the last dial fails
		if err != nil {
			t.Fatal(err)
		}
		if s.ConnectAttempts != 1 {
			t.Fatalf("tick %d: %d connect attempts, want exactly 1", step, s.ConnectAttempts)
		}
	}
	for _, h := range m.Health().Servers {
		if h.Attempts != 2 {
			var counts []string
			for _, h := range m.Health().Servers {
				counts = append(counts, fmt.Sprintf("%s=%d", h.Server, h.Attempts))
			}
			t.Fatalf("after %d ticks: attempts per server %v, want 2 each", 2*n, counts)
		}
	}
}

func TestServerKilledAndRestartedMidTraffic(t *testing.T) {
	srv := rSlowServer(t, amitest.Options{})
	addr := srv.Addr()
	m := rManager(t, rOne(addr, ami.Options{
		ReconnectBase:     20 * time.Millisecond,
		ReconnectMax:      100 * time.Millisecond,
		HeartbeatInterval: -1,
	}))
	rRun(t, m)
	c := m.Default()
	rPoll(t, "ready", rState(c, ami.StateReady))

	// Written and unanswered: their outcome will be unknown.
	var slow []*ami.Pending
	for range 20 {
		p, err := c.Send(rSlow)
		if err != nil {
			t.Fatal(err)
		}
		slow = append(slow, p)
	}
	conn1 := srv.Conns()[0]
	rPoll(t, "slow actions received", func() bool { return len(conn1.Actions()) >= 21 })

	// Traffic keeps flowing from another goroutine while the PBX dies.
	sender := rStartSender(c, func(n int, s rSent, stop <-chan struct{}) bool {
		switch {
		case s.err != nil:
			time.Sleep(100 * time.Microsecond) // pacing while not ready, not synchronisation
		case n%50 == 0:
			// At most ~50 in flight: the pending table must not fill up.
			select {
			case <-s.p.Done():
			case <-stop:
				return false
			}
		}
		return true
	})
	rPoll(t, "traffic", func() bool { return sender.Len() > 50 })
	srv.Close()
	for _, p := range slow {
		select {
		case <-p.Done():
		case <-rCtx(t).Done():
			t.Fatal("a pending action survived the loss of its connection")
		}
		_, err := p.Result()
		var cl *ami.ConnectionLostError
		if !errors.Is(err, ami.ErrConnectionLost) || !errors.As(err, &cl) || !cl.Written || ami.SafeToRetry(err) {
			t.Fatalf("written action after the kill: %v, want ConnectionLostError{Written: true}, not safe to retry", err)
		}
	}
	if err := srv.StartAt(addr); err != nil {
		t.Skipf("cannot restart on %s: %v", addr, err)
	}
	rPoll(t, "ready after restart", func() bool { return c.State() == ami.StateReady && c.Stats().Reconnects == 1 })
	if _, err := c.Do(rCtx(t), ami.Ping{}); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	traffic := sender.Stop()

	received := rReceivedIDs(srv)
	var ok, lost, purged, refused int
	for _, s := range traffic {
		if s.err != nil {
			if !ami.SafeToRetry(s.err) {
				t.Fatalf("Send refused with %v, which is not safe to retry", s.err)
			}
			refused++
			continue
		}
		select {
		case <-s.p.Done():
		case <-rCtx(t).Done():
			t.Fatalf("action %s never completed", s.p.ActionID())
		}
		_, err := s.p.Result()
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ami.ErrConnectionLost):
			lost++
			if ami.SafeToRetry(err) {
				purged++
				if received[s.p.ActionID()] {
					t.Fatalf("%s reached the PBX but is reported safe to retry: %v", s.p.ActionID(), err)
				}
			}
		default:
			t.Fatalf("Ping %s: %v", s.p.ActionID(), err)
		}
	}
	t.Logf("traffic: %d ok, %d lost (%d purged), %d refused while not ready", ok, lost, purged, refused)
	if ok == 0 {
		t.Fatal("no traffic succeeded")
	}
}

func TestCloseSendsLogoffAndFailsPending(t *testing.T) {
	a, b := rSlowServer(t, amitest.Options{}), rSlowServer(t, amitest.Options{})
	const shutdown = 2 * time.Second
	m := rManager(t, ami.Config{
		Servers: map[string]ami.ServerConfig{"a": rServer(a.Addr()), "b": rServer(b.Addr())},
		Options: ami.Options{ShutdownTimeout: shutdown, HeartbeatInterval: -1},
	})
	stop := rRun(t, m)
	rPoll(t, "all ready", func() bool { return m.Health().AllReady() })
	var pend []*ami.Pending
	for _, c := range m.Clients() {
		for range 5 {
			p, err := c.Send(rSlow)
			if err != nil {
				t.Fatal(err)
			}
			pend = append(pend, p)
		}
	}
	for _, s := range []*amitest.Server{a, b} {
		conn := s.Conns()[0]
		rPoll(t, "slow actions received", func() bool { return len(conn.Actions()) >= 6 })
	}

	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > shutdown {
		t.Fatalf("Close took %v, ShutdownTimeout %v, with PBXs that answer Logoff", el, shutdown)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run after Close: %v", err)
	}
	for _, s := range []*amitest.Server{a, b} {
		acts := s.Conns()[0].Actions()
		if last := acts[len(acts)-1]; !strings.EqualFold(last.Get("Action"), "Logoff") {
			t.Fatalf("last action %q, want Logoff", last.Get("Action"))
		}
	}
	for _, p := range pend {
		select {
		case <-p.Done():
		default:
			t.Fatalf("%s still pending after Close", p.ActionID())
		}
		_, err := p.Result()
		var ce *ami.ClosedError
		if !errors.Is(err, ami.ErrClosed) || !errors.As(err, &ce) || !ce.Written || ami.SafeToRetry(err) {
			t.Fatalf("pending at Close: %v, want ClosedError{Written: true}", err)
		}
	}
	for _, c := range m.Clients() {
		if st := c.State(); st != ami.StateClosed {
			t.Fatalf("%s: state %v after Close", c.Key(), st)
		}
		if _, err := c.Send(ami.Ping{}); err == nil {
			t.Fatal("Send accepted after Close")
		}
	}
	if _, err := m.Send(ami.Ping{}); !errors.Is(err, ami.ErrClosed) {
		t.Fatalf("Manager.Send after Close: %v, want ErrClosed", err)
	}
	if _, err := m.TickAll(time.Millisecond); !errors.Is(err, ami.ErrClosed) {
		t.Fatalf("TickAll after Close: %v, want ErrClosed", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestRunCancelLogsOffEveryReadyServer(t *testing.T) {
	var srvs []*amitest.Server
	cfg := ami.Config{Servers: map[string]ami.ServerConfig{}, Options: ami.Options{HeartbeatInterval: -1}}
	for i := range 3 {
		s := amitest.NewServer(t, amitest.Options{})
		srvs = append(srvs, s)
		cfg.Servers[fmt.Sprintf("pbx%d", i)] = rServer(s.Addr())
	}
	dead := rDeadAddr(t)
	cfg.Servers["zdown"] = rServer(dead)
	m := rManager(t, cfg)
	stop := rRun(t, m)
	rPoll(t, "3 ready", func() bool { return m.Health().Ready == 3 })
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Run took %v to shut down", el)
	}
	for i, s := range srvs {
		if _, err := s.Conns()[0].WaitAction(rCtx(t), "Logoff"); err != nil {
			t.Fatalf("server %d got no Logoff: %v", i, err)
		}
	}
	for _, h := range m.Health().Servers {
		if h.State != ami.StateClosed {
			t.Fatalf("%s: %v after Run returned", h.Server, h.State)
		}
	}
}

func TestCloseUnderLoadMeetsDeadline(t *testing.T) {
	// PBX "a" stopped reading: its write buffer is full and the Logoff can
	// never be flushed. PBX "b" floods events. Close must still return
	// within ShutdownTimeout (plus scheduling slack), failing what is left.
	a := rSlowServer(t, amitest.Options{ReadBufferSize: 4096})
	b := amitest.NewServer(t, amitest.Options{})
	const shutdown = 300 * time.Millisecond
	m := rManager(t, ami.Config{
		Servers: map[string]ami.ServerConfig{"a": rServer(a.Addr()), "b": rServer(b.Addr())},
		Options: ami.Options{ShutdownTimeout: shutdown, HeartbeatInterval: -1, WriteBufferSize: 64 << 10},
	})
	stop := rRun(t, m)
	rPoll(t, "all ready", func() bool { return m.Health().AllReady() })
	ca, _ := m.Server("a")

	a.SetReading(false)
	var pend []*ami.Pending
	rPoll(t, "a's write buffer full", func() bool {
		p, err := ca.Send(rPadded(4))
		if errors.Is(err, ami.ErrBackpressure) {
			return true
		}
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		pend = append(pend, p)
		return false
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	flooding := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		close(flooding)
		_, _ = b.Flood(ctx, amitest.Flood{Count: 10_000_000})
	}()
	t.Cleanup(wg.Wait)
	<-flooding
	cb, _ := m.Server("b")
	rPoll(t, "flood arriving", func() bool { return cb.Stats().EventsReceived > 1000 })

	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("Close under load took %v", el)
	if el > shutdown+1500*time.Millisecond {
		t.Fatalf("Close under load took %v, ShutdownTimeout %v", el, shutdown)
	}
	cancel()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var safe int
	for _, p := range pend {
		_, err := p.Result()
		if !errors.Is(err, ami.ErrClosed) {
			t.Fatalf("pending at Close: %v, want ErrClosed", err)
		}
		if ami.SafeToRetry(err) {
			safe++
		}
	}
	if safe == 0 {
		t.Fatal("no action reported as never written, yet the PBX read nothing of the last ones")
	}
	if st := ca.Stats(); st.BytesPurged == 0 {
		t.Fatalf("nothing purged from a's full write buffer: %+v", st)
	}
}
