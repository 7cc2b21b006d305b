package amitest

import (
	"context"
	"fmt"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/eventmix"
)

// Broadcast sends one event frame made of headers to every logged-in
// connection whose event mask accepts it: the class is the first item of
// the Privilege header ("call" for "call,all"); an event without Privilege
// goes to every connection with events on. Headers holding CR or LF are
// refused (logged, nothing sent). Broadcast blocks while a client does not
// read (see Options.WriteTimeout).
func (s *Server) Broadcast(headers ...amiproto.Header) {
	b, err := amiproto.AppendFrame(nil, headers)
	if err != nil {
		s.logf("broadcast: %v", err)
		return
	}
	class := eventClass(headers)
	s.mu.Lock()
	live := s.liveLocked()
	s.mu.Unlock()
	for _, c := range live {
		c.sendEventFrame(b, class)
	}
}

// sendEvent writes one event to c if it is logged in and its mask accepts
// the event.
func (c *Conn) sendEvent(headers []amiproto.Header) bool {
	b, err := amiproto.AppendFrame(nil, headers)
	if err != nil {
		c.s.logf("conn %d: event: %v", c.id, err)
		return false
	}
	return c.sendEventFrame(b, eventClass(headers))
}

func (c *Conn) sendEventFrame(b []byte, class string) bool {
	c.mu.Lock()
	ok := c.loggedIn && c.mask.wants(class)
	c.mu.Unlock()
	if !ok || c.write(b) != nil {
		return false
	}
	c.s.counters.events.Add(1)
	return true
}

// eventsOn reports whether c is logged in with any event class on.
func (c *Conn) eventsOn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loggedIn && c.mask.on()
}

// Flood describes an event storm for Server.Flood.
type Flood struct {
	// Count is the number of events sent to every target connection.
	Count int
	// Frame, if set, is a complete event frame (ending with a blank line)
	// repeated Count times. Defaults to the realistic mix of eventmix: the
	// i-th event is eventmix.Append(nil, i).
	Frame []byte
	// BatchSize is the number of frames per write. Defaults to 64.
	BatchSize int
	// Rate limits the flood to this many events per second per connection.
	// Defaults to 0: as fast as the connections take them.
	Rate float64
}

// Flood sends f.Count events to every logged-in connection with events on,
// in large pre-encoded writes, and returns when done. sent is the number of
// frames written, summed over the connections. A connection that fails is
// dropped from the flood; if none is left, or none was there, an error is
// returned (ErrNoConns, or ErrConnClosed wrapped). Cancelling ctx stops the
// flood between two batches and returns the context's error, wrapped.
func (s *Server) Flood(ctx context.Context, f Flood) (sent int, err error) {
	if f.Count <= 0 {
		return 0, nil
	}
	batch := f.BatchSize
	if batch <= 0 {
		batch = 64
	}
	s.mu.Lock()
	live := s.liveLocked()
	s.mu.Unlock()
	targets := live[:0]
	for _, c := range live {
		if c.eventsOn() {
			targets = append(targets, c)
		}
	}
	if len(targets) == 0 {
		return 0, ErrNoConns
	}
	defer func() { s.counters.events.Add(int64(sent)) }()

	var fixed, buf []byte
	if f.Frame != nil {
		for range batch {
			fixed = append(fixed, f.Frame...)
		}
	}
	start := time.Now()
	for i := 0; i < f.Count; i += batch {
		n := min(batch, f.Count-i)
		if f.Rate > 0 {
			due := start.Add(time.Duration(float64(i) / f.Rate * float64(time.Second)))
			if err := sleepCtx(ctx, time.Until(due)); err != nil {
				return sent, fmt.Errorf("ami: amitest: flood: %w", err)
			}
		}
		if err := ctx.Err(); err != nil {
			return sent, fmt.Errorf("ami: amitest: flood: %w", err)
		}
		if fixed != nil {
			buf = fixed[:n*len(f.Frame)]
		} else {
			buf = buf[:0]
			for k := range n {
				buf = eventmix.Append(buf, i+k)
			}
		}
		alive := targets[:0]
		for _, c := range targets {
			if c.write(buf) == nil {
				sent += n
				alive = append(alive, c)
			}
		}
		targets = alive
		if len(targets) == 0 {
			return sent, fmt.Errorf("ami: amitest: flood: %w", ErrConnClosed)
		}
	}
	return sent, nil
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
