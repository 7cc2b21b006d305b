package lineout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// DefaultCapacity is the queue capacity, in lines, used by [New] when it is
// given a capacity below 1.
const DefaultCapacity = 1024

// maxRetained is the largest batch buffer kept for reuse after a write.
const maxRetained = 1 << 20

// Stats is a snapshot of a [Writer]'s counters; see the package
// documentation for how they relate.
type Stats struct {
	Queued  uint64 // WriteLine calls
	Written uint64 // lines fully written to the underlying writer
	Dropped uint64 // lines that were not (and will not be) written
	Errors  uint64 // failed Write calls on the underlying writer
}

// Writer is a bounded, non-blocking line writer. Create one with [New] and
// release it with [Writer.Close].
type Writer struct {
	w        io.Writer
	capacity int

	mu        sync.Mutex
	cur       batch // lines waiting for the writer goroutine
	spare     batch // reusable buffer
	stats     Stats
	closed    bool
	abandoned bool  // Close gave up: the goroutine must exit without counting
	inFlight  int   // lines in the batch being written
	closeErr  error // what Close returns once abandoned

	wake chan struct{} // 1-slot
	done chan struct{} // closed when the goroutine exits
}

// batch is a run of lines, each ending in '\n'.
type batch struct {
	buf  []byte
	ends []int // ends[i] is the offset just past line i
}

func (b *batch) reset() {
	if cap(b.buf) > maxRetained {
		*b = batch{}
		return
	}
	b.buf, b.ends = b.buf[:0], b.ends[:0]
}

// New returns a Writer that queues at most capacityLines lines for w
// (DefaultCapacity if capacityLines < 1), and starts its goroutine. While
// one batch is being written, up to capacityLines more lines can queue.
func New(w io.Writer, capacityLines int) *Writer {
	if capacityLines < 1 {
		capacityLines = DefaultCapacity
	}
	lw := &Writer{
		w:        w,
		capacity: capacityLines,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	go lw.run()
	return lw
}

// WriteLine queues a copy of line (the caller may reuse it), adding a
// trailing '\n' if it is missing. It never blocks: it returns false, and
// counts the line as Dropped, if the queue is full or the Writer is closed.
func (w *Writer) WriteLine(line []byte) bool {
	w.mu.Lock()
	w.stats.Queued++
	if w.closed || len(w.cur.ends) >= w.capacity {
		w.stats.Dropped++
		w.mu.Unlock()
		return false
	}
	w.cur.buf = append(w.cur.buf, line...)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		w.cur.buf = append(w.cur.buf, '\n')
	}
	w.cur.ends = append(w.cur.ends, len(w.cur.buf))
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// Stats returns a consistent snapshot of the counters.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Close stops accepting lines (later ones are counted as Dropped) and lets
// the goroutine write what is queued until ctx is done. It returns nil once
// every queued line has been handled. If ctx is done first, the lines still
// queued and those of a Write in progress are counted as Dropped, and Close
// returns ctx.Err() without waiting for that Write. Close is idempotent; it
// does not close the underlying writer.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	if w.abandoned {
		err := w.closeErr
		w.mu.Unlock()
		return err
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	default:
	}
	if !w.abandoned {
		w.abandoned = true
		w.closeErr = ctx.Err()
		w.stats.Dropped += uint64(len(w.cur.ends) + w.inFlight)
		w.cur = batch{}
	}
	return w.closeErr
}

// run is the writer goroutine.
func (w *Writer) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		if w.abandoned {
			w.mu.Unlock()
			return
		}
		if len(w.cur.ends) == 0 {
			closed := w.closed
			w.mu.Unlock()
			if closed {
				return
			}
			<-w.wake
			continue
		}
		b := w.cur
		w.cur, w.spare = w.spare, batch{}
		w.inFlight = len(b.ends)
		w.mu.Unlock()

		n, err := w.write(b.buf)
		written := len(b.ends)
		if err != nil {
			written = 0
			for written < len(b.ends) && b.ends[written] <= n {
				written++
			}
		}

		w.mu.Lock()
		w.inFlight = 0
		if w.abandoned {
			w.mu.Unlock()
			return
		}
		w.stats.Written += uint64(written)
		w.stats.Dropped += uint64(len(b.ends) - written)
		if err != nil {
			w.stats.Errors++
		}
		b.reset()
		w.spare = b
		w.mu.Unlock()
	}
}

// errPanic reports a panic in the underlying writer.
var errPanic = errors.New("ami: line writer panicked")

// write calls w.w.Write, turning panics and short writes into errors.
func (w *Writer) write(p []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	n, err = w.w.Write(p)
	n = max(0, min(n, len(p)))
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}
