package session

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBufferFull is returned by Enqueue when the frame does not fit in the
// write buffer. Nothing was queued.
var ErrBufferFull = errors.New("ami: session write buffer full")

// ErrClosed is returned by Enqueue after Close.
var ErrClosed = errors.New("ami: session closed")

// Config configures a Session.
type Config struct {
	// Conn is the connected socket. The session owns it from now on.
	Conn net.Conn
	// Wake is called (from the reader and writer goroutines) when the
	// session has something for its owner: data, an error, the end of a
	// flush. It must not block.
	Wake func()
	// ReadChunk is the size of one read. Defaults to 32 KiB.
	ReadChunk int
	// InboxChunks is the number of read chunks that may wait for the owner;
	// when all are taken the reader stops reading (TCP backpressure). Defaults to 32.
	InboxChunks int
	// WriteBufferSize bounds queued but unwritten bytes. Defaults to 5 MiB.
	WriteBufferSize int
}

// bufPool recycles read buffers of poolChunk bytes across sessions and
// clients: the buffers a burst needed are reused while traffic lasts, and
// the garbage collector takes them back once they stay unused for two
// collections, so an idle connection holds only the one its reader is
// blocked on. It holds *[]byte.
var bufPool sync.Pool

// poolChunk is the read chunk size bufPool serves (the default ReadChunk);
// buffers of other sizes are made and dropped.
const poolChunk = 32 << 10

// Stats are the session's byte counters.
type Stats struct {
	BytesRead    uint64 // bytes read from the socket
	BytesWritten uint64 // bytes accepted by the socket
	Enqueued     uint64 // bytes accepted by Enqueue
	Purged       uint64 // bytes dropped by a non-graceful close
}

// Session is one connection epoch. See the package documentation.
type Session struct {
	conn net.Conn
	wake func()

	inbox     chan []byte // filled read buffers, in order
	readChunk int
	maxChunks int
	held      atomic.Int32  // read buffers taken by the reader, not yet released
	released  chan struct{} // signalled by Release

	mu        sync.Mutex
	pending   []byte // queued, not yet taken by the writer
	spare     []byte
	unhanded  int    // taken by the writer, not yet handed to conn.Write
	unsent    int    // taken by the writer, not yet returned by conn.Write
	enqueued  uint64 // total bytes accepted by Enqueue
	handedOff uint64 // total bytes handed to conn.Write (stream offset)
	closed    bool
	graceful  bool
	deadline  time.Time
	purged    uint64
	limit     int

	writeSig   chan struct{}
	closeCh    chan struct{}
	closeOnce  sync.Once
	readerDone chan struct{}
	writerDone chan struct{}

	written atomic.Uint64
	read    atomic.Uint64
	errOnce sync.Once
	err     atomic.Pointer[error]
}

// writeSlice bounds one conn.Write: bytes are handed to the socket in
// slices, so that when the peer stops reading, only the slice in flight is
// "handed off" and the rest of the buffer can still be purged as unwritten.
const writeSlice = 32 << 10

// New starts the reader and writer goroutines on cfg.Conn.
func New(cfg Config) *Session {
	if cfg.ReadChunk <= 0 {
		cfg.ReadChunk = 32 << 10
	}
	if cfg.InboxChunks <= 0 {
		cfg.InboxChunks = 32
	}
	if cfg.WriteBufferSize <= 0 {
		cfg.WriteBufferSize = 5 << 20
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	s := &Session{
		conn:       cfg.Conn,
		wake:       cfg.Wake,
		inbox:      make(chan []byte, cfg.InboxChunks),
		released:   make(chan struct{}, 1),
		readChunk:  cfg.ReadChunk,
		maxChunks:  cfg.InboxChunks,
		limit:      cfg.WriteBufferSize,
		writeSig:   make(chan struct{}, 1),
		closeCh:    make(chan struct{}),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	go s.readLoop()
	go s.writeLoop()
	return s
}

// fail records the first error of the connection (later ones are ignored),
// closes the socket so the other goroutine stops too, and wakes the owner.
func (s *Session) fail(err error) {
	s.errOnce.Do(func() {
		s.err.Store(&err)
		_ = s.conn.Close()
	})
	s.closeOnce.Do(func() { close(s.closeCh) })
	s.wake()
}

// Err returns the first error of the connection's goroutines, or nil while
// the connection is healthy.
func (s *Session) Err() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// readBuffer returns an empty read buffer once fewer than InboxChunks are
// held (else it waits for a Release: TCP backpressure), taken from bufPool
// or made on demand. nil when the session is closed.
func (s *Session) readBuffer() []byte {
	for s.held.Load() >= int32(s.maxChunks) {
		select {
		case <-s.released:
		case <-s.closeCh:
			return nil
		}
	}
	s.held.Add(1)
	if s.readChunk == poolChunk {
		if p, ok := bufPool.Get().(*[]byte); ok {
			return *p
		}
	}
	return make([]byte, s.readChunk)
}

func (s *Session) readLoop() {
	defer close(s.readerDone)
	for {
		buf := s.readBuffer()
		if buf == nil {
			return
		}
		n, err := s.conn.Read(buf[:cap(buf)])
		if n > 0 {
			s.read.Add(uint64(n))
			s.inbox <- buf[:n] // never blocks: at most maxChunks buffers are held
			s.wake()
		} else {
			s.Release(buf)
		}
		if err != nil {
			s.fail(err)
			return
		}
	}
}

// TryRead returns the next chunk of bytes read from the socket, in order,
// without blocking. The caller must give the chunk back with Release once it
// has consumed it.
func (s *Session) TryRead() ([]byte, bool) {
	select {
	case b := <-s.inbox:
		return b, true
	default:
		return nil, false
	}
}

// Release returns a chunk obtained from TryRead.
func (s *Session) Release(b []byte) {
	s.held.Add(-1)
	if cap(b) == poolChunk {
		b = b[:cap(b)]
		bufPool.Put(&b)
	}
	select {
	case s.released <- struct{}{}:
	default:
	}
}

// InboxLen is the number of chunks waiting for TryRead.
func (s *Session) InboxLen() int { return len(s.inbox) }

// Enqueue appends one complete frame to the write buffer and returns the
// stream offset of its first byte. It never blocks. ErrBufferFull when the
// frame does not fit, ErrClosed after Close.
func (s *Session) Enqueue(frame []byte) (start uint64, err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	if len(s.pending)+s.unsent+len(frame) > s.limit {
		s.mu.Unlock()
		return 0, ErrBufferFull
	}
	start = s.enqueued
	s.pending = append(s.pending, frame...)
	s.enqueued += uint64(len(frame))
	s.mu.Unlock()
	select {
	case s.writeSig <- struct{}{}:
	default:
	}
	return start, nil
}

// Buffered is the number of bytes queued or being written.
func (s *Session) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) + s.unsent
}

