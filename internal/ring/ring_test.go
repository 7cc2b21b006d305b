package ring_test

import (
	"slices"
	"testing"

	"github.com/apntalk/ami/internal/ring"
)

// drain pops everything and returns it in order.
func drain[T any](r *ring.Ring[T]) []T {
	var out []T
	for {
		v, ok := r.Pop()
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

func TestNewPanicsOnBadCapacity(t *testing.T) {
	for _, c := range []int{0, -1, -100} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d) did not panic", c)
				}
			}()
			ring.New[int](c)
		}()
	}
}

func TestPushPop(t *testing.T) {
	tests := []struct {
		name        string
		capacity    int
		push        []int
		wantEvicted []int
		wantOut     []int
	}{
		{"empty", 3, nil, nil, nil},
		{"under capacity", 3, []int{1, 2}, nil, []int{1, 2}},
		{"exactly full", 3, []int{1, 2, 3}, nil, []int{1, 2, 3}},
		{"one over", 3, []int{1, 2, 3, 4}, []int{1}, []int{2, 3, 4}},
		{"wraps twice", 3, []int{1, 2, 3, 4, 5, 6, 7, 8}, []int{1, 2, 3, 4, 5}, []int{6, 7, 8}},
		{"capacity one", 1, []int{1, 2, 3}, []int{1, 2}, []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ring.New[int](tt.capacity)
			var evicted []int
			for _, v := range tt.push {
				if d, ok := r.Push(v); ok {
					evicted = append(evicted, d)
				} else if d != 0 {
					t.Fatalf("Push(%d) returned dropped=%d with ok=false", v, d)
				}
			}
			if !slices.Equal(evicted, tt.wantEvicted) {
				t.Fatalf("evicted = %v, want %v", evicted, tt.wantEvicted)
			}
			if got := r.Dropped(); got != uint64(len(tt.wantEvicted)) {
				t.Fatalf("Dropped() = %d, want %d", got, len(tt.wantEvicted))
			}
			if got := r.Len(); got != len(tt.wantOut) {
				t.Fatalf("Len() = %d, want %d", got, len(tt.wantOut))
			}
			if got := r.Cap(); got != tt.capacity {
				t.Fatalf("Cap() = %d, want %d", got, tt.capacity)
			}
			if len(tt.wantOut) > 0 {
				if v, ok := r.Peek(); !ok || v != tt.wantOut[0] {
					t.Fatalf("Peek() = %d, %v; want %d, true", v, ok, tt.wantOut[0])
				}
			}
			if got := drain(r); !slices.Equal(got, tt.wantOut) {
				t.Fatalf("popped %v, want %v", got, tt.wantOut)
			}
			if r.Len() != 0 {
				t.Fatalf("Len() = %d after drain", r.Len())
			}
			if v, ok := r.Pop(); ok || v != 0 {
				t.Fatalf("Pop() on empty = %d, %v", v, ok)
			}
			if v, ok := r.Peek(); ok || v != 0 {
				t.Fatalf("Peek() on empty = %d, %v", v, ok)
			}
		})
	}
}

func TestInterleaved(t *testing.T) {
	// Compare against a simple slice model under a deterministic mix of
	// operations that keeps wrapping the head around.
	const capacity = 5
	r := ring.New[int](capacity)
	var model []int
	var modelDropped uint64
	next := 0
	for step := range 10_000 {
		switch step % 7 {
		case 0, 1, 2, 4, 5:
			next++
			d, ok := r.Push(next)
			model = append(model, next)
			if len(model) > capacity {
				if !ok || d != model[0] {
					t.Fatalf("step %d: Push evicted %d,%v; want %d,true", step, d, ok, model[0])
				}
				model = model[1:]
				modelDropped++
			} else if ok {
				t.Fatalf("step %d: Push evicted %d while not full", step, d)
			}
		default:
			v, ok := r.Pop()
			if len(model) == 0 {
				if ok {
					t.Fatalf("step %d: Pop on empty returned %d", step, v)
				}
				continue
			}
			if !ok || v != model[0] {
				t.Fatalf("step %d: Pop = %d,%v; want %d,true", step, v, ok, model[0])
			}
			model = model[1:]
		}
		if r.Len() != len(model) || r.Dropped() != modelDropped {
			t.Fatalf("step %d: Len=%d Dropped=%d; want %d %d", step, r.Len(), r.Dropped(), len(model), modelDropped)
		}
	}
}

func TestClear(t *testing.T) {
	r := ring.New[*int](4)
	for i := range 6 {
		r.Push(&i)
	}
	if got := r.Clear(); got != 4 {
		t.Fatalf("Clear() = %d, want 4", got)
	}
	if r.Len() != 0 {
		t.Fatalf("Len() = %d after Clear", r.Len())
	}
	if got := r.Dropped(); got != 2 {
		t.Fatalf("Dropped() = %d after Clear, want 2 (Clear must not count)", got)
	}
	for i, p := range ring.Slots(r) {
		if p != nil {
			t.Fatalf("slot %d not zeroed after Clear", i)
		}
	}
	if got := r.Clear(); got != 0 {
		t.Fatalf("second Clear() = %d, want 0", got)
	}
	// Still usable, starting from a clean state.
	x := 42
	r.Push(&x)
	if v, ok := r.Pop(); !ok || *v != 42 {
		t.Fatalf("Pop after Clear = %v, %v", v, ok)
	}
}

func TestPopZeroesSlot(t *testing.T) {
	r := ring.New[*int](3)
	a, b, c, d := 1, 2, 3, 4
	r.Push(&a)
	r.Push(&b)
	r.Push(&c)
	r.Push(&d) // evicts &a, overwriting its slot with &d
	r.Pop()    // &b
	r.Pop()    // &c
	live := 0
	for _, p := range ring.Slots(r) {
		if p != nil {
			live++
			if p != &d {
				t.Fatalf("slot holds %d, want only the live element 4", *p)
			}
		}
	}
	if live != 1 {
		t.Fatalf("%d non-nil slots, want 1", live)
	}
	r.Pop()
	for i, p := range ring.Slots(r) {
		if p != nil {
			t.Fatalf("slot %d not zeroed after Pop", i)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	r := ring.New[string](64)
	s := "event"
	allocs := testing.AllocsPerRun(1000, func() {
		for range 100 {
			r.Push(s)
		}
		for range 50 {
			r.Pop()
		}
		r.Peek()
	})
	if allocs != 0 {
		t.Fatalf("Push/Pop/Peek allocate %v times per run, want 0", allocs)
	}
}

func BenchmarkPushPop(b *testing.B) {
	r := ring.New[string](1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Push("x")
		if i%2 == 0 {
			r.Pop()
		}
	}
}

func BenchmarkPushFull(b *testing.B) {
	r := ring.New[[4]int](1024)
	for range r.Cap() {
		r.Push([4]int{})
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Push([4]int{1, 2, 3, 4})
	}
}
