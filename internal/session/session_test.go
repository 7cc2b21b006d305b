package session_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/apntalk/ami/internal/session"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns a client conn and the server side, on loopback TCP.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func wakeCh() (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	return ch, func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func TestReadAndWrite(t *testing.T) {
	c, srv := pair(t)
	wake, wf := wakeCh()
	s := session.New(session.Config{Conn: c, Wake: wf})
	defer s.Close(false, time.Time{})

	if _, err := s.Enqueue([]byte("Action: Ping\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.ReadAtLeast(srv, buf, 16)
	if err != nil || string(buf[:n]) != "Action: Ping\r\n\r\n" {
		t.Fatalf("server read %q %v", buf[:n], err)
	}
	if _, err := srv.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	deadline := time.After(5 * time.Second)
	for len(got) < 5 {
		select {
		case <-wake:
		case <-deadline:
			t.Fatal("no wake for read data")
		}
		for {
			chunk, ok := s.TryRead()
			if !ok {
				break
			}
			got = append(got, chunk...)
			s.Release(chunk)
		}
	}
	if string(got) != "hello" {
		t.Fatalf("read %q", got)
	}
}

func TestWriteBufferBounded(t *testing.T) {
	c, _ := pair(t)
	s := session.New(session.Config{Conn: c, WriteBufferSize: 100})
	defer s.Close(false, time.Time{})
	if _, err := s.Enqueue(make([]byte, 101)); !errors.Is(err, session.ErrBufferFull) {
		t.Fatalf("oversized frame: %v", err)
	}
	if s.Buffered() != 0 {
		t.Fatal("a refused frame was queued")
	}
}

// A non-graceful close purges what is queued: the count is reported and
// nothing queued can reach the socket afterwards.
func TestNonGracefulClosePurges(t *testing.T) {
	c, srv := pair(t)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	if tc, ok := srv.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	s := session.New(session.Config{Conn: c, WriteBufferSize: 64 << 20})
	frame := bytes.Repeat([]byte("x"), 64<<10)
	var starts []uint64
	// The server never reads: kernel buffers fill, then ours.
	deadline := time.Now().Add(10 * time.Second)
	for s.Buffered() < 4<<20 {
		st, err := s.Enqueue(frame)
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, st)
		if time.Now().After(deadline) {
			t.Fatal("could not fill the write buffer")
		}
	}
	purged := s.Close(false, time.Time{})
	handed := s.HandedOff()
	if purged <= 0 {
		t.Fatalf("purged %d", purged)
	}
	if !s.Wait(5 * time.Second) {
		t.Fatal("goroutines did not end")
	}
	st := s.Stats()
	if st.Purged != uint64(purged) {
		t.Fatalf("stats purged %d != %d", st.Purged, purged)
	}
	if st.BytesWritten > handed {
		t.Fatalf("written %d past the hand-off offset %d", st.BytesWritten, handed)
	}
	if uint64(purged)+handed != st.Enqueued {
		t.Fatalf("purged %d + handed %d != enqueued %d", purged, handed, st.Enqueued)
	}
	// Frames that start at or after the hand-off offset never reached the socket.
	var safe int
	for _, st := range starts {
		if st >= handed {
			safe++
		}
	}
	if safe == 0 {
		t.Fatal("expected some frames to be purged whole")
	}
	if _, err := s.Enqueue(frame); !errors.Is(err, session.ErrClosed) {
		t.Fatalf("enqueue after close: %v", err)
	}
}

// A graceful close flushes what is queued, then closes when the peer does.
func TestGracefulCloseFlushes(t *testing.T) {
	c, srv := pair(t)
	s := session.New(session.Config{Conn: c})
	for i := 0; i < 100; i++ {
		if _, err := s.Enqueue([]byte("Action: Ping\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Close(true, time.Now().Add(5*time.Second)); n != 0 {
		t.Fatalf("graceful close purged %d", n)
	}
	want := 100 * len("Action: Ping\r\n\r\n")
	buf := make([]byte, want)
	_ = srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(srv, buf); err != nil {
		t.Fatalf("flush: %v", err)
	}
	srv.Close() // the peer closes (Asterisk does after Goodbye)
	if !s.Wait(5 * time.Second) {
		t.Fatal("session did not end after the peer closed")
	}
	if s.Stats().Purged != 0 {
		t.Fatal("graceful close purged bytes")
	}
}

// A graceful close past its deadline ends anyway.
func TestGracefulCloseDeadline(t *testing.T) {
	c, _ := pair(t) // the peer never closes
	s := session.New(session.Config{Conn: c})
	s.Close(true, time.Now().Add(50*time.Millisecond))
	if !s.Wait(5 * time.Second) {
		t.Fatal("graceful close ignored its deadline")
	}
}

// The reader stops reading when the inbox is full (TCP backpressure), and
// its memory is bounded by InboxChunks*ReadChunk.
func TestInboxBounded(t *testing.T) {
	c, srv := pair(t)
	wake, wf := wakeCh()
	s := session.New(session.Config{Conn: c, Wake: wf, ReadChunk: 1024, InboxChunks: 4})
	defer s.Close(false, time.Time{})
	go func() {
		_ = srv.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = srv.Write(make([]byte, 1<<20))
	}()
	deadline := time.After(5 * time.Second)
	for s.InboxLen() < 4 {
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("inbox never filled: %d", s.InboxLen())
		}
	}
	if st := s.Stats(); st.BytesRead > 4*1024 {
		t.Fatalf("read %d bytes with 4 chunks of 1 KiB", st.BytesRead)
	}
}

// The first error wins and is kept; the owner is woken.
func TestPeerCloseReported(t *testing.T) {
	c, srv := pair(t)
	wake, wf := wakeCh()
	s := session.New(session.Config{Conn: c, Wake: wf})
	defer s.Close(false, time.Time{})
	srv.Close()
	deadline := time.After(5 * time.Second)
	for s.Err() == nil {
		select {
		case <-wake:
		case <-deadline:
			t.Fatal("peer close not reported")
		}
	}
	if !errors.Is(s.Err(), io.EOF) {
		t.Fatalf("err = %v, want EOF", s.Err())
	}
}
