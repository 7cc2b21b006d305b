package ami_test

// Review tests: each one reproduces a bug found in review.

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// TestReviewAuthPhaseFailureCountsOnce: a connection that fails while the
// login is pending (auth timeout, or the PBX closing the socket) is one
// failed attempt: one Failure for the breaker (paired with the one Allow of
// the dial), one ConnectFailure, one backoff step. The login's own
// ConnectionLostError must not count a second failure.
func TestReviewAuthPhaseFailureCountsOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		login func(w *amitest.ResponseWriter, r *amitest.Request)
		fail  func(fakeAdvance func(time.Duration))
	}{
		{
			name:  "auth timeout",
			login: func(w *amitest.ResponseWriter, _ *amitest.Request) { w.Ignore() },
			fail:  func(adv func(time.Duration)) { adv(time.Second) },
		},
		{
			name:  "closed during login",
			login: func(w *amitest.ResponseWriter, r *amitest.Request) { r.Conn.Close() },
			fail:  func(func(time.Duration)) {},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := amitest.NewServer(t, amitest.Options{})
			srv.Handle("Login", tc.login)
			fake, now := rFake()
			m := rManager(t, rOne(srv.Addr(), ami.Options{
				AuthTimeout:       time.Second,
				ReconnectBase:     100 * time.Millisecond,
				ReconnectMax:      10 * time.Second,
				ReconnectJitter:   -1,
				BreakerThreshold:  2,
				BreakerCooldown:   time.Minute,
				HeartbeatInterval: -1,
			}), now)
			c := m.Default()
			rTickUntil(t, m, "login sent", rState(c, ami.StateAuthenticating))
			tc.fail(fake.Advance)
			rTickUntil(t, m, "auth failure", rState(c, ami.StateReconnecting))
			m.Poll()
			h := c.Health()
			if f := c.Stats().ConnectFailures; f != 1 {
				t.Errorf("ConnectFailures = %d after one failed attempt, want 1", f)
			}
			if h.Breaker != "closed" {
				t.Errorf("breaker %q after 1 failure with threshold 2, want closed", h.Breaker)
			}
			if d := h.NextRetry.Sub(fake.Now()); d != 100*time.Millisecond {
				t.Errorf("next retry in %v after the first failed attempt, want ReconnectBase", d)
			}
		})
	}
}

// sessionGoroutines counts the live reader and writer goroutines of
// connection sessions.
func sessionGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/session.(*Session).readLoop") ||
			strings.Contains(g, "internal/session.(*Session).writeLoop") {
			n++
		}
	}
	return n
}

