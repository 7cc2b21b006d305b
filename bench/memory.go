package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// liveHeap is the live heap after two full collections.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// HeapPerIdleServer returns the client heap per Ready, idle server: k
// clients logged in to one fake PBX, minus what the fake PBX itself holds
// for k connections (measured with k raw logged-in sockets).
func HeapPerIdleServer(k int) (float64, error) {
	h0 := liveHeap()
	srv := newServer()
	addrs := make([]string, k)
	for i := range addrs {
		addrs[i] = srv.Addr()
	}
	r, err := startManager(addrs, ami.Options{HeartbeatInterval: -1}, nil)
	if err != nil {
		srv.Close()
		return 0, err
	}
	with := liveHeap() - h0
	_ = r.stop()
	srv.Close()

	h2 := liveHeap()
	srv2 := newServer()
	defer srv2.Close()
	raws := make([]*rawConn, 0, k)
	defer func() {
		for _, rc := range raws {
			rc.Close()
		}
	}()
	for range k {
		rc, err := rawDial(srv2.Addr(), user, secret)
		if err != nil {
			return 0, err
		}
		rc.buf, rc.data = nil, nil // keep only the socket
		raws = append(raws, rc)
	}
	if err := srv2.Ready(context.Background(), k); err != nil {
		return 0, err
	}
	serverSide := liveHeap() - h2
	return float64(with-serverSide) / float64(k), nil
}

// HeapPerPendingActions returns the client heap held by n pending actions
// (Ping, never answered: the fake PBX stops reading).
func HeapPerPendingActions(n int) (float64, error) {
	srv := newServer()
	defer srv.Close()
	r, err := startManager([]string{srv.Addr()}, ami.Options{HeartbeatInterval: -1, MaxPendingActions: 2 * n, ActionTimeout: time.Hour}, nil)
	if err != nil {
		return 0, err
	}
	defer r.stop()
	srv.SetReading(false)
	defer srv.SetReading(true)
	c := r.m.Default()
	ps := make([]*ami.Pending, 0, n) // allocated before the baseline
	h0 := liveHeap()
	for range n {
		p, err := c.Send(ami.Ping{})
		if err != nil {
			return 0, err
		}
		ps = append(ps, p)
	}
	h1 := liveHeap()
	runtime.KeepAlive(ps)
	return float64(h1 - h0), nil
}

// HeapPerQueuedEvent returns the client heap per event waiting in the
// queue: n events of the mix are received while listeners are served one
// event per tick.
func HeapPerQueuedEvent(n int) (float64, error) {
	srv := newServer()
	defer srv.Close()
	cfg := ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": {Address: srv.Addr(), Username: user, Secret: secret}},
		Options: ami.Options{HeartbeatInterval: -1, ReadTimeout: -1, MaxEventsPerTick: 1, EventQueueCapacity: n + 16}}
	m, err := ami.NewManager(cfg, ami.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return 0, err
	}
	defer m.Close()
	c := m.Default()
	if err := pollUntil(m, func() bool { return c.State() == ami.StateReady && c.Stats().EventsReceived >= loginEvents }); err != nil {
		return 0, err
	}
	h0 := liveHeap()
	type floodResult struct {
		sent int
		err  error
	}
	flooded := make(chan floodResult, 1)
	go func() {
		sent, err := srv.Flood(context.Background(), amitest.Flood{Count: n})
		flooded <- floodResult{sent, err}
	}()
	want := uint64(n + loginEvents)
	if err := pollUntil(m, func() bool { return c.Stats().EventsReceived >= want }); err != nil {
		return 0, err
	}
	if f := <-flooded; f.err != nil || f.sent != n {
		return 0, fmt.Errorf("ami: bench: flood sent %d of %d: %v", f.sent, n, f.err)
	}
	h1 := liveHeap()
	queued := c.Stats().EventsQueued
	if queued == 0 {
		return 0, fmt.Errorf("ami: bench: no event queued")
	}
	return float64(h1-h0) / float64(queued), nil
}

// pollUntil ticks m until cond holds (at most 30s).
func pollUntil(m *ami.Manager, cond func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("ami: bench: timed out")
		}
		if _, err := m.TickAll(time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// Memory reports the heap per idle server, per 10,000 pending actions and
// per queued event.
func Memory(short bool) ([]Result, error) {
	servers, events := 50, 50_000
	if short {
		servers, events = 10, 10_000
	}
	idle, err := HeapPerIdleServer(servers)
	if err != nil {
		return nil, err
	}
	pend, err := HeapPerPendingActions(10_000)
	if err != nil {
		return nil, err
	}
	ev, err := HeapPerQueuedEvent(events)
	if err != nil {
		return nil, err
	}
	a := absolute("memory", "heap per idle server", "bytes", idle, "", true)
	a.Note = fmt.Sprintf("%d servers, fake PBX share subtracted", servers)
	b := absolute("memory", "heap per 10,000 pending actions", "bytes", pend, "", true)
	c := absolute("memory", "heap per queued event", "bytes", ev, "", true)
	c.Note = "event mix, ~19 headers, ~430 bytes on the wire"
	return []Result{a, b, c}, nil
}

// IdleCPU runs 3 idle servers with Run for d and returns the fraction of
// one core used by the process.
func IdleCPU(d time.Duration) (float64, error) {
	var addrs []string
	for range 3 {
		srv := newServer()
		defer srv.Close()
		addrs = append(addrs, srv.Addr())
	}
	r, err := startManager(addrs, ami.Options{}, nil)
	if err != nil {
		return 0, err
	}
	defer r.stop()
	time.Sleep(100 * time.Millisecond) // let the login traffic pass before measuring
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(d) // the measurement itself: the process should do nothing
	return (cpuTime() - cpu0).Seconds() / time.Since(t0).Seconds(), nil
}

// Idle reports the CPU of Run with 3 idle servers over d.
func Idle(d time.Duration) ([]Result, error) {
	f, err := IdleCPU(d)
	if err != nil {
		return nil, err
	}
	r := absolute("idle", "idle CPU, 3 servers", "% of a core", f*100, "< 1% of a core", f < 0.01)
	r.Note = fmt.Sprintf("over %v, default tick interval and heartbeats", d)
	return []Result{r}, nil
}