// HandedOff is the stream offset up to which bytes were handed to the
// socket. A frame that starts at or after it has not reached the socket.
func (s *Session) HandedOff() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handedOff
}

func (s *Session) writeLoop() {
	defer close(s.writerDone)
	defer s.purgeUnhanded()
	for {
		s.mu.Lock()
		for len(s.pending) == 0 {
			if s.closed {
				graceful, deadline := s.graceful, s.deadline
				s.mu.Unlock()
				if graceful {
					s.lingerAndClose(deadline)
				}
				return
			}
			s.mu.Unlock()
			select {
			case <-s.writeSig:
			case <-s.closeCh:
			}
			s.mu.Lock()
		}
		buf := s.pending
		s.pending = s.spare[:0]
		s.unhanded, s.unsent = len(buf), len(buf)
		s.mu.Unlock()

		for off := 0; off < len(buf); {
			end := min(off+writeSlice, len(buf))
			s.mu.Lock()
			if s.closed && !s.graceful {
				s.mu.Unlock()
				return // purged by Close
			}
			s.handedOff += uint64(end - off)
			s.unhanded -= end - off
			s.mu.Unlock()

			n, err := s.conn.Write(buf[off:end])
			s.written.Add(uint64(n))
			s.mu.Lock()
			s.unsent -= end - off
			s.mu.Unlock()
			if err != nil {
				s.fail(err)
				return
			}
			off = end
		}

		s.mu.Lock()
		if cap(buf) <= 64<<10 {
			s.spare = buf[:0]
		} else {
			s.spare = nil // let a burst's big buffer go
		}
		s.mu.Unlock()
		// No wake here: a flush is not work for the tick, and waking it
		// would make an idle TickAll return early (timeout contract).
	}
}

// purgeUnhanded counts, when the writer ends, every byte that was never
// handed to the socket (a graceful close that failed or timed out).
func (s *Session) purgeUnhanded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purged += uint64(len(s.pending) + s.unhanded)
	s.pending, s.unhanded, s.unsent = nil, 0, 0
}

// lingerAndClose ends a graceful close: everything queued was written; wait
// for the peer to close (Asterisk closes after Goodbye) or the deadline.
func (s *Session) lingerAndClose(deadline time.Time) {
	_ = s.conn.SetReadDeadline(deadline)
	select {
	case <-s.readerDone:
	case <-time.After(time.Until(deadline)):
	}
	s.fail(net.ErrClosed)
}

// Close ends the epoch. graceful=false purges the write buffer first and
// returns the session's total of purged bytes (bytes that never reached the
// socket, including any the writer dropped after a failed write),
// then closes the socket: nothing queued can be written anymore.
// graceful=true stops accepting frames, lets the writer flush what is queued
// until deadline, waits for the peer's close until deadline, then closes;
// what could not be written by then is counted as purged. Close never
// blocks; Finished and Wait report the end.
func (s *Session) Close(graceful bool, deadline time.Time) (purged int) {
	s.mu.Lock()
	if s.closed && (graceful || !s.graceful) {
		s.mu.Unlock()
		return 0 // already closed this way (or already non-graceful)
	}
	s.closed = true
	s.graceful = graceful
	s.deadline = deadline
	if !graceful {
		s.purged += uint64(len(s.pending) + s.unhanded)
		s.pending, s.unhanded = s.pending[:0], 0
		// The total, including what the writer purged itself when a write
		// failed first: the session's purge count is final from here on.
		purged = int(s.purged)
	}
	s.mu.Unlock()
	if graceful {
		_ = s.conn.SetWriteDeadline(deadline)
		select {
		case s.writeSig <- struct{}{}:
		default:
		}
		// The reader keeps running so that the peer's answer (Goodbye) and
		// close are seen; the writer closes once flushed.
		return 0
	}
	s.fail(net.ErrClosed)
	return purged
}

// Finished reports, without blocking, whether both goroutines have ended.
func (s *Session) Finished() bool {
	select {
	case <-s.readerDone:
	default:
		return false
	}
	select {
	case <-s.writerDone:
		return true
	default:
		return false
	}
}

// Wait blocks until both goroutines have ended or the timer fires.
func (s *Session) Wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.readerDone:
	case <-t.C:
		return false
	}
	select {
	case <-s.writerDone:
		return true
	case <-t.C:
		return false
	}
}

// Stats returns the byte counters.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		BytesRead:    s.read.Load(),
		BytesWritten: s.written.Load(),
		Enqueued:     s.enqueued,
		Purged:       s.purged,
	}
}
