package ami_test

import (
	"context"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// Two servers, one flooding events and one answering Pings: the quiet
// server's actions complete without waiting for the flood to drain, and the
// flood's drops are all counted (received = dispatched + dropped + queued).
func TestNoisyServerDoesNotStarveQuietOne(t *testing.T) {
	noisy := amitest.NewServer(t, amitest.Options{})
	quiet := amitest.NewServer(t, amitest.Options{})
	m := newManager(t, ami.Config{
		Servers: map[string]ami.ServerConfig{"noisy": serverCfg(noisy), "quiet": serverCfg(quiet)},
		Options: ami.Options{EventQueueCapacity: 1000, MaxEventsPerTick: 100, ActionTimeout: 5 * time.Second},
	})
	slow := 0
	m.OnAnyEvent(func(e *ami.Event) {
		if e.Server() == "noisy" {
			slow++
			// A listener that costs ~10µs per event: the flood outpaces it.
			for end := time.Now().Add(10 * time.Microsecond); time.Now().Before(end); {
			}
		}
	})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	cq, _ := m.Server("quiet")
	cn, _ := m.Server("noisy")

	const flood = 200000
	floodDone := make(chan int, 1)
	go func() {
		n, _ := noisy.Flood(context.Background(), amitest.Flood{Count: flood, BatchSize: 256})
		floodDone <- n
	}()
	tickUntil(t, m, 10*time.Second, "flood under way", func() bool { return cn.Stats().EventsReceived > 5000 })

	// While the flood runs, ten sequential Pings on the quiet server.
	var worst time.Duration
	for i := 0; i < 10; i++ {
		start := time.Now()
		p, err := cq.Send(ami.Ping{})
		if err != nil {
			t.Fatal(err)
		}
		tickUntil(t, m, 5*time.Second, "quiet ping", func() bool { return isDone(p) })
		if _, err := p.Result(); err != nil {
			t.Fatalf("quiet ping %d: %v", i, err)
		}
		worst = max(worst, time.Since(start))
	}
	floodStillRunning := cn.Stats().EventsReceived < flood
	var sent int
	tickUntil(t, m, 60*time.Second, "flood written", func() bool {
		select {
		case sent = <-floodDone:
			return true
		default:
			return false
		}
	})
	tickUntil(t, m, 30*time.Second, "flood read", func() bool {
		st := cn.Stats()
		return st.EventsReceived >= uint64(sent) && st.EventsQueued == 0
	})
	st := cn.Stats()
	if st.EventsReceived != st.EventsDispatched+st.EventsDropped+st.EventsQueued {
		t.Fatalf("counters inconsistent: %+v", st)
	}
	if st.EventsDropped == 0 {
		t.Fatalf("the flood should have overflowed the 1000-event queue: %+v", st)
	}
	if uint64(slow) != st.EventsDispatched {
		t.Fatalf("listener saw %d, dispatched %d", slow, st.EventsDispatched)
	}
	t.Logf("worst quiet ping %v; flood still running during pings: %v; noisy stats %+v", worst, floodStillRunning, st)
	if worst > 2*time.Second {
		t.Fatalf("quiet server starved: worst ping %v", worst)
	}
}
