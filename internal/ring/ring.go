package ring

import "fmt"

// Ring is a bounded FIFO queue of T that drops its oldest element when a
// Push finds it full. The zero value is not usable; create one with [New].
type Ring[T any] struct {
	buf     []T
	head    int // index of the oldest element
	n       int // number of elements
	dropped uint64
}

// New returns an empty Ring holding at most capacity elements.
// It panics if capacity < 1.
func New[T any](capacity int) *Ring[T] {
	if capacity < 1 {
		panic(fmt.Sprintf("ami: ring capacity must be >= 1, got %d", capacity))
	}
	return &Ring[T]{buf: make([]T, capacity)}
}

// Push appends v at the tail. If the ring is full, the oldest element is
// evicted to make room and returned with ok == true; the eviction is counted
// in [Ring.Dropped]. Otherwise Push returns the zero T and false.
func (r *Ring[T]) Push(v T) (dropped T, ok bool) {
	if r.n == len(r.buf) {
		dropped = r.buf[r.head]
		r.buf[r.head] = v
		r.head = r.next(r.head)
		r.dropped++
		return dropped, true
	}
	r.buf[r.index(r.n)] = v
	r.n++
	return dropped, false
}

// Pop removes and returns the oldest element. It returns the zero T and
// false if the ring is empty.
func (r *Ring[T]) Pop() (T, bool) {
	var zero T
	if r.n == 0 {
		return zero, false
	}
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = r.next(r.head)
	r.n--
	return v, true
}

// Peek returns the oldest element without removing it. It returns the zero
// T and false if the ring is empty.
func (r *Ring[T]) Peek() (T, bool) {
	if r.n == 0 {
		var zero T
		return zero, false
	}
	return r.buf[r.head], true
}

// Len returns the number of elements in the ring.
func (r *Ring[T]) Len() int { return r.n }

// Cap returns the maximum number of elements the ring holds.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// Dropped returns how many elements Push has evicted since the ring was
// created. Elements removed by [Ring.Clear] are not counted.
func (r *Ring[T]) Dropped() uint64 { return r.dropped }

// Clear removes every element and returns how many there were. Removed
// elements are not counted as dropped. The slots are zeroed so that the
// garbage collector can free what they referenced.
func (r *Ring[T]) Clear() int {
	n := r.n
	clear(r.buf)
	r.head, r.n = 0, 0
	return n
}

// index returns the buffer index of the i-th element from the head.
func (r *Ring[T]) index(i int) int {
	j := r.head + i
	if j >= len(r.buf) {
		j -= len(r.buf)
	}
	return j
}

func (r *Ring[T]) next(i int) int {
	i++
	if i == len(r.buf) {
		return 0
	}
	return i
}
