package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// IngestStats is what one ingest measurement saw.
type IngestStats struct {
	Events  int
	Lost    uint64 // events dropped from the client's queue
	Elapsed time.Duration
	CPU     time.Duration // process CPU (client and fake PBX) during the run
}

// EventsPerSec is the throughput.
func (s IngestStats) EventsPerSec() float64 { return float64(s.Events) / s.Elapsed.Seconds() }

// CPUPerMillion is the process CPU seconds per million events.
func (s IngestStats) CPUPerMillion() float64 { return s.CPU.Seconds() / float64(s.Events) * 1e6 }

// IngestAMI floods n events of the event mix from a fresh amitest server
// through Manager.Run to a listener, and times it from the first event
// written to the last one handed to the listener. The queue holds every
// event, so any loss is a bug.
func IngestAMI(n int) (IngestStats, error) {
	srv := newServer()
	defer srv.Close()
	o := ami.Options{EventQueueCapacity: min(max(n+16, 10000), 10_000_000), HeartbeatInterval: -1, ReadTimeout: -1}
	var seen atomic.Int64
	r, err := startManager([]string{srv.Addr()}, o, func(m *ami.Manager) {
		m.OnAnyEvent(func(*ami.Event) { seen.Add(1) })
	})
	if err != nil {
		return IngestStats{}, err
	}
	defer r.stop()
	if err := waitFor(10*time.Second, func() bool { return seen.Load() >= loginEvents }); err != nil {
		return IngestStats{}, fmt.Errorf("ami: bench: login events: %w", err)
	}
	base := seen.Load()
	cpu0, t0 := cpuTime(), time.Now()
	flooded := make(chan error, 1)
	go func() {
		_, err := srv.Flood(context.Background(), amitest.Flood{Count: n})
		flooded <- err
	}()
	c := r.m.Default()
	err = waitFor(5*time.Minute, func() bool {
		st := c.Stats()
		return seen.Load()-base+int64(st.EventsDropped) >= int64(n)
	})
	st := IngestStats{Events: n, Elapsed: time.Since(t0), CPU: cpuTime() - cpu0, Lost: c.Stats().EventsDropped}
	if ferr := <-flooded; ferr != nil {
		return st, ferr
	}
	return st, err
}

// IngestRaw is the raw-socket reference: the same flood, read and framed
// with bytes.Index only.
func IngestRaw(n int) (IngestStats, error) {
	srv := newServer()
	defer srv.Close()
	rc, err := rawDial(srv.Addr(), user, secret)
	if err != nil {
		return IngestStats{}, err
	}
	defer rc.Close()
	if err := rc.count(loginEvents); err != nil {
		return IngestStats{}, err
	}
	cpu0, t0 := cpuTime(), time.Now()
	flooded := make(chan error, 1)
	go func() {
		_, err := srv.Flood(context.Background(), amitest.Flood{Count: n})
		flooded <- err
	}()
	err = rc.count(n)
	st := IngestStats{Events: n, Elapsed: time.Since(t0), CPU: cpuTime() - cpu0}
	if ferr := <-flooded; ferr != nil {
		return st, ferr
	}
	return st, err
}

// Ingest compares IngestAMI with IngestRaw on n events, alternating the
// two rounds times and keeping each one's best run.
func Ingest(n, rounds int) ([]Result, error) {
	var best, ref IngestStats
	for range max(1, rounds) {
		r, err := IngestRaw(n)
		if err != nil {
			return nil, err
		}
		if ref.Elapsed == 0 || r.Elapsed < ref.Elapsed {
			ref = r
		}
		a, err := IngestAMI(n)
		if err != nil {
			return nil, err
		}
		if best.Elapsed == 0 || a.Elapsed < best.Elapsed {
			best = a
		}
	}
	eps := ratio("ingest", "ingest events/s", "events/s", best.EventsPerSec(), ref.EventsPerSec(), "raw socket", 0.40, 0)
	eps.Note = fmt.Sprintf("%d events", n)
	loss := absolute("ingest", "ingest events lost", "events", float64(best.Lost), "0 with a large queue", best.Lost == 0)
	cpu := ratio("ingest", "ingest CPU s per million events", "s", best.CPUPerMillion(), ref.CPUPerMillion(), "raw socket", 0, 0)
	cpu.Note = "process CPU, fake PBX included in both"
	return []Result{eps, loss, cpu}, nil
}
