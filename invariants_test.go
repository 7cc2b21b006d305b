package ami_test

// Runtime invariants (issue #4), one acceptance test each; see
// docs/runtime-contract.md. Invariant 5 (the tick timeout contract) is in
// timeout_contract_test.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// Invariant 1: stale outbound bytes never cross a reconnect. Enforced by
// Client.dropSession (client_conn.go: the session, its write buffer and the
// pending table are detached together, the buffer purged and every pending
// action failed) and by internal/session (a WriteBuffer belongs to one
// connection; Close(false) purges before closing).
//
// Breaking it looks like (both checked once with go test -overlay): a
// session whose Close(false) does not purge ("BytesPurged = 0"); a pending
// table kept across the epoch in dropSession/pollDial (the old actions time
// out instead of failing with ErrConnectionLost). A write buffer owned by
// the client and replayed on the new connection would put old ActionIDs on
// the second connection, which the byte check below catches.

type rSent struct {
	p   *ami.Pending
	err error
}

// rStaleBytesRound fills the client's write buffer against a PBX that
// stopped reading, cuts the connection, lets the client reconnect and
// checks what the second connection received. With racer, another
// goroutine keeps calling Send through the cut and the reconnect.
//
// It returns how many actions of the first epoch were purged unwritten.
// Both outcomes keep the invariant; callers that need the purge path
// exercised run rounds until one purges (see TestInvariantStaleBytesNeverCrossReconnect).
func rStaleBytesRound(t *testing.T, racer bool) (purgedActions int) {
	srv := amitest.NewServer(t, amitest.Options{ReadBufferSize: 4096})
	m := rManager(t, rOne(srv.Addr(), ami.Options{
		WriteBufferSize:   64 << 10,
		HeartbeatInterval: -1,
		ReadTimeout:       -1,
		ReconnectBase:     2 * time.Millisecond,
		ReconnectMax:      10 * time.Millisecond,
		BreakerThreshold:  1000,
	}))
	stopRun := rRun(t, m)
	c := m.Default()
	rPoll(t, "ready", rState(c, ami.StateReady))

	srv.SetReading(false)
	old := rFillStuck(t, c)
	if c.Stats().WriteBuffered == 0 {
		t.Fatal("nothing stuck in the write buffer")
	}

	var sender *rSender
	if racer {
		sender = rStartSender(c, func(n int, _ rSent, _ <-chan struct{}) bool {
			return c.Stats().Reconnects == 0 && n < 20_000 // a few sends on the new epoch are enough
		})
	}

	srv.CloseClientConnections()
	srv.SetReading(true)
	if err := srv.Ready(rCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	rPoll(t, "ready again", func() bool { return c.State() == ami.StateReady && c.Stats().Reconnects == 1 })
	var fresh []string
	for range 3 {
		res, err := c.Do(rCtx(t), ami.Ping{})
		if err != nil {
			t.Fatalf("Ping after the reconnect: %v", err)
		}
		fresh = append(fresh, res.ActionID)
	}
	var raced []rSent
	if sender != nil {
		raced = sender.Stop()
	}

	// Every action of the first epoch failed with ErrConnectionLost.
	lost := map[string]bool{}
	purged := 0
	for _, p := range old {
		select {
		case <-p.Done():
		case <-rCtx(t).Done():
			t.Fatalf("%s of the old epoch never completed", p.ActionID())
		}
		_, err := p.Result()
		if !errors.Is(err, ami.ErrConnectionLost) {
			t.Fatalf("%s of the old epoch: %v, want ErrConnectionLost", p.ActionID(), err)
		}
		lost[p.ActionID()] = true
		if ami.SafeToRetry(err) {
			purged++
		}
	}
	newIDs := map[string]bool{}
	for _, id := range fresh {
		newIDs[id] = true
	}
	for _, s := range raced {
		if s.err != nil {
			if !ami.SafeToRetry(s.err) {
				t.Fatalf("racing Send refused with %v, not safe to retry", s.err)
			}
			continue
		}
		select {
		case <-s.p.Done():
		case <-rCtx(t).Done():
			t.Fatalf("racing %s never completed", s.p.ActionID())
		}
		switch _, err := s.p.Result(); {
		case err == nil:
			newIDs[s.p.ActionID()] = true
		case errors.Is(err, ami.ErrConnectionLost):
			lost[s.p.ActionID()] = true
		default:
			t.Fatalf("racing Ping %s: %v", s.p.ActionID(), err)
		}
	}
	// Purged bytes and purged (safe-to-retry) actions go together. Whether
	// any were left unwritten depends on the scheduler: a writer that was
	// only descheduled while rFillStuck watched it can still hand the whole
	// buffer to the kernel before the cut.
	st := c.Stats()
	if (st.BytesPurged == 0) != (purged == 0) {
		t.Fatalf("BytesPurged = %d but %d actions purged", st.BytesPurged, purged)
	}

	// The second connection got the new login first, then only actions
	// sent after Ready.
	conns := srv.Conns()
	if len(conns) != 2 {
		t.Fatalf("%d connections, want 2", len(conns))
	}
	recv := conns[1].Received()
	if !bytes.HasPrefix(recv, []byte("Action: Login\r\n")) {
		t.Fatalf("second connection starts with %q, want the Login", recv[:min(len(recv), 40)])
	}
	acts := conns[1].Actions()
	if login := acts[0]; !strings.EqualFold(login.Get("Action"), "Login") || login.Get("Events") == "" {
		t.Fatalf("first action %v, want Login with an event mask", login.Headers)
	}
	for id := range lost {
		if bytes.Contains(recv, []byte("ActionID: "+id+"\r\n")) {
			t.Fatalf("ActionID %s of the lost epoch crossed the reconnect", id)
		}
	}
	if len(acts)-1 != len(newIDs) {
		t.Fatalf("second connection carried %d actions after the Login, %d were sent after Ready", len(acts)-1, len(newIDs))
	}
	for _, a := range acts[1:] {
		if !newIDs[a.ActionID()] {
			t.Fatalf("second connection carried %s %s, not sent after Ready", a.Get("Action"), a.ActionID())
		}
	}
	if err := stopRun(); err != nil {
		t.Fatal(err)
	}
	return purged
}

// rFillStuck sends padded actions to a PBX that stopped reading until the
// client's writer is stuck in a socket write and more bytes wait behind it
// in the write buffer (up to ErrBackpressure). While the socket still
// drains it sends in bursts of half the write buffer (64 KiB) and waits for
// the writer: a writer stuck with a full buffer taken in one write would
// leave nothing unwritten to purge.
func rFillStuck(t *testing.T, c *ami.Client) []*ami.Pending {
	t.Helper()
	var sent []*ami.Pending
	send := func() bool {
		p, err := c.Send(rPadded(4))
		if errors.Is(err, ami.ErrBackpressure) {
			return false
		}
		if err != nil {
			t.Fatalf("Send while filling: %v", err)
		}
		sent = append(sent, p)
		return true
	}
	// quiet reports whether WriteBuffered stays at least at its current
	// value for d: the writer did not drain anything.
	quiet := func(d time.Duration) bool {
		wb := c.Stats().WriteBuffered
		until := time.Now().Add(d)
		for time.Now().Before(until) {
			if c.Stats().WriteBuffered < wb {
				return false
			}
			time.Sleep(20 * time.Microsecond) // polling interval
		}
		return wb > 0
	}
	deadline := time.Now().Add(rWait)
	for {
		if time.Now().After(deadline) {
			t.Fatal("the socket never filled up")
		}
		for range 8 { // 8 x 4 KiB: half the write buffer
			send()
		}
		if !quiet(20 * time.Millisecond) {
			continue // the socket still takes bytes
		}
		// The writer seems stuck: fill up behind it, then make sure it
		// really is (a writer merely descheduled would drain now).
		for send() {
		}
		if quiet(30 * time.Millisecond) {
			return sent
		}
	}
}

// The purge path must be exercised: rounds run until one of them purged
// unwritten actions (the first one does, unless a loaded machine
// deschedules the writer at the wrong moment).
func TestInvariantStaleBytesNeverCrossReconnect(t *testing.T) {
	for round := 1; round <= 5; round++ {
		var purged int
		t.Run("", func(t *testing.T) { purged = rStaleBytesRound(t, false) })
		if t.Failed() || purged > 0 {
			return
		}
		t.Logf("round %d purged nothing (writer not stuck at the cut); again", round)
	}
	t.Fatal("5 rounds and the write buffer was never purged")
}

func TestInvariantStaleBytesRacingSend(t *testing.T) {
	rounds := 50
	if testing.Short() {
		rounds = 10
	}
	start := time.Now()
	for i := range rounds {
		t.Run("", func(t *testing.T) { rStaleBytesRound(t, true) })
		if t.Failed() {
			t.Fatalf("round %d failed", i)
		}
	}
	t.Logf("%d rounds in %v", rounds, time.Since(start))
}

// Invariant 2: tick-path logging never blocks. Enforced by internal/logsink
// (Handler.Handle only pushes a clone into a bounded ring, one writer
// goroutine calls the real handler) wrapped around every logger in
// NewManager (manager.go).
//
// Breaking it looks like: handing records to the user's handler on the tick
// goroutine (m.log = slog.New(redactHandler) without the logsink): the
// first record blocks the tick forever and the test fails after 60s.

// rBlockingHandler blocks every Handle until release is closed.
type rBlockingHandler struct {
	entered chan struct{} // closed by the first Handle
	once    *sync.Once
	release chan struct{}
}

func newBlockingHandler() *rBlockingHandler {
	return &rBlockingHandler{entered: make(chan struct{}), once: &sync.Once{}, release: make(chan struct{})}
}

func (h *rBlockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *rBlockingHandler) Handle(context.Context, slog.Record) error {
	h.once.Do(func() { close(h.entered) })
	<-h.release
	return nil
}
func (h *rBlockingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *rBlockingHandler) WithGroup(string) slog.Handler      { return h }

// rLogDropMetrics adds up the drops the manager reports (after ticks and at Close).
type rLogDropMetrics struct {
	ami.NopMetrics
	dropped atomic.Int64
}

func (m *rLogDropMetrics) LogRecordsDropped(n int) { m.dropped.Add(int64(n)) }

func TestInvariantLoggingNeverBlocksTicks(t *testing.T) {
	srv := rSlowServer(t, amitest.Options{})
	sink := newBlockingHandler()
	fake, now := rFake()
	met := &rLogDropMetrics{}
	m := rManager(t, rOne(srv.Addr(), ami.Options{
		HeartbeatInterval: -1,
		ReadTimeout:       -1,
		LogBufferSize:     16,
		ShutdownTimeout:   100 * time.Millisecond,
	}), now, ami.WithLogger(slog.New(sink)), ami.WithMetrics(met))
	t.Cleanup(func() { close(sink.release) }) // runs before the manager's Close
	c := m.Default()
	rTickUntil(t, m, "ready", rState(c, ami.StateReady))
	select {
	case <-sink.entered:
	case <-rCtx(t).Done():
		t.Fatal("nothing logged while connecting")
	}

	// Every tick fails an action by timeout, which logs "ami: action failed".
	// The ticks run on their own goroutine so that a blocked tick fails the
	// test instead of hanging it (the cleanup then releases the sink).
	const ticks = 100_000
	var abort atomic.Bool
	type outcome struct {
		el, slowest time.Duration
		err         error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		start := time.Now()
		for i := 0; i < ticks && !abort.Load(); i++ {
			if _, err := c.Send(rSlow, ami.WithTimeout(time.Millisecond)); err != nil {
				o.err = fmt.Errorf("tick %d: Send: %w", i, err)
				break
			}
			fake.Advance(time.Millisecond)
			t0 := time.Now()
			s := m.Poll()
			o.slowest = max(o.slowest, time.Since(t0))
			if s.ActionsCompleted != 1 {
				o.err = fmt.Errorf("tick %d completed %d actions, want the one that timed out", i, s.ActionsCompleted)
				break
			}
		}
		o.el = time.Since(start)
		done <- o
	}()
	var o outcome
	select {
	case o = <-done:
	case <-time.After(60 * time.Second):
		abort.Store(true)
		t.Fatalf("%d ticks did not finish in 60s: logging blocks the tick", ticks)
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	t.Logf("%d ticks with logging in %v (slowest %v)", ticks, o.el, o.slowest)
	if o.slowest > 2*time.Second {
		t.Fatalf("slowest tick %v: logging blocked the tick", o.slowest)
	}

	produced, delivered, dropped := m.LogSinkStats()
	if produced < ticks {
		t.Fatalf("%d records produced over %d ticks that each log", produced, ticks)
	}
	if delivered != 0 {
		t.Fatalf("%d records delivered to a sink blocked on its first record", delivered)
	}
	if queued := produced - delivered - dropped; queued > 16+1 {
		t.Fatalf("produced %d, delivered %d, dropped %d: %d unaccounted for, queue holds 16 (+1 in the sink)",
			produced, delivered, dropped, queued)
	}
	if got := m.Stats().LogRecordsDropped; got != dropped {
		t.Fatalf("ManagerStats.LogRecordsDropped = %d, sink dropped %d", got, dropped)
	}

	// Close gives up on the blocked sink within its deadline; after it the
	// books balance exactly.
	closeStart := time.Now()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(closeStart); el > 5*time.Second {
		t.Fatalf("Close with a blocked log sink took %v", el)
	}
	produced, delivered, dropped = m.LogSinkStats()
	if produced != delivered+dropped {
		t.Fatalf("after Close: produced %d != delivered %d + dropped %d", produced, delivered, dropped)
	}
	if got := m.Stats().LogRecordsDropped; got != dropped || met.dropped.Load() != int64(dropped) {
		t.Fatalf("dropped: sink %d, ManagerStats %d, Metrics %d", dropped, got, met.dropped.Load())
	}
}

// Invariant 3: event-drop warnings are coalesced and the counters stay
// exact. Enforced in client_read.go: enqueue counts every drop,
// maybeWarnDrops logs at most DropWarnMax warnings per DropWarnInterval
// (carrying dropped_delta), flushDropWarning reports the rest at Close.
//
// Breaking it looks like: a warning per dropped event (hundreds of
// thousands of records: the per-window check fails), or a delta reset
// without being logged (the sum of deltas falls short of EventsDropped).

// rDrainLogs waits until the manager's log handler has handed every record
// produced so far to the sink.
func rDrainLogs(t *testing.T, m *ami.Manager) {
	t.Helper()
	rPoll(t, "log records delivered", func() bool {
		p, d, x := m.LogSinkStats()
		return p == d+x
	})
}

func TestInvariantEventDropWarningsCoalesced(t *testing.T) {
	const (
		flood    = 200_000
		capacity = 1000
		interval = time.Second
		maxWarns = 2
		step     = 100 * time.Millisecond
	)
	srv := amitest.NewServer(t, amitest.Options{})
	logs, logOpt := rJSONLogger()
	fake, now := rFake()
	m := rManager(t, rOne(srv.Addr(), ami.Options{
		EventQueueCapacity: capacity,
		MaxEventsPerTick:   1,
		MaxFramesPerTick:   1000,
		DropWarnInterval:   interval,
		DropWarnMax:        maxWarns,
		HeartbeatInterval:  -1,
		ReadTimeout:        -1,
		LogBufferSize:      100_000,
	}), now, logOpt)
	c := m.Default()
	rTickUntil(t, m, "ready and the login events dispatched", func() bool {
		return c.State() == ami.StateReady && c.Stats().EventsDispatched >= 2
	})
	base := c.Stats().EventsReceived

	type floodResult struct {
		sent int
		err  error
	}
	flooded := make(chan floodResult, 1)
	go func() {
		n, err := srv.Flood(context.Background(), amitest.Flood{
			Count: flood,
			Frame: []byte("Event: Flood\r\nPrivilege: call,all\r\n\r\n"),
		})
		flooded <- floodResult{n, err}
	}()

	// Drive the ticks on the fake clock; after each, wait for the log writer
	// so that every warning is attributed to the tick (fake time) that
	// emitted it.
	var warnAt []time.Time
	seen := 0
	deadline := time.Now().Add(3 * rWait)
	for c.Stats().EventsReceived-base < flood {
		if time.Now().After(deadline) {
			t.Fatalf("flood not received: %+v", c.Stats())
		}
		fake.Advance(step)
		if _, err := m.TickAll(5 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		rDrainLogs(t, m)
		n := len(logs.withMsg(t, "ami: events dropped"))
		if n-seen > maxWarns {
			t.Fatalf("one tick logged %d drop warnings, DropWarnMax %d", n-seen, maxWarns)
		}
		for ; seen < n; seen++ {
			warnAt = append(warnAt, fake.Now())
		}
	}
	if r := <-flooded; r.err != nil || r.sent != flood {
		t.Fatalf("Flood: %d sent, %v", r.sent, r.err)
	}
	before := c.Stats()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.EventsReceived != base+flood || st.EventsDropped != before.EventsDropped {
		t.Fatalf("counters moved at Close: before %+v, after %+v", before, st)
	}
	if st.EventsDropped+st.EventsDispatched+capacity < base+flood {
		t.Fatalf("dropped %d of %d events with a queue of %d", st.EventsDropped, flood, capacity)
	}
	if st.EventsReceived != st.EventsDispatched+st.EventsDropped+st.EventsQueued {
		t.Fatalf("received %d != dispatched %d + dropped %d + queued %d",
			st.EventsReceived, st.EventsDispatched, st.EventsDropped, st.EventsQueued)
	}

	warns := logs.withMsg(t, "ami: events dropped")
	var sum int64
	for _, w := range warns {
		sum += rInt(t, w, "dropped_delta")
		if w["server_key"] != "pbx" {
			t.Fatalf("warning without server_key: %v", w)
		}
		if _, ok := w["queue_depth"]; !ok {
			t.Fatalf("warning without queue_depth: %v", w)
		}
	}
	if sum != int64(st.EventsDropped) {
		t.Fatalf("sum of dropped_delta over %d warnings = %d, EventsDropped = %d", len(warns), sum, st.EventsDropped)
	}
	if len(warns) < len(warnAt) || len(warns) > len(warnAt)+1 {
		t.Fatalf("%d warnings after Close, %d during the ticks: at most one final flush expected", len(warns), len(warnAt))
	}
	// At most maxWarns per window; a window opens with the first warning
	// after the previous one ended.
	windows := 0
	for i := 0; i < len(warnAt); {
		start, n := warnAt[i], 0
		for ; i < len(warnAt) && warnAt[i].Sub(start) < interval; i++ {
			n++
		}
		windows++
		if n > maxWarns {
			t.Fatalf("%d warnings in the window starting at %v, DropWarnMax %d", n, start.Sub(rT0), maxWarns)
		}
	}
	simulated := fake.Now().Sub(rT0)
	if limit := maxWarns * (int(simulated/interval) + 1); len(warnAt) > limit {
		t.Fatalf("%d warnings in %v of simulated time, at most %d", len(warnAt), simulated, limit)
	}
	if m.Stats().LogRecordsDropped != 0 {
		t.Fatalf("log records dropped: warnings may be missing")
	}
	t.Logf("%d events dropped, %d warnings in %d windows over %v simulated", st.EventsDropped, len(warns), windows, simulated)
}

// Invariant 4: the worker loop never busy-spins, and never sleeps while
// work is pending. Enforced in tick.go: Run always calls tickWait with
// TickInterval; tickWait waits on the shared wake channel or timer unless
// hasWork (wake pending, input left over a budget, events queued, a dial
// result) says there is work already.
//
// Breaking it looks like: hasWork always true (the idle loop spins: tens of
// thousands of ticks per second and a busy CPU), or always false (ticks
// after progress wait for the next wake or timer while events are queued).

// rCPU is the process's user+system CPU time.
func rCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Skipf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestInvariantWorkerLoopNeverBusySpins(t *testing.T) {
	cfg := ami.Config{Servers: map[string]ami.ServerConfig{}, Options: ami.Options{MaxEventsPerTick: 64}}
	var srvs []*amitest.Server
	for i := range 3 {
		s := amitest.NewServer(t, amitest.Options{})
		srvs = append(srvs, s)
		cfg.Servers[fmt.Sprintf("pbx%d", i)] = rServer(s.Addr())
	}
	met := &rTickMetrics{}
	m := rManager(t, cfg, ami.WithMetrics(met))
	rRun(t, m)
	rPoll(t, "idle cluster", func() bool {
		for _, c := range m.Clients() {
			if c.State() != ami.StateReady || c.Stats().EventsDispatched < 2 {
				return false
			}
		}
		return true
	})

	// Idle: bounded waits, no spinning.
	const window = 3 * time.Second
	ticks0, cpu0, wall0 := met.ticks.Load(), rCPU(t), time.Now()
	<-time.After(window) // the measurement window itself
	ticks, cpu, wall := met.ticks.Load()-ticks0, rCPU(t)-cpu0, time.Since(wall0)
	perSec := float64(ticks) / wall.Seconds()
	t.Logf("idle: %d ticks in %v (%.0f/s), CPU %v (%.1f%%)", ticks, wall, perSec, cpu, 100*cpu.Seconds()/wall.Seconds())
	if perSec >= 200 {
		t.Fatalf("idle loop ran %.0f ticks/s, want < 200", perSec)
	}
	if cpu > wall/10 {
		t.Fatalf("idle process used %v CPU in %v of wall time (>10%%)", cpu, wall)
	}
	if ticks == 0 {
		t.Fatal("the loop did not tick at all")
	}

	// Flood: once a tick made progress the next one does not wait while
	// events are still queued (the dispatch budget of 64 keeps the queue busy).
	met.setRecording(true)
	n, err := srvs[0].Flood(rCtx(t), amitest.Flood{Count: 300_000, Frame: []byte("Event: Flood\r\nPrivilege: call,all\r\n\r\n")})
	if err != nil || n != 300_000 {
		t.Fatalf("Flood: %d, %v", n, err)
	}
	c := m.Clients()[0]
	rPoll(t, "flood received", func() bool { return c.Stats().EventsReceived >= 300_000 })
	met.setRecording(false)
	waits := met.waitsAfterProgress()
	// A tick after progress may wait for the next chunk when it has drained
	// everything (the wake of the arriving bytes ends that wait early). It
	// must never sleep through its timeout while the flood is flowing: that
	// is a loop ignoring pending work. Broken on purpose (hasWork always
	// false), most waits after progress run to the 25ms timeout.
	const tickInterval = 25 * time.Millisecond
	woken, slept := 0, 0
	var total time.Duration
	for _, w := range waits {
		switch {
		case w >= tickInterval/2:
			slept++
		case w > 0:
			woken++
		}
		total += w
	}
	t.Logf("flood: %d ticks after progress; %d waited and were woken by data, %d slept (%v waited in total)", len(waits), woken, slept, total)
	if len(waits) < 20 {
		t.Fatalf("only %d ticks followed progress during the flood", len(waits))
	}
	if slept > len(waits)/20 {
		t.Fatalf("%d of %d ticks after a progress tick slept to their timeout (%v): the loop sleeps while work is pending", slept, len(waits), total)
	}
	if woken > len(waits)/4 {
		t.Fatalf("%d of %d ticks after a progress tick waited at all: the loop waits while work is pending", woken, len(waits))
	}
}
