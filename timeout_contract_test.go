package ami_test

// Invariant 5, the tick timeout contract: TickAll(d) waits at most d and
// returns early when work arrives; d < 0 is an error; d > MaxTickWait is
// clamped and flagged; Poll never waits. Enforced in tick.go (tickWait,
// wait, hasWork, untilDeadline).
//
// Breaking it looks like: TickAll ignoring the wake channel (the early
// return test sees ~200ms), not clamping (the 1s test waits 1s), or Poll
// calling wait with a default interval (Waited > 0).

import (
	"errors"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// rIdleManager is a manager whose only server is Ready and idle: no
// heartbeat, no read timeout, nothing pending.
func rIdleManager(t *testing.T) (*ami.Manager, *amitest.Server) {
	srv := amitest.NewServer(t, amitest.Options{})
	m := rManager(t, rOne(srv.Addr(), ami.Options{HeartbeatInterval: -1, ReadTimeout: -1}))
	c := m.Default()
	// amitest, like Asterisk, follows the login with FullyBooted and
	// SuccessfulAuth: wait until both are dispatched.
	rTickUntil(t, m, "ready and the login events in", func() bool {
		return c.State() == ami.StateReady && c.Stats().EventsDispatched >= 2
	})
	// Work handled by the ticks above (the writer's last flush, a read) may
	// have left a wake-up behind: tick until a tick really waits.
	rTickUntil(t, m, "a quiet tick", func() bool {
		s, err := m.TickAll(10 * time.Millisecond)
		return err == nil && s.Waited >= 5*time.Millisecond
	})
	return m, srv
}

func TestTickAllIdleWaitsRequestedTimeout(t *testing.T) {
	m, _ := rIdleManager(t)
	for range 3 {
		start := time.Now()
		s, err := m.TickAll(40 * time.Millisecond)
		el := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if el < 30*time.Millisecond || el > 500*time.Millisecond {
			t.Fatalf("idle TickAll(40ms) returned after %v", el)
		}
		if s.Waited < 30*time.Millisecond || s.Waited > el {
			t.Fatalf("Waited = %v for a call of %v", s.Waited, el)
		}
		if s.Requested != 40*time.Millisecond || s.Clamped || s.Progress {
			t.Fatalf("idle summary: %+v", s)
		}
	}
}

func TestTickAllReturnsEarlyOnData(t *testing.T) {
	m, srv := rIdleManager(t)
	for range 3 {
		sent := make(chan struct{})
		timer := time.AfterFunc(5*time.Millisecond, func() {
			defer close(sent)
			srv.Broadcast(amitest.H("Event", "UserEvent"), amitest.H("Privilege", "user,all"), amitest.H("UserEvent", "wake"))
		})
		// A wake-up left over from earlier work may end the first call at
		// once; the data must then end the next one. Either way the event
		// is in well before the MaxTickWait (250ms) each call may wait: the
		// bound below leaves ~200ms for a loaded machine.
		start := time.Now()
		var read int64
		calls := 0
		for read == 0 && time.Since(start) < time.Second {
			s, err := m.TickAll(ami.MaxTickWait)
			if err != nil {
				t.Fatal(err)
			}
			calls++
			read += s.BytesRead
		}
		el := time.Since(start)
		<-sent
		timer.Stop()
		if read == 0 || el > ami.MaxTickWait*8/10 {
			t.Fatalf("TickAll(%v) with data after 5ms: %d bytes read after %v in %d calls", ami.MaxTickWait, read, el, calls)
		}
	}
}

func TestTickAllNegativeTimeout(t *testing.T) {
	m, _ := rIdleManager(t)
	start := time.Now()
	if _, err := m.TickAll(-1); !errors.Is(err, ami.ErrInvalidTimeout) {
		t.Fatalf("TickAll(-1): %v, want ErrInvalidTimeout", err)
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Fatalf("TickAll(-1) took %v", el)
	}
}

func TestTickAllClampsLongTimeout(t *testing.T) {
	m, _ := rIdleManager(t)
	before := m.Stats().TickClamps
	// Asking for 10s: unclamped, the idle call would wait 10s; clamped, it
	// returns after MaxTickWait (250ms). The 5s bound tells the two apart
	// with room for a loaded machine.
	const asked = 10 * time.Second
	start := time.Now()
	s, err := m.TickAll(asked)
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if el > asked/2 {
		t.Fatalf("TickAll(%v) returned after %v; MaxTickWait is %v", asked, el, ami.MaxTickWait)
	}
	if el < ami.MaxTickWait*8/10 {
		t.Fatalf("idle TickAll(%v) returned after %v, before MaxTickWait", asked, el)
	}
	if !s.Clamped || s.Requested != asked || s.Waited > asked/2 {
		t.Fatalf("summary %+v, want Clamped with Requested %v", s, asked)
	}
	if got := m.Stats().TickClamps; got != before+1 {
		t.Fatalf("TickClamps %d -> %d, want +1", before, got)
	}
}

func TestPollNeverWaits(t *testing.T) {
	m, _ := rIdleManager(t)
	start := time.Now()
	for range 100 {
		if s := m.Poll(); s.Waited != 0 || s.Requested != 0 || s.Clamped {
			t.Fatalf("Poll summary %+v", s)
		}
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Fatalf("100 idle Polls took %v", el)
	}
	s, err := m.TickAll(0)
	if err != nil || s.Waited != 0 {
		t.Fatalf("TickAll(0) = %+v, %v", s, err)
	}
}
