package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// Policy describes an exponential backoff with jitter. The un-jittered delay
// for attempt n is Base * 2^n, capped at Max; jitter then spreads it
// uniformly over [d*(1-Jitter), d*(1+Jitter)].
type Policy struct {
	// Base is the delay before the first retry (attempt 0), e.g. 500ms.
	// It must be > 0.
	Base time.Duration
	// Max caps the un-jittered delay, e.g. 30s. It must be >= Base.
	// With jitter, a delay can exceed Max by at most Max*Jitter.
	Max time.Duration
	// Jitter is the relative spread in [0, 1]: the delay is drawn uniformly
	// from [d*(1-Jitter), d*(1+Jitter)]. 0 disables jitter.
	Jitter float64
}

// Validate reports whether p is usable. The error names the offending field
// and its allowed range; it is a *[PolicyError] matching [ErrInvalidPolicy].
func (p Policy) Validate() error {
	switch {
	case p.Base <= 0:
		return &PolicyError{Field: "Base", Value: p.Base, Range: "> 0"}
	case p.Max < p.Base:
		return &PolicyError{Field: "Max", Value: p.Max, Range: ">= Base (" + p.Base.String() + ")"}
	case !(p.Jitter >= 0 && p.Jitter <= 1): // also rejects NaN
		return &PolicyError{Field: "Jitter", Value: p.Jitter, Range: "in [0, 1]"}
	}
	return nil
}

// Delay returns the delay before retry number attempt (0-based): about Base
// for attempt 0, 2*Base for attempt 1, and so on, capped at Max before
// jitter is applied. A negative attempt is treated as 0. Large attempts
// never overflow; they yield Max (jittered).
//
// If r is nil, or Jitter is 0, no jitter is applied and the result is exact.
// Delay assumes p is valid (see [Policy.Validate]); it never returns a
// negative duration.
func (p Policy) Delay(attempt int, r *rand.Rand) time.Duration {
	d := p.raw(attempt)
	if r == nil || p.Jitter <= 0 || d <= 0 {
		return d
	}
	j := min(p.Jitter, 1)
	lo := float64(d) * (1 - j)
	span := float64(d) * 2 * j
	v := lo + r.Float64()*span
	if v >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(v)
}

// raw returns min(Base * 2^attempt, Max) without overflowing.
func (p Policy) raw(attempt int) time.Duration {
	if p.Base <= 0 {
		return 0
	}
	if attempt < 0 {
		attempt = 0
	}
	// Base<<attempt > Max  <=>  Base > Max>>attempt, and the right side
	// cannot overflow. Shifts of 63 or more leave Max>>attempt == 0.
	if attempt >= 63 || p.Base > p.Max>>attempt {
		return max(p.Max, p.Base)
	}
	return p.Base << attempt
}
