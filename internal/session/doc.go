// Package session is one AMI connection epoch: a net.Conn, one reader
// goroutine, one writer goroutine, a bounded inbox of read chunks and a
// bounded write buffer.
//
// A Session never outlives its connection and its write buffer is never
// shared with another epoch: the client makes a new Session for every
// connection, so bytes queued before a disconnect can never reach the next
// connection (the session-boundary invariant). Close(false) purges the write
// buffer first and reports how many bytes never reached the socket.
//
// Concurrency: Enqueue, Buffered, Stats, Err and Close are goroutine-safe;
// TryRead/Release are meant for one consumer (the tick goroutine). No method
// blocks on I/O; only the reader and writer goroutines touch the socket.
package session
