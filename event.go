package ami

import (
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// Event is one AMI event received from a server. It is immutable and may be
// retained by handlers.
//
// It keeps the frame in compact form (one string and the offsets of its
// headers): Get, Lookup, Values and All cost no allocation, Headers
// materialises a new slice on every call.
type Event struct {
	name       string
	server     string
	receivedAt time.Time
	frame      amiproto.Frame
}

// NewEvent builds an event (for tests and adapters); headers are copied.
func NewEvent(server string, receivedAt time.Time, headers Headers) *Event {
	e := &Event{server: server, receivedAt: receivedAt, frame: *amiproto.FrameOf(amiproto.KindEvent, headers)}
	e.name = e.frame.Get("Event")
	return e
}

// Name is the value of the Event header, e.g. "Hangup".
func (e *Event) Name() string { return e.name }

// Server is the key of the server that sent it.
func (e *Event) Server() string { return e.server }

// ReceivedAt is when the client parsed it.
func (e *Event) ReceivedAt() time.Time { return e.receivedAt }

// Headers returns every header in wire order, in a new slice (prefer Get,
// Lookup, Values or All on hot paths: they do not allocate).
func (e *Event) Headers() Headers { return e.frame.AppendHeaders(make(Headers, 0, e.frame.Len())) }

// All iterates over the headers in wire order (key, value) without
// allocating.
func (e *Event) All() iter.Seq2[string, string] { return e.frame.All() }

// Len is the number of headers.
func (e *Event) Len() int { return e.frame.Len() }

// Header returns the i-th header in wire order (0 <= i < Len).
func (e *Event) Header(i int) Header { return e.frame.Header(i) }

// Get returns the first value of key (case-insensitive), or "".
func (e *Event) Get(key string) string { return e.frame.Get(key) }

// Lookup returns the first value of key (case-insensitive) and whether it
// is present.
func (e *Event) Lookup(key string) (string, bool) { return e.frame.Lookup(key) }

// Values returns every value of key in order.
func (e *Event) Values(key string) []string { return e.frame.Values(key) }

// ActionID returns the ActionID header, if any.
func (e *Event) ActionID() string { return e.frame.Get("ActionID") }

// EventHandler receives events. Handlers run on the tick goroutine, one
// after the other, in registration order, with no lock held; they must not
// block (hand work to another goroutine instead). A panicking handler is
// recovered, counted and logged; the other handlers still run.
//
// From a handler (or an OnComplete callback) use Send and OnComplete, never
// Do, TickAll, Poll, Run or Close: those wait for the tick that is running
// the handler. To stop a Run loop from a handler, cancel its context.
type EventHandler func(*Event)

// Filter selects events. Every non-empty part must match: Names (event
// names, case-insensitive), Servers (server keys), Headers (key
// case-insensitive, value exact).
type Filter struct {
	Names   []string
	Servers []string
	Headers map[string]string
}

func (f *Filter) match(e *Event) bool {
	if len(f.Names) > 0 {
		ok := false
		for _, n := range f.Names {
			if strings.EqualFold(n, e.name) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.Servers) > 0 {
		ok := false
		for _, s := range f.Servers {
			if s == e.server {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for k, v := range f.Headers {
		got, found := e.frame.Lookup(k)
		if !found || got != v {
			return false
		}
	}
	return true
}

// Subscription is a registered handler. Unsubscribe removes it.
type Subscription struct {
	reg    *registry
	id     uint64
	filter Filter
	h      EventHandler
}

// Unsubscribe removes the handler; it is safe to call more than once and
// from any goroutine, including from inside a handler. Events already
// being dispatched in the current tick may still reach it.
func (s *Subscription) Unsubscribe() {
	if s != nil && s.reg != nil {
		s.reg.remove(s.id)
	}
}

// registry is a copy-on-write list of subscriptions: registration from any
// goroutine, lock-free reads on the tick.
type registry struct {
	mu   sync.Mutex
	next uint64
	subs atomic.Pointer[[]*Subscription]
}

func (r *registry) add(f Filter, h EventHandler) *Subscription {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	s := &Subscription{reg: r, id: r.next, filter: f, h: h}
	var cur []*Subscription
	if p := r.subs.Load(); p != nil {
		cur = *p
	}
	nw := make([]*Subscription, len(cur), len(cur)+1)
	copy(nw, cur)
	nw = append(nw, s)
	r.subs.Store(&nw)
	return s
}

func (r *registry) remove(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.subs.Load()
	if p == nil {
		return
	}
	nw := make([]*Subscription, 0, len(*p))
	for _, s := range *p {
		if s.id != id {
			nw = append(nw, s)
		}
	}
	r.subs.Store(&nw)
}

func (r *registry) load() []*Subscription {
	if p := r.subs.Load(); p != nil {
		return *p
	}
	return nil
}
