package ami_test

// Helpers of the resilience, routing, invariant, timeout-contract and
// logging tests. Names carry an "r" prefix to stay clear of the other test
// helpers of the package.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/internal/clock"
)

// rWait bounds every wait of these tests: generous for a noisy 2-core CI.
const rWait = 10 * time.Second

// rT0 is the start of every fake clock.
var rT0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// rFake returns a fake clock and the option that installs it.
func rFake() (*clock.Fake, ami.ManagerOption) {
	f := clock.NewFake(rT0)
	return f, ami.WithNow(f.Now)
}

// rDiscard is a logger that drops everything.
func rDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// rServer is the config of an amitest server with its default user.
func rServer(addr string) ami.ServerConfig {
	return ami.ServerConfig{Address: addr, Username: "admin", Secret: "admin-secret"}
}

// rManager builds a manager (quiet logger first, so opts may replace it)
// and closes it at cleanup.
func rManager(t testing.TB, cfg ami.Config, opts ...ami.ManagerOption) *ami.Manager {
	t.Helper()
	opts = append([]ami.ManagerOption{ami.WithLogger(rDiscard())}, opts...)
	m, err := ami.NewManager(cfg, opts...)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// rOne is a config with one server "pbx".
func rOne(addr string, o ami.Options) ami.Config {
	return ami.Config{Servers: map[string]ami.ServerConfig{"pbx": rServer(addr)}, Options: o}
}

// rDeadAddr returns a loopback address nobody listens on (a listener that
// was closed), so dials are refused at once.
func rDeadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// rTickUntil ticks m from the test goroutine (short real waits) until cond
// holds, failing the test after rWait. It returns the summed summaries.
func rTickUntil(t testing.TB, m *ami.Manager, what string, cond func() bool) ami.TickSummary {
	t.Helper()
	var total ami.TickSummary
	deadline := time.Now().Add(rWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; health: %+v", what, m.Health())
		}
		s, err := m.TickAll(2 * time.Millisecond)
		if err != nil {
			t.Fatalf("TickAll: %v", err)
		}
		total.ConnectAttempts += s.ConnectAttempts
		total.StateChanges += s.StateChanges
		total.BytesRead += s.BytesRead
	}
	return total
}

// rPoll waits, without driving any manager, until cond holds.
func rPoll(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(rWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

// rState returns a condition: the client is in state s.
func rState(c *ami.Client, s ami.State) func() bool {
	return func() bool { return c.State() == s }
}

// rRun runs m.Run on a goroutine; the returned stop cancels it and returns
// Run's error. Cleanup stops it too.
func rRun(t testing.TB, m *ami.Manager) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// rCtx is a context bounded by rWait, cancelled at cleanup.
func rCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), rWait)
	t.Cleanup(cancel)
	return ctx
}

// rLogBuf is a goroutine-safe buffer for a slog JSON handler.
type rLogBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *rLogBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records parses every JSON line written so far.
func (b *rLogBuf) records(t testing.TB) []map[string]any {
	t.Helper()
	b.mu.Lock()
	data := append([]byte(nil), b.buf.Bytes()...)
	b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, rec)
	}
	return out
}

// withMsg returns the records whose message is msg.
func (b *rLogBuf) withMsg(t testing.TB, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range b.records(t) {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// rJSONLogger logs everything (debug included) as JSON lines into a new buffer.
func rJSONLogger() (*rLogBuf, ami.ManagerOption) {
	b := &rLogBuf{}
	h := slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
	return b, ami.WithLogger(slog.New(h))
}

// rInt reads an integer attribute of a JSON log record.
func rInt(t testing.TB, rec map[string]any, key string) int64 {
	t.Helper()
	n, ok := rec[key].(json.Number)
	if !ok {
		t.Fatalf("record %v: %s is %T, want a number", rec, key, rec[key])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("record %v: %s: %v", rec, key, err)
	}
	return v
}

// rTime reads a time attribute of a JSON log record.
func rTime(t testing.TB, rec map[string]any, key string) time.Time {
	t.Helper()
	s, ok := rec[key].(string)
	if !ok {
		t.Fatalf("record %v: %s is %T, want a string", rec, key, rec[key])
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("record %v: %s: %v", rec, key, err)
	}
	return v
}

// rTickMetrics counts ticks and remembers, for each tick, how long it
// waited and whether the tick before it made progress (seen through the
// per-event and per-action metrics, which only run inside a tick).
type rTickMetrics struct {
	ami.NopMetrics
	ticks    atomic.Int64
	progress atomic.Bool // set by work seen during the current tick

	mu      sync.Mutex
	record  bool
	prevHad bool
	after   []time.Duration // waits of ticks that followed a progress tick
}

func (m *rTickMetrics) EventReceived(string, string) { m.progress.Store(true) }
func (m *rTickMetrics) ActionDone(string, string, time.Duration, string) {
	m.progress.Store(true)
}

func (m *rTickMetrics) Tick(_, waited time.Duration) {
	m.ticks.Add(1)
	had := m.progress.Swap(false)
	m.mu.Lock()
	if m.record && m.prevHad {
		m.after = append(m.after, waited)
	}
	m.prevHad = had
	m.mu.Unlock()
}

// setRecording starts (or stops) recording the waits after progress ticks.
func (m *rTickMetrics) setRecording(on bool) {
	m.mu.Lock()
	m.record = on
	m.mu.Unlock()
}

func (m *rTickMetrics) waitsAfterProgress() []time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]time.Duration(nil), m.after...)
}

// rSender calls c.Send(ami.Ping{}) over and over on its own goroutine,
// keeping every outcome, until Stop or until next returns false. next sees
// the number of attempts so far and the latest one; it may pace the loop
// (waiting on stop for an early exit).
type rSender struct {
	mu   sync.Mutex
	sent []rSent
	stop chan struct{}
	wg   sync.WaitGroup
}

func rStartSender(c *ami.Client, next func(n int, s rSent, stop <-chan struct{}) bool) *rSender {
	r := &rSender{stop: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			select {
			case <-r.stop:
				return
			default:
			}
			p, err := c.Send(ami.Ping{})
			r.mu.Lock()
			r.sent = append(r.sent, rSent{p, err})
			n := len(r.sent)
			r.mu.Unlock()
			if !next(n, rSent{p, err}, r.stop) {
				return
			}
		}
	}()
	return r
}

// Len is the number of attempts so far.
func (r *rSender) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

// Stop ends the loop and returns every outcome.
func (r *rSender) Stop() []rSent {
	close(r.stop)
	r.wg.Wait()
	return r.sent
}
