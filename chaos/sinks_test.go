package chaos_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
	"github.com/apntalk/ami/internal/lineout"
)

// blockingHandler is a log sink that hangs: the first record it is handed
// blocks until release is closed (a syslog socket whose peer is gone, a
// disk that stopped).
type blockingHandler struct {
	release <-chan struct{}
	handled *atomic.Int64
}

func (h blockingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h blockingHandler) Handle(context.Context, slog.Record) error {
	h.handled.Add(1)
	<-h.release
	return nil
}

func (h blockingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h blockingHandler) WithGroup(string) slog.Handler      { return h }

// S15: during an event flood, the log sink blocks for good and the event
// output goes to a pipe nobody reads (the `ami listen | slow-consumer`
// case). The ticks keep their pace, an action still completes, and both
// sinks drop and count instead of stalling.
func TestS15SlowSinks(t *testing.T) {
	const flood = 100_000
	srv := amitest.NewServer(t, amitest.Options{})

	// Stdout that nobody reads: the pipe's buffer fills, then writes block.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out := lineout.New(w, 256)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = out.Close(ctx) // gives up on the blocked write
		r.Close()          // the blocked write fails with EPIPE: the writer goroutine ends
		w.Close()
	})

	release := make(chan struct{})
	var handled atomic.Int64
	o := testOptions()
	o.LogBufferSize = 16
	o.EventQueueCapacity = 1000
	o.MaxEventsPerTick = 500
	o.DropWarnInterval = time.Millisecond
	o.DropWarnMax = 10
	m := newManager(t, one(srv), o, ami.WithLogger(slog.New(blockingHandler{release: release, handled: &handled})))
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock) // runs before the manager's Close: its sink can drain
	c := m.Default()
	var line []byte
	c.OnAnyEvent(func(e *ami.Event) {
		line = append(line[:0], e.Name()...)
		line = append(line, ' ')
		line = append(line, e.Get("Uniqueid")...)
		out.WriteLine(line)
	})
	waitReady(t, m)
	waitLoginEvents(t, m, c)
	base := c.Stats().EventsReceived

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	flooded := make(chan error, 1)
	go func() {
		_, err := srv.Flood(ctx, amitest.Flood{Count: flood})
		flooded <- err
	}()

	var (
		ticks   int
		longest time.Duration
		ping    *ami.Pending
		done    bool
	)
	deadline := time.Now().Add(scenarioTimeout)
	for st := c.Stats(); !done || st.EventsReceived-base < flood || st.EventsQueued > 0; st = c.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("flood not absorbed: %s", statsString(m))
		}
		start := time.Now()
		sum, err := m.TickAll(5 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		ticks++
		longest = max(longest, time.Since(start)-sum.Waited)
		if ping == nil && c.Stats().EventsReceived-base > flood/4 {
			if ping, err = c.Send(ami.Ping{}, ami.WithTimeout(3*time.Second)); err != nil {
				t.Fatalf("Send during the flood: %v", err)
			}
		}
		select {
		case err := <-flooded:
			if err != nil {
				t.Fatalf("Flood: %v", err)
			}
			done = true
		default:
		}
	}
	if ping == nil {
		t.Fatal("the flood ended before the Ping was sent")
	}
	tickUntil(t, m, scenarioTimeout, "the Ping sent during the flood", isDone(ping))
	if _, err := ping.Result(); err != nil {
		t.Fatalf("Ping during the flood with blocked sinks: %v", err)
	}
	if longest > 500*time.Millisecond {
		t.Fatalf("the longest tick took %v of work: a sink stalled the loop", longest)
	}

	st := c.Stats()
	if st.EventsReceived-base != flood || st.EventsReceived != st.EventsDispatched+st.EventsDropped+st.EventsQueued {
		t.Fatalf("event counters: %s", statsString(m))
	}
	os := out.Stats()
	if os.Dropped == 0 || os.Written >= os.Queued || os.Queued != st.EventsDispatched {
		t.Fatalf("stdout: %+v for %d dispatched events: want drops, counted", os, st.EventsDispatched)
	}
	ms := m.Stats()
	if ms.LogRecordsDropped == 0 {
		t.Fatalf("no log record dropped although the sink is blocked (%d handled)", handled.Load())
	}
	if n := handled.Load(); n != 1 {
		t.Fatalf("the blocked sink was handed %d records, want 1 (the one it blocks on)", n)
	}
	t.Logf("%d ticks, longest %v; events %d received, %d dropped; stdout %d written, %d dropped; %d log records dropped",
		ticks, longest, st.EventsReceived, st.EventsDropped, os.Written, os.Dropped, ms.LogRecordsDropped)
}
