package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/apntalk/ami/internal/clock"
)

var _ clock.Clock = (*clock.Fake)(nil)

func TestRealIsWallClock(t *testing.T) {
	before := time.Now()
	got := clock.Real.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Fatalf("Real.Now() = %v, want within [%v, %v]", got, before, after)
	}
}

func TestFake(t *testing.T) {
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		op   func(f *clock.Fake)
		want time.Time
	}{
		{"initial", func(*clock.Fake) {}, start},
		{"advance", func(f *clock.Fake) { f.Advance(1500 * time.Millisecond) }, start.Add(1500 * time.Millisecond)},
		{"advance twice", func(f *clock.Fake) { f.Advance(time.Second); f.Advance(time.Minute) }, start.Add(time.Minute + time.Second)},
		{"advance negative", func(f *clock.Fake) { f.Advance(-time.Hour) }, start.Add(-time.Hour)},
		{"set", func(f *clock.Fake) { f.Set(start.Add(24 * time.Hour)) }, start.Add(24 * time.Hour)},
		{"set then advance", func(f *clock.Fake) { f.Set(time.Unix(0, 0)); f.Advance(time.Second) }, time.Unix(1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := clock.NewFake(start)
			tt.op(f)
			if got := f.Now(); !got.Equal(tt.want) {
				t.Fatalf("Now() = %v, want %v", got, tt.want)
			}
			// Time does not move by itself.
			if got := f.Now(); !got.Equal(tt.want) {
				t.Fatalf("second Now() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFakeZeroValue(t *testing.T) {
	var f clock.Fake
	if !f.Now().IsZero() {
		t.Fatalf("zero Fake Now() = %v, want zero time", f.Now())
	}
	f.Advance(time.Second)
	if got := f.Now(); !got.Equal(time.Time{}.Add(time.Second)) {
		t.Fatalf("Now() = %v after Advance(1s) on zero Fake", got)
	}
}

func TestFakeConcurrent(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	const workers, steps = 8, 1000
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range steps {
				f.Advance(time.Millisecond)
				_ = f.Now()
			}
		}()
	}
	wg.Wait()
	want := time.Unix(0, 0).Add(workers * steps * time.Millisecond)
	if got := f.Now(); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}
