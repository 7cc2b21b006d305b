package backoff_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami/internal/backoff"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		p         backoff.Policy
		wantField string // "" means valid
	}{
		{"typical", backoff.Policy{Base: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.2}, ""},
		{"max equals base", backoff.Policy{Base: time.Second, Max: time.Second}, ""},
		{"jitter one", backoff.Policy{Base: time.Second, Max: time.Second, Jitter: 1}, ""},
		{"zero base", backoff.Policy{Base: 0, Max: time.Second}, "Base"},
		{"negative base", backoff.Policy{Base: -time.Second, Max: time.Second}, "Base"},
		{"max below base", backoff.Policy{Base: 2 * time.Second, Max: time.Second}, "Max"},
		{"negative jitter", backoff.Policy{Base: time.Second, Max: time.Second, Jitter: -0.1}, "Jitter"},
		{"jitter above one", backoff.Policy{Base: time.Second, Max: time.Second, Jitter: 1.01}, "Jitter"},
		{"jitter NaN", backoff.Policy{Base: time.Second, Max: time.Second, Jitter: math.NaN()}, "Jitter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error on %s", tt.wantField)
			}
			if !errors.Is(err, backoff.ErrInvalidPolicy) {
				t.Errorf("errors.Is(err, ErrInvalidPolicy) = false for %v", err)
			}
			var pe *backoff.PolicyError
			if !errors.As(err, &pe) || pe.Field != tt.wantField {
				t.Fatalf("err = %#v, want *PolicyError on field %s", err, tt.wantField)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "ami: ") || !strings.Contains(msg, tt.wantField) || pe.Range == "" || !strings.Contains(msg, pe.Range) {
				t.Errorf("error %q must start with \"ami: \" and name the field and range", msg)
			}
		})
	}
}

func TestDelayExactSequence(t *testing.T) {
	p := backoff.Policy{Base: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.5}
	want := []time.Duration{
		500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second,
	}
	for attempt, w := range want {
		if got := p.Delay(attempt, nil); got != w {
			t.Errorf("Delay(%d, nil) = %v, want %v", attempt, got, w)
		}
	}
	if got := p.Delay(-3, nil); got != p.Base {
		t.Errorf("Delay(-3, nil) = %v, want Base %v", got, p.Base)
	}
	// Jitter 0 with a rand source is still exact.
	p.Jitter = 0
	r := rand.New(rand.NewPCG(1, 2))
	for attempt, w := range want {
		if got := p.Delay(attempt, r); got != w {
			t.Errorf("Delay(%d, r) with Jitter 0 = %v, want %v", attempt, got, w)
		}
	}
}

func TestDelayOverflowSafe(t *testing.T) {
	tests := []backoff.Policy{
		{Base: 500 * time.Millisecond, Max: 30 * time.Second},
		{Base: time.Nanosecond, Max: time.Duration(math.MaxInt64)},
		{Base: time.Duration(math.MaxInt64 / 3), Max: time.Duration(math.MaxInt64)},
		{Base: time.Hour, Max: time.Duration(math.MaxInt64), Jitter: 1},
	}
	r := rand.New(rand.NewPCG(7, 7))
	for _, p := range tests {
		for _, attempt := range []int{63, 64, 65, 100, 1000, math.MaxInt} {
			got := p.Delay(attempt, nil)
			if got != p.Max {
				t.Errorf("%+v: Delay(%d, nil) = %v, want Max %v", p, attempt, got, p.Max)
			}
			if j := p.Delay(attempt, r); j < 0 {
				t.Errorf("%+v: Delay(%d, r) = %v, negative", p, attempt, j)
			}
		}
	}
}

func TestDelayJitterSpread(t *testing.T) {
	tests := []struct {
		name    string
		p       backoff.Policy
		attempt int
	}{
		{"base 20%", backoff.Policy{Base: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.2}, 0},
		{"third attempt 50%", backoff.Policy{Base: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.5}, 3},
		{"capped 10%", backoff.Policy{Base: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.1}, 1000},
		{"full jitter", backoff.Policy{Base: time.Second, Max: time.Second, Jitter: 1}, 0},
	}
	const draws = 20_000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := float64(tt.p.Delay(tt.attempt, nil))
			lo := time.Duration(d * (1 - tt.p.Jitter))
			hi := time.Duration(d * (1 + tt.p.Jitter))
			// "Near the bounds": within 1% of the interval's width.
			slack := (hi - lo) / 100
			r := rand.New(rand.NewPCG(42, uint64(tt.attempt)))
			minSeen, maxSeen := time.Duration(math.MaxInt64), time.Duration(0)
			for range draws {
				got := tt.p.Delay(tt.attempt, r)
				if got < lo || got > hi {
					t.Fatalf("Delay = %v outside [%v, %v]", got, lo, hi)
				}
				minSeen, maxSeen = min(minSeen, got), max(maxSeen, got)
			}
			if minSeen > lo+slack {
				t.Errorf("smallest delay %v not near lower bound %v", minSeen, lo)
			}
			if maxSeen < hi-slack {
				t.Errorf("largest delay %v not near upper bound %v", maxSeen, hi)
			}
		})
	}
}

func TestDelayDeterministicWithSeed(t *testing.T) {
	p := backoff.Policy{Base: 100 * time.Millisecond, Max: 10 * time.Second, Jitter: 0.3}
	a := rand.New(rand.NewPCG(9, 9))
	b := rand.New(rand.NewPCG(9, 9))
	varied := false
	var prev time.Duration
	for i := range 50 {
		x, y := p.Delay(i%8, a), p.Delay(i%8, b)
		if x != y {
			t.Fatalf("same seed gave %v and %v", x, y)
		}
		if i > 0 && i%8 == 0 && x != prev {
			varied = true
		}
		if i%8 == 0 {
			prev = x
		}
	}
	if !varied {
		t.Errorf("jittered delays for attempt 0 never varied")
	}
}
