package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

var delim = []byte("\r\n\r\n")

// rawConn is the raw-socket reference client: a TCP connection, a read
// buffer, and bytes.Index to find frame boundaries. It parses nothing, so
// it is the practical ceiling of any AMI client on this machine.
type rawConn struct {
	c    net.Conn
	buf  []byte
	data []byte // unconsumed bytes, a window of buf
}

// rawDial connects, reads the banner and logs in.
func rawDial(addr, user, secret string) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	r := &rawConn{c: c, buf: make([]byte, 64<<10)}
	// The banner is one line, then frames follow.
	for {
		if i := bytes.Index(r.data, []byte("\r\n")); i >= 0 {
			r.data = r.data[i+2:]
			break
		}
		if err := r.fill(); err != nil {
			c.Close()
			return nil, fmt.Errorf("ami: bench: raw banner: %w", err)
		}
	}
	login := "Action: Login\r\nActionID: raw-login\r\nUsername: " + user + "\r\nSecret: " + secret + "\r\n\r\n"
	if _, err := c.Write([]byte(login)); err != nil {
		c.Close()
		return nil, err
	}
	for {
		f, err := r.next()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("ami: bench: raw login: %w", err)
		}
		if bytes.Contains(f, []byte("ActionID: raw-login")) {
			if !bytes.Contains(f, []byte("Response: Success")) {
				c.Close()
				return nil, errors.New("ami: bench: raw login refused")
			}
			return r, nil
		}
	}
}

// fill reads more bytes, keeping the unconsumed ones.
func (r *rawConn) fill() error {
	if len(r.data) == len(r.buf) {
		r.buf = append(r.buf, make([]byte, len(r.buf))...)
	}
	n := copy(r.buf, r.data)
	m, err := r.c.Read(r.buf[n:])
	r.data = r.buf[:n+m]
	if m > 0 {
		return nil
	}
	return err
}

// next returns the next frame (without its delimiter); it is valid until
// the next call.
func (r *rawConn) next() ([]byte, error) {
	for {
		if i := bytes.Index(r.data, delim); i >= 0 {
			f := r.data[:i]
			r.data = r.data[i+4:]
			return f, nil
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// count reads and frames until n frames were seen.
func (r *rawConn) count(n int) error {
	for seen := 0; seen < n; {
		i := bytes.Index(r.data, delim)
		if i >= 0 {
			r.data = r.data[i+4:]
			seen++
			continue
		}
		if err := r.fill(); err != nil {
			return err
		}
	}
	return nil
}

// ping writes one Ping and waits for its answer (events in between are
// skipped), returning the round-trip time.
func (r *rawConn) ping(seq int) (time.Duration, error) {
	id := "raw-" + strconv.Itoa(seq)
	start := time.Now()
	if _, err := r.c.Write([]byte("Action: Ping\r\nActionID: " + id + "\r\n\r\n")); err != nil {
		return 0, err
	}
	want := []byte("ActionID: " + id + "\r\n")
	for {
		f, err := r.next()
		if err != nil {
			return 0, err
		}
		if bytes.Contains(append(f, "\r\n"...), want) {
			return time.Since(start), nil
		}
	}
}

// pipeline keeps window Pings in flight until total were answered, and
// checks that every answer belongs to a Ping in flight.
func (r *rawConn) pipeline(total, window int) error {
	inflight := make(map[string]bool, window)
	sent := 0
	send := func() error {
		id := "raw-" + strconv.Itoa(sent)
		sent++
		inflight[id] = true
		_, err := r.c.Write([]byte("Action: Ping\r\nActionID: " + id + "\r\n\r\n"))
		return err
	}
	for sent < min(window, total) {
		if err := send(); err != nil {
			return err
		}
	}
	for done := 0; done < total; {
		f, err := r.next()
		if err != nil {
			return err
		}
		i := bytes.Index(f, []byte("ActionID: "))
		if i < 0 || !bytes.HasPrefix(f, []byte("Response:")) {
			continue // an event
		}
		id := f[i+len("ActionID: "):]
		if j := bytes.IndexByte(id, '\r'); j >= 0 {
			id = id[:j]
		}
		if !inflight[string(id)] {
			return fmt.Errorf("ami: bench: raw answer for %q, not in flight", id)
		}
		delete(inflight, string(id))
		done++
		if sent < total {
			if err := send(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *rawConn) Close() error { return r.c.Close() }
