package amiprom

import (
	"sync"
	"sync/atomic"
)

// children caches the label children of one metric for one server, keyed by
// label value, with at most limit entries; further values share the Other
// child. Lookups of a known value are lock-free and allocation-free.
type children[T any] struct {
	m     sync.Map // string -> T
	n     atomic.Int32
	limit int32
	make  func(label string) T
	other atomic.Pointer[T]
}

func newChildren[T any](limit int, mk func(string) T) *children[T] {
	return &children[T]{limit: int32(limit), make: mk}
}

// get returns the child for label, creating it on first use.
func (c *children[T]) get(label string) T {
	if v, ok := c.m.Load(label); ok {
		return v.(T)
	}
	if label == Other {
		return c.otherChild()
	}
	if c.n.Add(1) > c.limit {
		c.n.Add(-1)
		return c.otherChild()
	}
	v, loaded := c.m.LoadOrStore(label, c.make(label))
	if loaded {
		c.n.Add(-1)
	}
	return v.(T)
}

func (c *children[T]) otherChild() T {
	if p := c.other.Load(); p != nil {
		return *p
	}
	v := c.make(Other)
	c.other.CompareAndSwap(nil, &v)
	return *c.other.Load()
}
