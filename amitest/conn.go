package amitest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// maxRecorded is how many received bytes a Conn keeps for Received; later
// bytes are only counted.
const maxRecorded = 64 << 20

var (
	noDeadline   time.Time
	pastDeadline = time.Unix(1, 0)
)

// Conn is one client connection accepted by a Server. Its methods are safe
// for concurrent use. Every write to the client (replies, events, Send) is
// serialised, so frames are never interleaved.
type Conn struct {
	s   *Server
	id  int
	nc  net.Conn // the connection frames are read from and written to
	raw net.Conn // the TCP connection under nc (nc itself without TLS)

	done      chan struct{} // closed when the connection is closed
	closeOnce sync.Once
	reading   atomic.Bool // past the TLS handshake: SetReading may interrupt reads

	wmu sync.Mutex // serialises writes

	mu        sync.Mutex
	recv      []byte
	recvTotal int64
	actions   []*amiproto.Message
	loggedIn  bool
	username  string
	mask      eventMask
	challenge string
}

func newConn(s *Server, nc net.Conn, tlsConf *tls.Config) *Conn {
	c := &Conn{s: s, nc: nc, raw: nc, done: make(chan struct{})}
	if tlsConf != nil {
		c.nc = tls.Server(nc, tlsConf)
	}
	return c
}

// ID returns the 1-based accept order of the connection.
func (c *Conn) ID() int { return c.id }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// LoggedIn reports whether the client logged in successfully on this
// connection.
func (c *Conn) LoggedIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loggedIn
}

// Username returns the username of the successful login, or "".
func (c *Conn) Username() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.username
}

// Closed reports whether the connection is closed.
func (c *Conn) Closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Done returns a channel closed when the connection is closed, by either
// side.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Received returns a copy of every byte the client sent on this connection,
// exactly as sent (plaintext under TLS). Only the first 64 MiB are kept; see
// ReceivedCount for the total.
func (c *Conn) Received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.recv...)
}

// ReceivedCount returns how many bytes the client sent on this connection.
func (c *Conn) ReceivedCount() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recvTotal
}

// Actions returns the frames the client sent, parsed, in order (clones the
// caller may keep). A frame without an Action header is included too.
func (c *Conn) Actions() []*amiproto.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*amiproto.Message(nil), c.actions...)
}

// WaitAction returns the first action named name (case-insensitive) that
// the client sent on this connection, waiting for it if needed. It returns
// the context's error, wrapped, or ErrConnClosed if the connection closes
// before such an action arrives.
func (c *Conn) WaitAction(ctx context.Context, name string) (*amiproto.Message, error) {
	var found *amiproto.Message
	err := c.s.waitFor(ctx, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.actions {
			if strings.EqualFold(m.Get("Action"), name) {
				found = m
				return true
			}
		}
		return c.Closed()
	})
	if err == nil && found != nil {
		return found, nil
	}
	if err == nil || errors.Is(err, ErrServerClosed) {
		err = ErrConnClosed
	}
	return nil, fmt.Errorf("ami: amitest: waiting for action %s on conn %d: %w", name, c.id, err)
}

// Send writes raw bytes to the client (garbage, partial frames, custom
// frames), honouring the chunking options.
func (c *Conn) Send(raw []byte) error { return c.write(raw) }

// SendFrame writes one frame made of headers to the client. It refuses
// header values holding CR or LF.
func (c *Conn) SendFrame(headers ...amiproto.Header) error {
	b, err := amiproto.AppendFrame(nil, headers)
	if err != nil {
		return err
	}
	return c.write(b)
}

// Close closes the connection abruptly (a TCP reset where possible), without
// a Goodbye.
func (c *Conn) Close() { c.abort() }

// abort closes the connection with a reset.
func (c *Conn) abort() {
	c.closeOnce.Do(func() {
		close(c.done)
		resetConn(c.raw)
	})
}

// closeGraceful closes the connection normally (FIN, TLS close_notify), as
// Asterisk does after Logoff or a failed login.
func (c *Conn) closeGraceful() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

