// Package lineout provides a bounded, non-blocking line writer.
//
// The ami CLI writes one line per event to stdout through it: a slow or
// stalled consumer of stdout costs dropped (and counted) output lines, never
// a stalled tick loop.
//
// [Writer.WriteLine] copies the line into an in-memory queue and returns at
// once; one writer goroutine writes queued lines to the underlying
// io.Writer, batching every line queued since its previous write into a
// single Write call, in order.
//
// # Accounting
//
// Every WriteLine call counts one Queued line, which ends up in exactly one
// of Written, Dropped (queue full, writer closed, lost to a write error, or
// still pending when Close gave up) or pending (before Close returns).
// After Close returns, Queued == Written + Dropped exactly.
//
// # Concurrency and lifecycle
//
// All methods are safe for concurrent use. [New] starts the writer
// goroutine; [Writer.Close] stops it and must be called to release it.
// Close never closes the underlying io.Writer. If a Write call blocks
// forever, Close returns when its context is done without waiting for it;
// the goroutine exits as soon as that Write returns.
package lineout