// TestReviewCloseRefusedLogoffFailsPendingWithClosedError: when Close
// cannot queue the Logoff (write buffer full: the PBX stopped reading), the
// close is non-graceful, but the actions still pending are failed by Close
// and must get *ClosedError (the contract), not *ConnectionLostError; and
// the session's goroutines have ended when Close returns.
func TestReviewCloseRefusedLogoffFailsPendingWithClosedError(t *testing.T) {
	srv := rSlowServer(t, amitest.Options{ReadBufferSize: 4096})
	m, err := ami.NewManager(rOne(srv.Addr(), ami.Options{
		HeartbeatInterval: -1,
		WriteBufferSize:   64 << 10,
		ShutdownTimeout:   time.Second,
	}), ami.WithLogger(rDiscard()))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Default()
	rTickUntil(t, m, "ready", rState(c, ami.StateReady))
	srv.SetReading(false)
	var pend []*ami.Pending
	deadline := time.Now().Add(rWait)
	// Fill the buffer with big frames, then with small ones (shorter than
	// a Logoff), so that not even the Logoff fits.
	for _, a := range []ami.Action{rPadded(4), rSlow} {
		for {
			p, err := c.Send(a)
			if errors.Is(err, ami.ErrBackpressure) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			pend = append(pend, p)
			if time.Now().After(deadline) {
				t.Fatal("write buffer never filled")
			}
			m.Poll()
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range pend {
		_, err := p.Result()
		var ce *ami.ClosedError
		if !errors.As(err, &ce) {
			t.Fatalf("pending at Close: %v (%T), want *ClosedError", err, err)
		}
	}
}

// TestReviewNoActionQueuedAfterLogoff: Close queues the Logoff as the last
// frame of a Ready connection. A Send racing Close must either land before
// the Logoff or be refused (NotReadyError, safe to retry): an action queued
// behind the Logoff is written to a session that is going away, and fails
// as "written, outcome unknown" although the PBX never ran it.
func TestReviewNoActionQueuedAfterLogoff(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	// Answer the Logoff without closing, so that the server keeps reading
	// and records whatever the client writes after it.
	srv.Handle("Logoff", func(w *amitest.ResponseWriter, _ *amitest.Request) {
		w.Respond(amitest.H("Response", "Goodbye"), amitest.H("Message", "Thanks for all the fish."))
	})
	rounds := 100
	if testing.Short() {
		rounds = 20
	}
	for round := range rounds {
		m, err := ami.NewManager(rOne(srv.Addr(), ami.Options{
			HeartbeatInterval: -1,
			ShutdownTimeout:   20 * time.Millisecond,
		}), ami.WithLogger(rDiscard()))
		if err != nil {
			t.Fatal(err)
		}
		c := m.Default()
		rTickUntil(t, m, "ready", rState(c, ami.StateReady))
		var stop atomic.Bool
		var wg sync.WaitGroup
		started := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			once := sync.OnceFunc(func() { close(started) })
			for !stop.Load() {
				_, _ = c.Send(ami.Ping{})
				once()
			}
		}()
		<-started
		_ = m.Close()
		stop.Store(true)
		wg.Wait()
		conn := srv.Conns()[round]
		rPoll(t, "connection closed", conn.Closed)
		acts := conn.Actions()
		for i, a := range acts {
			if strings.EqualFold(a.Get("Action"), "Logoff") && i != len(acts)-1 {
				t.Fatalf("round %d: %d action(s) written after the Logoff, first %q", round, len(acts)-1-i, acts[i+1].Get("Action"))
			}
		}
	}
}

// TestReviewGeneratedActionIDNeverReplacesPending: a caller-chosen
// ActionID may look like a generated one. The next generated ActionID must
// not silently replace that pending action in the table: the replaced one
// would never complete, not even by its timeout.
func TestReviewGeneratedActionIDNeverReplacesPending(t *testing.T) {
	srv := rSlowServer(t, amitest.Options{})
	fake, now := rFake()
	m := rManager(t, rOne(srv.Addr(), ami.Options{HeartbeatInterval: -1, ReadTimeout: -1}), now)
	c := m.Default()
	rTickUntil(t, m, "ready", rState(c, ami.StateReady))
	p0, err := c.Send(rSlow)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(p0.ActionID(), ':')
	var seq int
	if _, err := fmt.Sscan(p0.ActionID()[i+1:], &seq); err != nil {
		t.Fatalf("ActionID %q: %v", p0.ActionID(), err)
	}
	next := fmt.Sprintf("%s%d", p0.ActionID()[:i+1], seq+1)
	mine, err := c.Send(rSlow, ami.WithActionID(next), ami.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	gen, err := c.Send(rSlow, ami.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if gen.ActionID() == mine.ActionID() {
		t.Errorf("generated ActionID %q equals a pending caller-chosen one", gen.ActionID())
	}
	fake.Advance(2 * time.Second)
	m.Poll()
	for _, p := range []*ami.Pending{mine, gen} {
		select {
		case <-p.Done():
			if _, err := p.Result(); !errors.Is(err, ami.ErrActionTimeout) {
				t.Errorf("%s: %v, want a timeout", p.ActionID(), err)
			}
		default:
			t.Errorf("%s still pending after its timeout", p.ActionID())
		}
	}
}

// TestReviewCloseReadsLastBytesBeforeTheEnd: during Close, the PBX answers
// the last pending action and the Logoff, then closes. If those bytes
// arrive while Close is dispatching events (a handler taking its time) and
// the connection's goroutines end before Close looks at them again, the
// bytes must still be read: the action succeeded and must not be reported
// as failed by Close ("written, outcome unknown").
func TestReviewCloseReadsLastBytesBeforeTheEnd(t *testing.T) {
	srv := rSlowServer(t, amitest.Options{})
	slow := make(chan *amitest.ResponseWriter, 1)
	srv.Handle("Slow", func(w *amitest.ResponseWriter, _ *amitest.Request) { slow <- w })
	entered := make(chan struct{})
	srv.Handle("Logoff", func(w *amitest.ResponseWriter, r *amitest.Request) {
		// An event, then (once its handler runs) the answer to Slow, the
		// Goodbye and the close.
		_ = r.Conn.SendFrame(amitest.H("Event", "Block"))
		select {
		case <-entered:
		case <-time.After(rWait):
		}
		(<-slow).Success(amitest.H("Message", "done"))
		w.Default()
	})
	m, err := ami.NewManager(rOne(srv.Addr(), ami.Options{HeartbeatInterval: -1, ShutdownTimeout: 5 * time.Second}),
		ami.WithLogger(rDiscard()))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Default()
	c.OnEvent("Block", func(*ami.Event) {
		close(entered)
		// Wait for the server's last bytes and close to be taken in by
		// the connection's goroutines, and for those to end.
		deadline := time.Now().Add(rWait)
		for sessionGoroutines() > 0 && time.Now().Before(deadline) {
			runtime.Gosched()
		}
	})
	rTickUntil(t, m, "ready", rState(c, ami.StateReady))
	p, err := c.Send(rSlow)
	if err != nil {
		t.Fatal(err)
	}
	rTickUntil(t, m, "Slow received", func() bool { return len(slow) == 1 })
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if res, err := p.Result(); err != nil || res.Get("Message") != "done" {
		t.Fatalf("Slow answered before the close: %v, %v; want its answer", res, err)
	}
}

// TestReviewByteCountersAreExact: ServerStats claims exact counters. The
// bytes of the chunk that ends a connection (a refused login) must count
// as read, and the bytes written at the end of a connection (the Logoff of
// Close) as written.
func TestReviewByteCountersAreExact(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		srv := amitest.NewServer(t, amitest.Options{})
		_, now := rFake()
		cfg := rOne(srv.Addr(), ami.Options{HeartbeatInterval: -1, ReconnectBase: time.Minute, ReconnectMax: time.Minute})
		sc := cfg.Servers["pbx"]
		sc.Secret = "wrong"
		cfg.Servers["pbx"] = sc
		m := rManager(t, cfg, now)
		c := m.Default()
		rTickUntil(t, m, "login refused", func() bool {
			return c.State() == ami.StateReconnecting && len(srv.Conns()) == 1 && srv.Conns()[0].Closed()
		})
		if got, want := c.Stats().BytesRead, uint64(srv.Stats().BytesSent); got != want {
			t.Fatalf("BytesRead = %d, the server sent %d", got, want)
		}
	})
	t.Run("written", func(t *testing.T) {
		srv := amitest.NewServer(t, amitest.Options{})
		m, err := ami.NewManager(rOne(srv.Addr(), ami.Options{HeartbeatInterval: -1}), ami.WithLogger(rDiscard()))
		if err != nil {
			t.Fatal(err)
		}
		c := m.Default()
		rTickUntil(t, m, "ready", rState(c, ami.StateReady))
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		conn := srv.Conns()[0]
		if _, err := conn.WaitAction(rCtx(t), "Logoff"); err != nil {
			t.Fatal(err)
		}
		if got, want := c.Stats().BytesWritten, uint64(conn.ReceivedCount()); got != want {
			t.Fatalf("BytesWritten = %d, the server received %d", got, want)
		}
	})
}
