package breaker

import (
	"sync"
	"time"
)

// Transition describes one state change of a [Breaker].
type Transition struct {
	From, To State
	// Reason is the failure reason passed to Failure for transitions to
	// Open, ReasonCooldown for Open -> HalfOpen and ReasonProbeSucceeded
	// for HalfOpen -> Closed.
	Reason string
	// At is the time passed to the call that caused the change.
	At time.Time
	// Failures is the number of consecutive failures at the time of the
	// change (0 after a success).
	Failures int
}

// Reasons used for transitions that are not caused by a failure.
const (
	ReasonCooldown       = "cooldown elapsed"
	ReasonProbeSucceeded = "probe succeeded"
)

// Breaker is a circuit breaker for one server. Create one with [New]; see
// the package documentation for the state machine and contracts.
type Breaker struct {
	cfg Config

	mu        sync.Mutex
	state     State
	failures  int       // consecutive failures
	openUntil time.Time // valid while Open
	probes    int       // probes started while HalfOpen
	trips     uint64
	onChange  func(Transition)
}

// New returns a Closed breaker. It panics if c is invalid; check
// [Config.Validate] first when c comes from user input.
func New(c Config) *Breaker {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return &Breaker{cfg: c}
}

// Allow reports whether an attempt may start at time now.
//
// Closed: always true. Open: false until now >= OpenUntil(); at that point
// the breaker moves to HalfOpen and the call is treated as in HalfOpen.
// HalfOpen: true while fewer than HalfOpenProbes probes have started; each
// true return starts a probe.
func (b *Breaker) Allow(now time.Time) bool {
	b.mu.Lock()
	var tr Transition
	if b.state == StateOpen && !now.Before(b.openUntil) {
		tr = b.move(StateHalfOpen, ReasonCooldown, now)
		b.probes = 0
	}
	ok := false
	switch b.state {
	case StateClosed:
		ok = true
	case StateHalfOpen:
		if b.probes < b.cfg.HalfOpenProbes {
			b.probes++
			ok = true
		}
	}
	f := b.onChange
	b.mu.Unlock()
	notify(f, tr)
	return ok
}

// Success records a successful attempt. HalfOpen: the breaker closes.
// Closed: the consecutive failure count is reset. Open: ignored (a late
// result of an attempt started before the breaker opened).
func (b *Breaker) Success(now time.Time) {
	b.mu.Lock()
	var tr Transition
	switch b.state {
	case StateClosed:
		b.failures = 0
	case StateHalfOpen:
		b.failures = 0
		b.probes = 0
		tr = b.move(StateClosed, ReasonProbeSucceeded, now)
	}
	f := b.onChange
	b.mu.Unlock()
	notify(f, tr)
}

// Failure records a failed attempt with a short reason (used in the
// [Transition]). Closed: the consecutive failure count grows and the breaker
// opens when it reaches Threshold. HalfOpen: the breaker reopens at once
// with a new cooldown starting at now. Open: ignored (a late result).
func (b *Breaker) Failure(now time.Time, reason string) {
	b.mu.Lock()
	var tr Transition
	switch b.state {
	case StateClosed:
		b.failures++
		if b.failures >= b.cfg.Threshold {
			tr = b.open(now, reason)
		}
	case StateHalfOpen:
		b.failures++
		tr = b.open(now, reason)
	}
	f := b.onChange
	b.mu.Unlock()
	notify(f, tr)
}

// State returns the current state. An Open breaker whose cooldown has
// elapsed still reports StateOpen until the next Allow.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// OpenUntil returns the time from which an Open breaker lets a probe
// through, or the zero time if the breaker is not Open.
func (b *Breaker) OpenUntil() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != StateOpen {
		return time.Time{}
	}
	return b.openUntil
}

// ConsecutiveFailures returns the number of failures recorded since the
// last success.
func (b *Breaker) ConsecutiveFailures() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures
}

// Trips returns how many times the breaker has moved to Open (from Closed
// or from HalfOpen).
func (b *Breaker) Trips() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.trips
}

// OnTransition registers f to be called synchronously on every state
// change, replacing any previous callback; nil removes it. f runs on the
// goroutine that caused the change, outside the breaker's lock.
func (b *Breaker) OnTransition(f func(Transition)) {
	b.mu.Lock()
	b.onChange = f
	b.mu.Unlock()
}

// open moves to Open with a fresh cooldown. b.mu must be held.
func (b *Breaker) open(now time.Time, reason string) Transition {
	b.openUntil = now.Add(b.cfg.Cooldown)
	b.trips++
	b.probes = 0
	return b.move(StateOpen, reason, now)
}

// move changes the state and returns the transition to report. b.mu must be
// held.
func (b *Breaker) move(to State, reason string, now time.Time) Transition {
	tr := Transition{From: b.state, To: to, Reason: reason, At: now, Failures: b.failures}
	b.state = to
	return tr
}

// notify calls f with tr if tr is a real state change (the zero Transition,
// closed -> closed, is not).
func notify(f func(Transition), tr Transition) {
	if f != nil && tr.From != tr.To {
		f(tr)
	}
}
