package clock

import (
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
}

// Real is the wall clock: its Now is [time.Now].
var Real Clock = realClock{}

type realClock struct{}

// Now returns time.Now().
func (realClock) Now() time.Time { return time.Now() }

// Fake is a manually driven [Clock] for tests. Its time only changes through
// [Fake.Advance] and [Fake.Set]. A Fake is safe for concurrent use; the zero
// value reads as the zero time.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a Fake that reads t until it is advanced or set.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t}
}

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake's time forward by d (backward if d is negative).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Set sets the fake's time to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}
