package logsink

import (
	"context"
	"log/slog"
	"time"

	"github.com/apntalk/ami/internal/ring"
)

// Defaults applied by [New] to zero (or negative) [Options] fields.
const (
	DefaultCapacity     = 1024
	DefaultWarnInterval = time.Second
)

// DropWarningMessage is the message of the WARN record emitted after drops.
const DropWarningMessage = "ami: log records dropped"

// Options configures a [Handler].
type Options struct {
	// Capacity is the number of records the queue holds. Defaults to 1024.
	Capacity int
	// WarnInterval is the minimum interval between two "log records
	// dropped" warnings. Defaults to 1s.
	WarnInterval time.Duration
}

// Stats is a snapshot of a [Handler]'s counters; see the package
// documentation for how they relate.
type Stats struct {
	Produced  uint64 // records accepted by Handle calls
	Delivered uint64 // records handed to the sink (including failed ones)
	Dropped   uint64 // records that never reached the sink
	Errors    uint64 // sink calls that returned an error
	Panics    uint64 // sink calls that panicked
}

// Handler is a bounded, non-blocking slog.Handler. Create one with [New]
// and release it with [Handler.Close].
type Handler struct {
	c    *core
	next slog.Handler
}

var _ slog.Handler = (*Handler)(nil)

// New returns a Handler that forwards records to next through a bounded
// queue, and starts its writer goroutine.
func New(next slog.Handler, o Options) *Handler {
	if o.Capacity <= 0 {
		o.Capacity = DefaultCapacity
	}
	if o.WarnInterval <= 0 {
		o.WarnInterval = DefaultWarnInterval
	}
	c := &core{
		base:     next,
		interval: o.WarnInterval,
		q:        ring.New[entry](o.Capacity),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	go c.run()
	return &Handler{c: c, next: next}
}

// Enabled reports whether the next handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle queues a clone of r for the writer goroutine and returns nil. It
// never blocks on the sink: if the queue is full or the handler is closed,
// the record is dropped and counted.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx.Done() != nil {
		// The sink runs later: keep the context's values, not its deadline.
		ctx = context.WithoutCancel(ctx)
	}
	c := h.c
	c.mu.Lock()
	c.stats.Produced++
	if c.closed || c.q.Len() == c.q.Cap() {
		c.stats.Dropped++
		c.mu.Unlock()
		return nil
	}
	c.q.Push(entry{ctx: ctx, h: h.next, r: r.Clone()})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// WithAttrs returns a Handler sharing h's queue, writer and counters whose
// records go to next.WithAttrs(as).
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	return &Handler{c: h.c, next: h.next.WithAttrs(as)}
}

// WithGroup returns a Handler sharing h's queue, writer and counters whose
// records go to next.WithGroup(name).
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{c: h.c, next: h.next.WithGroup(name)}
}

// Stats returns a consistent snapshot of the counters. It is safe to call
// from any goroutine.
func (h *Handler) Stats() Stats {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return h.c.stats
}

// Close stops accepting records (later ones are counted as Dropped) and lets
// the writer drain the queue until ctx is done. It returns nil once every
// queued record has been handed to the sink. If ctx is done first, records
// still queued, and the one a blocked sink is holding, are counted as
// Dropped, and Close returns ctx.Err() without waiting for the writer, which
// exits as soon as the sink returns.
//
// Close is idempotent and closes every handler derived from the same [New].
func (h *Handler) Close(ctx context.Context) error {
	return h.c.close(ctx)
}