// write sends b under the write lock, in chunks if configured.
func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.Closed() {
		return ErrConnClosed
	}
	o := &c.s.opts
	for len(b) > 0 {
		p := b
		if o.WriteChunkSize > 0 && len(p) > o.WriteChunkSize {
			p = p[:o.WriteChunkSize]
		}
		if o.WriteTimeout > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(o.WriteTimeout))
		}
		n, err := c.nc.Write(p)
		c.s.counters.bytesSent.Add(int64(n))
		if err != nil {
			c.abort()
			c.s.logf("conn %d: write: %v", c.id, err)
			return fmt.Errorf("ami: amitest: write to conn %d: %w", c.id, err)
		}
		b = b[len(p):]
		if len(b) > 0 && o.WriteChunkDelay > 0 {
			if !sleep(o.WriteChunkDelay, c.done) {
				return ErrConnClosed
			}
		}
	}
	return nil
}

// writeFrame encodes headers and writes them as one frame.
func (c *Conn) writeFrame(headers []amiproto.Header) error {
	b, err := amiproto.AppendFrame(nil, headers)
	if err != nil {
		return err
	}
	return c.write(b)
}

// serve is the reader goroutine: banner, then read, record, parse, dispatch.
func (c *Conn) serve() {
	defer func() {
		c.abort()
		c.s.removeConn(c)
		c.s.logf("conn %d: closed", c.id)
	}()
	c.s.logf("conn %d: accepted from %s", c.id, c.raw.RemoteAddr())
	if tc, ok := c.nc.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			c.s.logf("conn %d: tls handshake: %v", c.id, err)
			return
		}
	}
	if err := c.write([]byte("Asterisk Call Manager/" + c.s.opts.Version + "\r\n")); err != nil {
		return
	}
	p, err := amiproto.NewParser(amiproto.Limits{})
	if err != nil {
		c.s.logf("conn %d: parser: %v", c.id, err)
		return
	}
	buf := make([]byte, 64<<10)
	// From here on SetReading(false) may interrupt a Read with a deadline;
	// waitReadable sees a pause set before this point.
	c.reading.Store(true)
	for {
		if !c.waitReadable() {
			return
		}
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.record(buf[:n])
			if !c.feed(p, buf[:n]) {
				return
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !c.Closed() {
				continue // SetReading(false) interrupted the read
			}
			return
		}
	}
}

// waitReadable blocks while the server is not reading. It returns false if
// the connection closes meanwhile.
func (c *Conn) waitReadable() bool {
	c.s.mu.Lock()
	paused, resume := c.s.paused, c.s.resume
	c.s.mu.Unlock()
	if !paused {
		return !c.Closed()
	}
	select {
	case <-resume:
		return !c.Closed()
	case <-c.done:
		return false
	}
}

func (c *Conn) record(b []byte) {
	c.s.counters.bytesReceived.Add(int64(len(b)))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recvTotal += int64(len(b))
	if room := maxRecorded - len(c.recv); room > 0 {
		c.recv = append(c.recv, b[:min(room, len(b))]...)
	}
}

// feed hands b to the parser and dispatches every complete frame. It
// returns false when the connection must stop.
func (c *Conn) feed(p *amiproto.Parser, b []byte) bool {
	for {
		n, err := p.Write(b)
		b = b[n:]
		if !c.drain(p) {
			return false
		}
		switch {
		case err != nil && !errors.Is(err, amiproto.ErrBufferFull):
			c.s.logf("conn %d: parser: %v", c.id, err)
			return false
		case len(b) == 0:
			return true
		case n == 0:
			// No progress even after draining: the parser is stuck.
			c.s.logf("conn %d: parser accepts no more bytes, closing", c.id)
			return false
		}
	}
}

// drain dispatches every frame the parser holds.
func (c *Conn) drain(p *amiproto.Parser) bool {
	for {
		m, err := p.Next()
		if err != nil {
			var pe *amiproto.ProtocolError
			if errors.As(err, &pe) {
				c.s.logf("conn %d: discarded frame: %v", c.id, err)
				continue
			}
			c.s.logf("conn %d: parser: %v", c.id, err)
			return false
		}
		if m == nil {
			return true
		}
		if m.Kind == amiproto.KindBanner {
			continue
		}
		c.dispatch(m.Clone())
		if c.Closed() {
			return false
		}
	}
}

// sleep waits for d, or returns false as soon as done is closed.
func sleep(d time.Duration, done <-chan struct{}) bool {
	if d <= 0 {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
