package amitest

import (
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// acceptLoop accepts connections until the listener is closed.
func (s *Server) acceptLoop(ln net.Listener, tlsConf *tls.Config) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.logf("accept: %v", err)
			s.mu.Lock()
			done := s.done
			s.mu.Unlock()
			t := time.NewTimer(5 * time.Millisecond)
			select {
			case <-t.C:
			case <-done:
				t.Stop()
				return
			}
			continue
		}
		s.mu.Lock()
		refuse := s.refuse
		s.mu.Unlock()
		if refuse {
			s.counters.refused.Add(1)
			resetConn(nc)
			s.logf("refused %s", nc.RemoteAddr())
			continue
		}
		if tcp, ok := nc.(*net.TCPConn); ok {
			tcp.SetNoDelay(true)
			if s.opts.ReadBufferSize > 0 {
				tcp.SetReadBuffer(s.opts.ReadBufferSize)
			}
		}
		c := newConn(s, nc, tlsConf)
		if !s.addConn(c) {
			resetConn(nc)
			return
		}
	}
}

// addConn registers c and starts its reader goroutine. It returns false when
// the server is closing.
func (s *Server) addConn(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return false
	}
	c.id = len(s.conns) + 1
	s.conns = append(s.conns, c)
	s.live[c] = struct{}{}
	s.counters.accepted.Add(1)
	s.notifyLocked()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
	return true
}

// removeConn forgets a closed connection.
func (s *Server) removeConn(c *Conn) {
	s.mu.Lock()
	delete(s.live, c)
	s.notifyLocked()
	s.mu.Unlock()
}

// resetConn closes nc abruptly: SO_LINGER 0 makes the kernel send a RST
// instead of a FIN where the platform supports it.
func resetConn(nc net.Conn) {
	if tcp, ok := nc.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	nc.Close()
}
