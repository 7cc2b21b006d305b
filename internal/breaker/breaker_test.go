package breaker_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apntalk/ami/internal/breaker"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestStateString(t *testing.T) {
	tests := []struct {
		s    breaker.State
		want string
	}{
		{breaker.StateClosed, "closed"},
		{breaker.StateOpen, "open"},
		{breaker.StateHalfOpen, "half_open"},
		{breaker.State(9), "State(9)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("State(%d).String() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := breaker.Config{Threshold: 3, Cooldown: time.Second, HalfOpenProbes: 1}
	tests := []struct {
		name      string
		mod       func(*breaker.Config)
		wantField string
	}{
		{"valid", func(*breaker.Config) {}, ""},
		{"zero threshold", func(c *breaker.Config) { c.Threshold = 0 }, "Threshold"},
		{"zero cooldown", func(c *breaker.Config) { c.Cooldown = 0 }, "Cooldown"},
		{"negative cooldown", func(c *breaker.Config) { c.Cooldown = -time.Second }, "Cooldown"},
		{"zero probes", func(c *breaker.Config) { c.HalfOpenProbes = 0 }, "HalfOpenProbes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			var ce *breaker.ConfigError
			if !errors.Is(err, breaker.ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Fatalf("Validate() = %v, want ConfigError on %s", err, tt.wantField)
			}
			if !strings.HasPrefix(err.Error(), "ami: ") || !strings.Contains(err.Error(), tt.wantField) {
				t.Errorf("error text %q", err)
			}
		})
	}
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	defer func() {
		r := recover()
		if err, ok := r.(error); !ok || !errors.Is(err, breaker.ErrInvalidConfig) {
			t.Fatalf("recover() = %v, want ErrInvalidConfig", r)
		}
	}()
	breaker.New(breaker.Config{})
}

// step is one call on the breaker followed by the expected observations.
type step struct {
	op        string // "allow", "ok", "fail"
	at        time.Duration
	wantAllow bool // for "allow"
	wantState breaker.State
	wantFails int
	wantTrips uint64
}

