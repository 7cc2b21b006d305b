package ami_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// rRouted sends n Pings through the manager's strategy and counts the
// servers they went to.
func rRouted(t *testing.T, m *ami.Manager, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		p, err := m.Send(ami.Ping{})
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		got[p.Server()]++
	}
	return got
}

// rRoutingCluster is three servers: "a" and "c" Ready, "b" down.
func rRoutingCluster(t *testing.T, o ami.Options) (m *ami.Manager, a, c *amitest.Server) {
	a, c = amitest.NewServer(t, amitest.Options{}), amitest.NewServer(t, amitest.Options{})
	m = rManager(t, ami.Config{Servers: map[string]ami.ServerConfig{
		"a": rServer(a.Addr()),
		"b": rServer(rDeadAddr(t)),
		"c": rServer(c.Addr()),
	}, Options: o})
	return m, a, c
}

func TestRoutingIsHealthAware(t *testing.T) {
	m, a, c := rRoutingCluster(t, ami.Options{HeartbeatInterval: -1})
	rRun(t, m)
	ca, _ := m.Server("a")
	cc, _ := m.Server("c")
	rPoll(t, "a and c ready", func() bool {
		return ca.State() == ami.StateReady && cc.State() == ami.StateReady
	})

	t.Run("RoundRobin", func(t *testing.T) {
		m.Route(ami.RoundRobin())
		got := rRouted(t, m, 60)
		if got["b"] != 0 || got["a"] < 20 || got["c"] < 20 {
			t.Fatalf("RoundRobin over a, b (down), c: %v", got)
		}
	})
	t.Run("Failover", func(t *testing.T) {
		m.Route(ami.Failover("b", "c", "a"))
		if got := rRouted(t, m, 10); got["c"] != 10 {
			t.Fatalf("Failover(b, c, a) with b down: %v, want all on c", got)
		}
		m.Route(ami.Failover())
		if got := rRouted(t, m, 10); got["a"] != 10 {
			t.Fatalf("Failover() (key order): %v, want all on a", got)
		}
		m.Route(ami.Failover("b"))
		if _, err := m.Send(ami.Ping{}); !errors.Is(err, ami.ErrNoHealthyServer) || !ami.SafeToRetry(err) {
			t.Fatalf("Failover(b) with b down: %v, want ErrNoHealthyServer", err)
		}
	})
	t.Run("Explicit", func(t *testing.T) {
		m.Route(ami.Explicit("c"))
		if got := rRouted(t, m, 5); got["c"] != 5 {
			t.Fatalf("Explicit(c): %v", got)
		}
		m.Route(ami.Explicit("b"))
		if _, err := m.Send(ami.Ping{}); !errors.Is(err, ami.ErrNoHealthyServer) {
			t.Fatalf("Explicit(b) with b down: %v, want ErrNoHealthyServer", err)
		}
		m.Route(ami.Explicit("nope"))
		if _, err := m.Send(ami.Ping{}); !errors.Is(err, ami.ErrUnknownServer) {
			t.Fatalf("Explicit(nope): %v, want ErrUnknownServer", err)
		}
	})
	t.Run("Do", func(t *testing.T) {
		m.Route(ami.Explicit("a"))
		res, err := m.Do(rCtx(t), ami.Ping{})
		if err != nil || res.Server != "a" {
			t.Fatalf("Do via Explicit(a): %v, %v", res, err)
		}
	})

	// Every server down: no strategy finds one.
	a.SetRefuse(true)
	c.SetRefuse(true)
	a.CloseClientConnections()
	c.CloseClientConnections()
	rPoll(t, "a and c lost", func() bool { return m.Health().Ready == 0 })
	for _, s := range []ami.RouteStrategy{ami.RoundRobin(), ami.Failover(), ami.Failover("a", "c"), ami.Explicit("a")} {
		m.Route(s)
		if _, err := m.Send(ami.Ping{}); !errors.Is(err, ami.ErrNoHealthyServer) || !ami.SafeToRetry(err) {
			t.Fatalf("%T with no server ready: %v, want ErrNoHealthyServer (safe to retry)", s, err)
		}
	}
}

func TestRoundRobinAvoidsDegradedServer(t *testing.T) {
	// "a" stops answering heartbeats: while it is degraded RoundRobin sends
	// everything to "c", and goes back to spreading when it recovers.
	var ignore atomic.Bool
	a := rPingServer(t, &ignore)
	c := amitest.NewServer(t, amitest.Options{})
	fake, now := rFake()
	m := rManager(t, ami.Config{Servers: map[string]ami.ServerConfig{
		"a": rServer(a.Addr()),
		"c": rServer(c.Addr()),
	}, Options: ami.Options{
		HeartbeatInterval:  time.Second,
		HeartbeatTimeout:   100 * time.Millisecond,
		HeartbeatMaxMissed: 3,
		ReadTimeout:        -1,
	}}, now)
	rTickUntil(t, m, "all ready", func() bool { return m.Health().AllReady() })
	ca, _ := m.Server("a")
	cc, _ := m.Server("c")
	ignore.Store(true)
	fake.Advance(time.Second)
	m.Poll() // heartbeats sent to both
	// Login and heartbeat complete on c.
	rTickUntil(t, m, "c's heartbeat answered", func() bool { return cc.Stats().ActionsCompleted >= 2 })
	fake.Advance(100 * time.Millisecond)
	m.Poll() // a's heartbeat missed
	if !ca.Health().Degraded {
		t.Fatalf("a not degraded: %+v", ca.Health())
	}
	if got := rRouted(t, m, 20); got["c"] != 20 {
		t.Fatalf("RoundRobin with a degraded: %v, want all on c", got)
	}
	// Degraded beats nothing: with c gone, a still takes the traffic.
	m.Route(ami.RoundRobin())
	c.SetRefuse(true)
	c.CloseClientConnections()
	rTickUntil(t, m, "c lost", func() bool { return cc.State() != ami.StateReady })
	if got := rRouted(t, m, 5); got["a"] != 5 {
		t.Fatalf("RoundRobin with only a degraded a: %v", got)
	}
}
