// Package ring implements a bounded FIFO queue that, when full, evicts its
// oldest element to make room for a new one ("drop-oldest").
//
// It is the building block of ami's bounded queues (event queues, inboxes):
// memory stays constant whatever the input rate, and every eviction is
// counted exactly so that callers can report it.
//
// Concurrency: a [Ring] is NOT safe for concurrent use. In ami it is owned by
// the tick goroutine; callers that share one across goroutines must provide
// their own locking.
//
// Cost: the backing array is allocated once by [New]; Push, Pop and Peek
// never allocate. Popped, evicted and cleared slots are zeroed so that the
// garbage collector can reclaim what they referenced.
package ring
