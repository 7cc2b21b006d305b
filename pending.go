package ami

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Result is the complete answer to an action.
type Result struct {
	Server   string
	ActionID string
	Action   string
	// Response is the response frame's headers (Response, Message, ...).
	Response Headers
	// Events are the items of an event-list action (without the closing
	// ...Complete event), or the OriginateResponse event of an async Originate.
	Events []*Event
	// Complete is the closing event of an event list (ListItems, ...), if any.
	Complete Headers
	// Output are the output lines of a Command, from either Asterisk format.
	Output []string
	// Latency is the time from Send to completion, as seen by the tick.
	Latency time.Duration
}

// Get returns the first value of key in the response.
func (r *Result) Get(key string) string { return r.Response.Get(key) }

// SendOption changes how one action is sent.
type SendOption func(*sendOptions)

type sendOptions struct {
	timeout    time.Duration
	actionID   string
	completion Completion
	hasComp    bool
}

// WithTimeout sets the action's timeout (default Options.ActionTimeout,
// extended by the action's TimeoutHint, e.g. Originate's ring time).
func WithTimeout(d time.Duration) SendOption { return func(o *sendOptions) { o.timeout = d } }

// WithActionID uses a caller-chosen ActionID instead of a generated one. It
// must be 1..64 bytes of printable ASCII without spaces, and not already
// pending on that server (ErrInvalidActionID, ErrDuplicateActionID).
func WithActionID(id string) SendOption { return func(o *sendOptions) { o.actionID = id } }

// WithCompletion overrides the action's completion strategy.
func WithCompletion(c Completion) SendOption {
	return func(o *sendOptions) { o.completion, o.hasComp = c, true }
}

// Pending is an action sent and not yet known to be complete.
type Pending struct {
	server   string
	actionID string
	action   string

	mu        sync.Mutex
	done      chan struct{}
	finished  bool
	res       *Result
	err       error
	callbacks []func(*Result, error)

	// Owned by the tick goroutine (set before the action is visible to it).
	completion Completion
	sentAt     time.Time
	deadline   time.Time
	start      uint64 // stream offset of the first byte in its epoch
	internal   func(*Result, error)
	responded  bool
	collecting bool
	resp       Headers
	events     []*Event
	listDrops  int
	origEvent  *Event // OriginateResponse that came before the response
}

// ActionID is the action's ActionID.
func (p *Pending) ActionID() string { return p.actionID }

// Server is the key of the server the action was sent to.
func (p *Pending) Server() string { return p.server }

// Action is the action's name.
func (p *Pending) Action() string { return p.action }

// Done is closed when the action is complete (successfully or not).
func (p *Pending) Done() <-chan struct{} { return p.done }

// Result returns the outcome once Done is closed; before that it returns
// (nil, nil).
func (p *Pending) Result() (*Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.res, p.err
}

// OnComplete registers f to run once with the outcome. It runs on the tick
// goroutine (after the manager's internal bookkeeping), in registration
// order, and must not block. If the action is already complete, f runs
// immediately on the calling goroutine.
func (p *Pending) OnComplete(f func(*Result, error)) {
	p.mu.Lock()
	if !p.finished {
		p.callbacks = append(p.callbacks, f)
		p.mu.Unlock()
		return
	}
	res, err := p.res, p.err
	p.mu.Unlock()
	f(res, err)
}

// Wait blocks until the action completes or ctx is done. Someone must be
// driving the manager (Run, or TickAll/Poll in a loop) on another
// goroutine. When ctx ends first, the context's error is returned wrapped;
// the action stays pending until its own timeout.
func (p *Pending) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-p.done:
		return p.Result()
	case <-ctx.Done():
		return nil, fmt.Errorf("ami: waiting for %s (server %q, ActionID %s): %w", p.action, p.server, p.actionID, ctx.Err())
	}
}

// complete records the outcome and runs the callbacks. Tick goroutine only
// (or Close). It reports whether this call completed the action. Callback
// panics are recovered and handed to onPanic.
func (p *Pending) complete(res *Result, err error, onPanic func(any)) bool {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return false
	}
	p.finished = true
	p.res, p.err = res, err
	cbs := p.callbacks
	p.callbacks = nil
	close(p.done)
	p.mu.Unlock()
	if p.internal != nil {
		safeCall(func() { p.internal(res, err) }, onPanic)
	}
	for _, f := range cbs {
		safeCall(func() { f(res, err) }, onPanic)
	}
	return true
}

func safeCall(f func(), onPanic func(any)) {
	defer func() {
		if r := recover(); r != nil && onPanic != nil {
			onPanic(r)
		}
	}()
	f()
}

// TimeoutError fails an action that got no complete answer in time. The
// action was written: its outcome is unknown.
type TimeoutError struct {
	Server   string
	Action   string
	ActionID string
	After    time.Duration
}

// Error implements the error interface.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("ami: %s timed out after %v (server %q, ActionID %s)", e.Action, e.After, e.Server, e.ActionID)
}

// Is makes errors.Is(err, ErrActionTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrActionTimeout }
