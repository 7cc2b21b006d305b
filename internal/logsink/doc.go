// Package logsink provides a bounded, non-blocking [log/slog.Handler].
//
// The ami tick loop logs through it: [Handler.Handle] clones the record into
// a fixed-size in-memory queue and returns at once; a single writer
// goroutine hands queued records to the wrapped ("next") handler. A slow,
// blocked, erroring or panicking sink therefore never stalls the caller.
//
// When the queue is full, new records are dropped and counted. After drops,
// once the sink is accepting records again, the writer emits one WARN record
// "ami: log records dropped" with the attributes dropped (the count since the
// previous warning) and dropped_total, at most once per
// Options.WarnInterval. Warning records go to the root next handler (without
// attributes or groups added through WithAttrs/WithGroup) and are not
// counted in [Stats].
//
// # Accounting
//
// Every call to Handle on an enabled level counts one Produced record, which
// ends up in exactly one of:
//   - Delivered: handed to the sink (even if the sink returned an error,
//     counted in Errors, or panicked, counted in Panics);
//   - Dropped: refused because the queue was full or the handler was
//     closed, or still queued (or in flight in a blocked sink) when Close gave
//     up;
//   - pending: in the queue or in flight, only before Close returns.
//
// After Close returns, Produced == Delivered + Dropped exactly.
//
// # Concurrency and lifecycle
//
// A Handler and the handlers derived from it with WithAttrs and WithGroup
// share one queue, one writer goroutine and one set of counters; all of
// their methods are safe for concurrent use. [New] starts the writer
// goroutine; [Handler.Close] stops it and must be called to release it.
// If the sink blocks forever, Close returns when its context is done
// without waiting for the writer: that goroutine exits as soon as the sink
// returns, and the record it was holding is counted as Dropped.
package logsink