func TestTransitionTable(t *testing.T) {
	cfg := breaker.Config{Threshold: 3, Cooldown: 10 * time.Second, HalfOpenProbes: 2}
	tests := []struct {
		name    string
		steps   []step
		wantTrs []breaker.Transition
	}{
		{
			name: "closed stays closed below threshold; success resets",
			steps: []step{
				{op: "allow", wantAllow: true, wantState: breaker.StateClosed},
				{op: "fail", wantState: breaker.StateClosed, wantFails: 1},
				{op: "fail", wantState: breaker.StateClosed, wantFails: 2},
				{op: "ok", wantState: breaker.StateClosed, wantFails: 0},
				{op: "fail", wantState: breaker.StateClosed, wantFails: 1},
				{op: "fail", wantState: breaker.StateClosed, wantFails: 2},
			},
		},
		{
			name: "threshold opens, cooldown half-opens, success closes",
			steps: []step{
				{op: "fail", at: 0, wantState: breaker.StateClosed, wantFails: 1},
				{op: "fail", at: time.Second, wantState: breaker.StateClosed, wantFails: 2},
				{op: "fail", at: 2 * time.Second, wantState: breaker.StateOpen, wantFails: 3, wantTrips: 1},
				{op: "allow", at: 3 * time.Second, wantAllow: false, wantState: breaker.StateOpen, wantFails: 3, wantTrips: 1},
				{op: "allow", at: 12*time.Second - 1, wantAllow: false, wantState: breaker.StateOpen, wantFails: 3, wantTrips: 1},
				{op: "allow", at: 12 * time.Second, wantAllow: true, wantState: breaker.StateHalfOpen, wantFails: 3, wantTrips: 1},
				{op: "ok", at: 13 * time.Second, wantState: breaker.StateClosed, wantFails: 0, wantTrips: 1},
				{op: "allow", at: 13 * time.Second, wantAllow: true, wantState: breaker.StateClosed, wantTrips: 1},
			},
			wantTrs: []breaker.Transition{
				{From: breaker.StateClosed, To: breaker.StateOpen, Reason: "r", At: at(2 * time.Second), Failures: 3},
				{From: breaker.StateOpen, To: breaker.StateHalfOpen, Reason: breaker.ReasonCooldown, At: at(12 * time.Second), Failures: 3},
				{From: breaker.StateHalfOpen, To: breaker.StateClosed, Reason: breaker.ReasonProbeSucceeded, At: at(13 * time.Second), Failures: 0},
			},
		},
		{
			name: "half-open failure reopens with a new cooldown",
			steps: []step{
				{op: "fail", wantState: breaker.StateClosed, wantFails: 1},
				{op: "fail", wantState: breaker.StateClosed, wantFails: 2},
				{op: "fail", wantState: breaker.StateOpen, wantFails: 3, wantTrips: 1},
				{op: "allow", at: 20 * time.Second, wantAllow: true, wantState: breaker.StateHalfOpen, wantFails: 3, wantTrips: 1},
				{op: "fail", at: 21 * time.Second, wantState: breaker.StateOpen, wantFails: 4, wantTrips: 2},
				// The new cooldown runs from the half-open failure (21s), not from the first trip.
				{op: "allow", at: 30 * time.Second, wantAllow: false, wantState: breaker.StateOpen, wantFails: 4, wantTrips: 2},
				{op: "allow", at: 31 * time.Second, wantAllow: true, wantState: breaker.StateHalfOpen, wantFails: 4, wantTrips: 2},
			},
			wantTrs: []breaker.Transition{
				{From: breaker.StateClosed, To: breaker.StateOpen, Reason: "r", At: at(0), Failures: 3},
				{From: breaker.StateOpen, To: breaker.StateHalfOpen, Reason: breaker.ReasonCooldown, At: at(20 * time.Second), Failures: 3},
				{From: breaker.StateHalfOpen, To: breaker.StateOpen, Reason: "r", At: at(21 * time.Second), Failures: 4},
				{From: breaker.StateOpen, To: breaker.StateHalfOpen, Reason: breaker.ReasonCooldown, At: at(31 * time.Second), Failures: 4},
			},
		},
		{
			name: "late results while open are ignored",
			steps: []step{
				{op: "fail", wantState: breaker.StateClosed, wantFails: 1},
				{op: "fail", wantState: breaker.StateClosed, wantFails: 2},
				{op: "fail", wantState: breaker.StateOpen, wantFails: 3, wantTrips: 1},
				{op: "ok", at: time.Second, wantState: breaker.StateOpen, wantFails: 3, wantTrips: 1},
				{op: "fail", at: time.Second, wantState: breaker.StateOpen, wantFails: 3, wantTrips: 1},
				{op: "allow", at: 10 * time.Second, wantAllow: true, wantState: breaker.StateHalfOpen, wantFails: 3, wantTrips: 1},
			},
			wantTrs: []breaker.Transition{
				{From: breaker.StateClosed, To: breaker.StateOpen, Reason: "r", At: at(0), Failures: 3},
				{From: breaker.StateOpen, To: breaker.StateHalfOpen, Reason: breaker.ReasonCooldown, At: at(10 * time.Second), Failures: 3},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := breaker.New(cfg)
			var trs []breaker.Transition
			b.OnTransition(func(tr breaker.Transition) { trs = append(trs, tr) })
			for i, s := range tt.steps {
				now := at(s.at)
				switch s.op {
				case "allow":
					if got := b.Allow(now); got != s.wantAllow {
						t.Fatalf("step %d: Allow(%v) = %v, want %v", i, s.at, got, s.wantAllow)
					}
				case "ok":
					b.Success(now)
				case "fail":
					b.Failure(now, "r")
				}
				if got := b.State(); got != s.wantState {
					t.Fatalf("step %d (%s): State() = %v, want %v", i, s.op, got, s.wantState)
				}
				if got := b.ConsecutiveFailures(); got != s.wantFails {
					t.Fatalf("step %d (%s): ConsecutiveFailures() = %d, want %d", i, s.op, got, s.wantFails)
				}
				if got := b.Trips(); got != s.wantTrips {
					t.Fatalf("step %d (%s): Trips() = %d, want %d", i, s.op, got, s.wantTrips)
				}
			}
			if len(trs) != len(tt.wantTrs) {
				t.Fatalf("transitions = %+v, want %+v", trs, tt.wantTrs)
			}
			for i := range trs {
				if trs[i] != tt.wantTrs[i] {
					t.Errorf("transition %d = %+v, want %+v", i, trs[i], tt.wantTrs[i])
				}
			}
		})
	}
}

