package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/apntalk/ami"
)

// PingLatencyAMI runs n sequential Do(Ping) calls and returns their
// round-trip times, measured around each call.
func PingLatencyAMI(n int) ([]time.Duration, error) {
	srv := newServer()
	defer srv.Close()
	r, err := startManager([]string{srv.Addr()}, ami.Options{HeartbeatInterval: -1}, nil)
	if err != nil {
		return nil, err
	}
	defer r.stop()
	c := r.m.Default()
	out := make([]time.Duration, 0, n)
	ctx := context.Background()
	for range n {
		start := time.Now()
		if _, err := c.Do(ctx, ami.Ping{}); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// PingLatencyRaw is the reference: a raw client writing "Action: Ping" and
// reading the answer, n times.
func PingLatencyRaw(n int) ([]time.Duration, error) {
	srv := newServer()
	defer srv.Close()
	rc, err := rawDial(srv.Addr(), user, secret)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	out := make([]time.Duration, 0, n)
	for i := range n {
		d, err := rc.ping(i)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ConcurrentAMI has workers goroutines call Send+Wait(Ping) until total
// actions completed, checks that each result carries its own ActionID, and
// returns the elapsed time.
func ConcurrentAMI(total, workers int) (time.Duration, error) {
	srv := newServer()
	defer srv.Close()
	r, err := startManager([]string{srv.Addr()}, ami.Options{HeartbeatInterval: -1, MaxPendingActions: max(5000, 2*workers)}, nil)
	if err != nil {
		return 0, err
	}
	defer r.stop()
	c := r.m.Default()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := range workers {
		count := total / workers
		if w < total%workers {
			count++
		}
		wg.Go(func() {
			for range count {
				p, err := c.Send(ami.Ping{})
				if err != nil {
					errs <- err
					return
				}
				res, err := p.Wait(context.Background())
				if err != nil {
					errs <- err
					return
				}
				if res.ActionID != p.ActionID() || res.Get("Ping") != "Pong" {
					errs <- fmt.Errorf("ami: bench: action %s answered by %s", p.ActionID(), res.ActionID)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	return elapsed, <-errs
}

// PipelinedRaw is the reference: a raw client keeping window Pings in
// flight until total were answered.
func PipelinedRaw(total, window int) (time.Duration, error) {
	srv := newServer()
	defer srv.Close()
	rc, err := rawDial(srv.Addr(), user, secret)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	start := time.Now()
	err = rc.pipeline(total, window)
	return time.Since(start), err
}

// percentile returns the p-th percentile (0..1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// PingLatencyBoth measures n sequential Do(Ping) calls and n raw pings,
// alternating blocks of pingBlock of each so that machine noise hits both,
// after one unrecorded warm-up block of each. Each contestant has its own
// fake PBX.
func PingLatencyBoth(n int) (amiLat, rawLat []time.Duration, err error) {
	amiSrv, rawSrv := newServer(), newServer()
	defer amiSrv.Close()
	defer rawSrv.Close()
	r, err := startManager([]string{amiSrv.Addr()}, ami.Options{HeartbeatInterval: -1}, nil)
	if err != nil {
		return nil, nil, err
	}
	defer r.stop()
	rc, err := rawDial(rawSrv.Addr(), user, secret)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	c := r.m.Default()
	ctx := context.Background()
	amiLat, rawLat = make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	seq := 0
	for done := -pingBlock; done < n; done += pingBlock {
		k := min(pingBlock, n-done)
		for range k {
			start := time.Now()
			if _, err := c.Do(ctx, ami.Ping{}); err != nil {
				return nil, nil, err
			}
			if done >= 0 {
				amiLat = append(amiLat, time.Since(start))
			}
		}
		for range k {
			d, err := rc.ping(seq)
			seq++
			if err != nil {
				return nil, nil, err
			}
			if done >= 0 {
				rawLat = append(rawLat, d)
			}
		}
	}
	return amiLat, rawLat, nil
}

// pingBlock is how many pings of one contestant run before the other's.
const pingBlock = 250

// RoundTrip compares sequential Do(Ping) latency (p50) with the raw client's
// and 64-way concurrent actions/s with the raw client's 64-deep pipeline.
func RoundTrip(pings, actions int) ([]Result, error) {
	lat, raw, err := PingLatencyBoth(pings)
	if err != nil {
		return nil, err
	}
	p50, ref50 := percentile(lat, 0.5), percentile(raw, 0.5)
	seq := ratio("roundtrip", "Do(Ping) p50 latency", "µs", float64(p50.Microseconds()), float64(ref50.Microseconds()), "raw socket", 0, 1.3)
	seq.Value, seq.Reference = float64(p50.Nanoseconds())/1e3, float64(ref50.Nanoseconds())/1e3
	seq.Ratio = seq.Value / seq.Reference
	seq.Pass = seq.Ratio <= 1.3
	seq.Note = fmt.Sprintf("p99 %v vs %v, %d pings", percentile(lat, 0.99).Round(time.Microsecond), percentile(raw, 0.99).Round(time.Microsecond), pings)

	const workers = 64
	refEl, err := PipelinedRaw(actions, workers)
	if err != nil {
		return nil, err
	}
	el, err := ConcurrentAMI(actions, workers)
	if err != nil {
		return nil, err
	}
	conc := ratio("roundtrip", "64 concurrent Do actions/s", "actions/s", float64(actions)/el.Seconds(), float64(actions)/refEl.Seconds(), "raw 64-deep pipeline", 0.75, 0)
	conc.Note = fmt.Sprintf("%d actions, every response matched", actions)
	return []Result{seq, conc}, nil
}
