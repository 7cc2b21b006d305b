package ami

import (
	"fmt"
	"sync/atomic"
)

// RouteStrategy picks the server for Manager.Send and Manager.Do. Every
// strategy is health-aware: it only picks Ready servers, and returns
// ErrNoHealthyServer when none fits.
type RouteStrategy interface {
	pick(m *Manager) (*Client, error)
}

type roundRobin struct{ n atomic.Uint64 }

// RoundRobin spreads actions over the Ready servers in turn, preferring
// servers whose heartbeat is healthy over degraded ones.
func RoundRobin() RouteStrategy { return &roundRobin{} }

func (r *roundRobin) pick(m *Manager) (*Client, error) {
	n := len(m.clients)
	start := int(r.n.Add(1) % uint64(n))
	var degraded *Client
	for i := 0; i < n; i++ {
		c := m.clients[(start+i)%n]
		if c.State() != StateReady {
			continue
		}
		if c.Health().Degraded {
			if degraded == nil {
				degraded = c
			}
			continue
		}
		return c, nil
	}
	if degraded != nil {
		return degraded, nil
	}
	return nil, ErrNoHealthyServer
}

type failover struct{ keys []string }

// Failover picks the first Ready server in the given order (all servers,
// by key, when none is given).
func Failover(order ...string) RouteStrategy { return &failover{keys: order} }

func (f *failover) pick(m *Manager) (*Client, error) {
	if len(f.keys) == 0 {
		for _, c := range m.clients {
			if c.State() == StateReady {
				return c, nil
			}
		}
		return nil, ErrNoHealthyServer
	}
	for _, k := range f.keys {
		if c, ok := m.byKey[k]; ok && c.State() == StateReady {
			return c, nil
		}
	}
	return nil, ErrNoHealthyServer
}

type explicit struct{ key string }

// Explicit always picks the server with this key, if it is Ready.
func Explicit(key string) RouteStrategy { return &explicit{key: key} }

func (e *explicit) pick(m *Manager) (*Client, error) {
	c, ok := m.byKey[e.key]
	if !ok {
		return nil, fmt.Errorf("ami: server %q: %w", e.key, ErrUnknownServer)
	}
	if st := c.State(); st != StateReady {
		return nil, fmt.Errorf("ami: server %q is %s: %w", e.key, st, ErrNoHealthyServer)
	}
	return c, nil
}