func TestOpenUntil(t *testing.T) {
	b := breaker.New(breaker.Config{Threshold: 1, Cooldown: 5 * time.Second, HalfOpenProbes: 1})
	if !b.OpenUntil().IsZero() {
		t.Fatalf("OpenUntil() = %v while closed, want zero", b.OpenUntil())
	}
	b.Failure(at(time.Second), "refused")
	if got, want := b.OpenUntil(), at(6*time.Second); !got.Equal(want) {
		t.Fatalf("OpenUntil() = %v, want %v", got, want)
	}
	b.Allow(at(6 * time.Second))
	if !b.OpenUntil().IsZero() {
		t.Fatalf("OpenUntil() = %v while half-open, want zero", b.OpenUntil())
	}
}

func TestHalfOpenProbeLimit(t *testing.T) {
	for _, probes := range []int{1, 2, 5} {
		b := breaker.New(breaker.Config{Threshold: 1, Cooldown: time.Second, HalfOpenProbes: probes})
		b.Failure(at(0), "x")
		allowed := 0
		for range probes + 10 {
			if b.Allow(at(time.Second)) {
				allowed++
			}
		}
		if allowed != probes {
			t.Errorf("HalfOpenProbes=%d: %d attempts allowed", probes, allowed)
		}
		if b.State() != breaker.StateHalfOpen {
			t.Errorf("HalfOpenProbes=%d: state %v, want half_open", probes, b.State())
		}
		// A failure reopens; after the next cooldown the probe budget is fresh.
		b.Failure(at(2*time.Second), "x")
		if b.Allow(at(2*time.Second + 999*time.Millisecond)) {
			t.Errorf("HalfOpenProbes=%d: allowed during the new cooldown", probes)
		}
		allowed = 0
		for range probes + 10 {
			if b.Allow(at(3 * time.Second)) {
				allowed++
			}
		}
		if allowed != probes {
			t.Errorf("HalfOpenProbes=%d: %d attempts allowed after reopen", probes, allowed)
		}
	}
}

func TestCallbackMayCallBreaker(t *testing.T) {
	b := breaker.New(breaker.Config{Threshold: 1, Cooldown: time.Second, HalfOpenProbes: 1})
	var seen breaker.State
	b.OnTransition(func(tr breaker.Transition) { seen = b.State() })
	b.Failure(at(0), "x") // would deadlock if the callback ran under the lock
	if seen != breaker.StateOpen {
		t.Fatalf("callback saw %v, want open", seen)
	}
	b.OnTransition(nil)
	b.Allow(at(time.Second)) // no callback, no panic
}

func TestConcurrentUse(t *testing.T) {
	b := breaker.New(breaker.Config{Threshold: 2, Cooldown: time.Millisecond, HalfOpenProbes: 1})
	var mu sync.Mutex
	count := 0
	b.OnTransition(func(breaker.Transition) { mu.Lock(); count++; mu.Unlock() })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				now := at(time.Duration(i) * time.Millisecond)
				if b.Allow(now) {
					if (i+g)%3 == 0 {
						b.Success(now)
					} else {
						b.Failure(now, "x")
					}
				}
				_ = b.State()
			}
		}()
	}
	wg.Wait()
	if b.Trips() == 0 || count == 0 {
		t.Fatalf("Trips()=%d transitions=%d, want some", b.Trips(), count)
	}
}
