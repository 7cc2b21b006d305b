package chaos_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// Credentials of amitest's default user.
const (
	testUser   = "admin"
	testSecret = "admin-secret"
)

// scenarioTimeout bounds every wait of a scenario. It is generous on
// purpose: the suite runs with -race on a noisy 2-core CI machine, and a
// healthy run finishes each wait in milliseconds.
const scenarioTimeout = 10 * time.Second

// testOptions are the options every scenario starts from: heartbeats and the
// read timeout are off (the scenarios control time themselves), reconnects
// are fast, and shutdown is short.
func testOptions() ami.Options {
	return ami.Options{
		HeartbeatInterval: -1,
		ReadTimeout:       -1,
		ReconnectBase:     10 * time.Millisecond,
		ReconnectMax:      100 * time.Millisecond,
		ShutdownTimeout:   time.Second,
	}
}

// quietLogger discards every record, so the scenarios' expected warnings do
// not flood the test output.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newManager builds a manager for the given PBX addresses, keyed by server
// key, with amitest's default credentials. The first key in sort order is
// the default server. The manager is closed by the test's cleanup.
func newManager(t testing.TB, addrs map[string]string, o ami.Options, mopts ...ami.ManagerOption) *ami.Manager {
	t.Helper()
	cfg := ami.Config{Servers: make(map[string]ami.ServerConfig, len(addrs)), Options: o}
	for key, addr := range addrs {
		cfg.Servers[key] = ami.ServerConfig{Address: addr, Username: testUser, Secret: testSecret}
	}
	m, err := ami.NewManager(cfg, append([]ami.ManagerOption{ami.WithLogger(quietLogger())}, mopts...)...)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

// one maps the usual single server key to the address of srv.
func one(srv *amitest.Server) map[string]string {
	return map[string]string{"pbx1": srv.Addr()}
}

// tickUntil drives m from the test goroutine with short TickAll calls until
// cond holds, and fails the test after timeout.
func tickUntil(t testing.TB, m *ami.Manager, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; stats: %s", timeout, what, statsString(m))
		}
		if _, err := m.TickAll(5 * time.Millisecond); err != nil {
			t.Fatalf("TickAll while waiting for %s: %v", what, err)
		}
	}
}

// tickFor drives m for a while (real time), for the checks that something
// does NOT happen again.
func tickFor(t testing.TB, m *ami.Manager, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if _, err := m.TickAll(5 * time.Millisecond); err != nil {
			t.Fatalf("TickAll: %v", err)
		}
	}
}

// eventually polls cond until it holds, and fails the test after timeout.
// It is for conditions driven by other goroutines (Run, a fake PBX); use
// tickUntil when the test goroutine drives the manager.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(2 * time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-poll.C:
		}
	}
}

// waitReady ticks until every server of m is Ready.
func waitReady(t testing.TB, m *ami.Manager) {
	t.Helper()
	tickUntil(t, m, scenarioTimeout, "every server Ready", func() bool { return m.Health().AllReady() })
}

// isDone reports whether p completed.
func isDone(p *ami.Pending) func() bool {
	return func() bool {
		select {
		case <-p.Done():
			return true
		default:
			return false
		}
	}
}

// allDone reports whether every pending action completed.
func allDone(ps []*ami.Pending) func() bool {
	return func() bool {
		for _, p := range ps {
			if !isDone(p)() {
				return false
			}
		}
		return true
	}
}

// runManager runs m.Run on its own goroutine until the test ends.
func runManager(t testing.TB, m *ami.Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// frame joins header lines into one frame with the given line ending.
func frame(eol string, lines ...string) []byte {
	return []byte(strings.Join(lines, eol) + eol + eol)
}

// connOf returns the live connection of srv (the last one accepted).
func connOf(t testing.TB, srv *amitest.Server) *amitest.Conn {
	t.Helper()
	conns := srv.Conns()
	if len(conns) == 0 {
		t.Fatal("the fake PBX has no connection")
	}
	return conns[len(conns)-1]
}

// eventLog collects the events a listener receives; it is safe for
// concurrent use (listeners run on the tick goroutine, the test may read
// from another). It skips the events amitest sends after every login
// (FullyBooted, SuccessfulAuth), which belong to no scenario.
type eventLog struct {
	mu     sync.Mutex
	events []*ami.Event
}

func (l *eventLog) add(e *ami.Event) {
	switch e.Name() {
	case "FullyBooted", "SuccessfulAuth":
		return
	}
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []*ami.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// heapWatch samples the live heap to check that hostile input does not make
// memory grow with its size.
type heapWatch struct {
	base, peak uint64
}

// newHeapWatch records the baseline after a full collection.
func newHeapWatch() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &heapWatch{base: ms.HeapInuse, peak: ms.HeapInuse}
}

// sample records the current heap in use.
func (h *heapWatch) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapInuse)
}

// growth is the peak heap in use above the baseline.
func (h *heapWatch) growth() uint64 { return h.peak - min(h.peak, h.base) }

// statsString formats the counters of every server for failure messages.
func statsString(m *ami.Manager) string {
	var b strings.Builder
	for _, s := range m.Stats().Servers {
		fmt.Fprintf(&b, "[%s %s pending=%d sent=%d ok=%d failed=%d unmatched=%d events=%d/%d/%d desyncs=%d proto=%d reconnects=%d] ",
			s.Server, s.State, s.Pending, s.ActionsSent, s.ActionsCompleted, s.ActionsFailed, s.UnmatchedResponses,
			s.EventsReceived, s.EventsDispatched, s.EventsDropped, s.Desyncs, s.ProtocolErrors, s.Reconnects)
	}
	return b.String()
}

// waitLoginEvents ticks until the two events amitest sends after every
// login (FullyBooted, SuccessfulAuth) were received, so that scenarios
// counting events start from a settled base.
func waitLoginEvents(t testing.TB, m *ami.Manager, c *ami.Client) {
	t.Helper()
	tickUntil(t, m, scenarioTimeout, "the login events", func() bool { return c.Stats().EventsReceived >= 2 })
}
