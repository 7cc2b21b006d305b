package chaos_test

import (
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

// rawPBX is a hand-scripted AMI peer for the few scenarios that need bytes
// amitest never writes on its own (its greeting is always a write of its
// own). It accepts one connection on a loopback port and runs script on it.
type rawPBX struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn net.Conn
}

// rawSession is what a script sees: the connection and a way to read the
// client's next action, parsed with the same parser the client uses.
type rawSession struct {
	net.Conn
	p   *amiproto.Parser
	buf []byte
}

// next returns the client's next frame (a clone), or an error when the
// connection ends.
func (s *rawSession) next() (*amiproto.Message, error) {
	for {
		m, err := s.p.Next()
		if err != nil {
			continue // discarded garbage: not expected from the client
		}
		if m != nil {
			return m.Clone(), nil
		}
		n, err := s.Read(s.buf)
		if n > 0 {
			if _, werr := s.p.Write(s.buf[:n]); werr != nil && !errors.Is(werr, amiproto.ErrBufferFull) {
				return nil, werr
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

// startRawPBX listens on 127.0.0.1 and runs script on the first connection.
// The listener and the connection are closed, and the goroutine waited for,
// by the test's cleanup.
func startRawPBX(t testing.TB, script func(s *rawSession)) *rawPBX {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rawPBX{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conn = c
		r.mu.Unlock()
		defer c.Close()
		p, _ := amiproto.NewParser(amiproto.Limits{})
		script(&rawSession{Conn: c, p: p, buf: make([]byte, 32<<10)})
	}()
	t.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		if r.conn != nil {
			r.conn.Close()
		}
		r.mu.Unlock()
		r.wg.Wait()
	})
	return r
}

// Addr is the listening address.
func (r *rawPBX) Addr() string { return r.ln.Addr().String() }
