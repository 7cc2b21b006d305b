package ring

// Slots exposes the backing array so tests can check that vacated slots are
// zeroed.
func Slots[T any](r *Ring[T]) []T { return r.buf }
