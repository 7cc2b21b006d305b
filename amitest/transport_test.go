package amitest_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

func TestReceivedAndActions(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.banner()
	stream := "Action: Login\r\nActionID: 1\r\nUsername: admin\r\nSecret: admin-secret\r\nEvents: off\r\n\r\n" +
		"Action: Ping\r\nActionID: 2\r\n\r\nActionID: 3\r\nFoo: bar\r\n\r\n"
	// Byte by byte: the server must reassemble.
	for i := range len(stream) {
		c.send(stream[i : i+1])
	}
	c.response("3")
	conn := s.Conns()[0]
	if got := string(conn.Received()); got != stream {
		t.Fatalf("Received = %q", got)
	}
	if conn.ReceivedCount() != int64(len(stream)) {
		t.Fatalf("ReceivedCount = %d", conn.ReceivedCount())
	}
	acts := conn.Actions()
	if len(acts) != 3 || acts[0].Get("Action") != "Login" || acts[1].Get("Action") != "Ping" || acts[2].ActionID() != "3" {
		t.Fatalf("Actions = %v", acts)
	}
	m, err := conn.WaitAction(ctxT(t), "ping")
	if err != nil || m.ActionID() != "2" {
		t.Fatalf("WaitAction = %v, %v", m, err)
	}
	if st := s.Stats(); st.ActionsReceived != 3 || st.BytesReceived != int64(len(stream)) {
		t.Fatalf("stats: %+v", st)
	}
}

func TestWaitActionLater(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("off")
	if err := s.WaitConns(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	got := make(chan *amiproto.Message, 1)
	go func() {
		m, _ := s.Conns()[0].WaitAction(context.Background(), "Originate")
		got <- m
	}()
	c.action("Originate", "o", H("Channel", "Local/x@y"), H("Application", "Wait"), H("Async", "true"))
	if m := <-got; m == nil || m.ActionID() != "o" {
		t.Fatalf("WaitAction = %v", m)
	}
	// Timeout: the context's error, wrapped.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Conns()[0].WaitAction(ctx, "Never"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitAction timeout: %v", err)
	}
}

func TestWriteChunks(t *testing.T) {
	const delay = 20 * time.Millisecond
	s := amitest.NewServer(t, amitest.Options{WriteChunkSize: 7, WriteChunkDelay: delay})
	c := dial(t, s)
	start := time.Now()
	c.banner() // 30 bytes: 5 chunks, 4 pauses
	if el := time.Since(start); el < 4*delay {
		t.Fatalf("banner in %v, want >= %v", el, 4*delay)
	}
	c.action("Login", "l", H("Username", "admin"), H("Secret", "admin-secret"), H("Events", "off"))
	if m, _ := c.response("l"); m.Get("Message") != "Authentication accepted" {
		t.Fatalf("login: %v", m.Headers)
	}
	// Raw sends are chunked too.
	start = time.Now()
	if err := s.Conns()[0].Send([]byte("Event: X\r\n\r\n")); err != nil { // 12 bytes: 2 chunks
		t.Fatal(err)
	}
	if el := time.Since(start); el < delay {
		t.Fatalf("chunked Send took %v", el)
	}
	if m := c.next(); m.Get("Event") != "X" {
		t.Fatalf("got %v", m.Headers)
	}
}

func TestSendGarbageAndFrames(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("off")
	conn := s.Conns()[0]
	if err := conn.SendFrame(H("Event", "Custom"), H("Key", "a\r\nb")); err == nil {
		t.Fatal("SendFrame accepted CRLF in a value")
	}
	if err := conn.SendFrame(H("Event", "Custom"), H("Key", "v")); err != nil {
		t.Fatal(err)
	}
	if m := c.next(); m.Get("Event") != "Custom" || m.Get("Key") != "v" {
		t.Fatalf("got %v", m.Headers)
	}
	conn.Close()
	if err := conn.Send([]byte("x")); !errors.Is(err, amitest.ErrConnClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	c.expectClosed()
}

func TestSetRefuse(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	s.SetRefuse(true)
	// Accepted then reset at once: the dial itself may see the reset.
	if nc, err := net.DialTimeout("tcp", s.Addr(), waitTimeout); err == nil {
		newClient(t, nc).expectClosed()
	}
	deadline := time.Now().Add(waitTimeout)
	for s.Stats().Refused == 0 {
		if time.Now().After(deadline) {
			t.Fatal("connection not counted as refused")
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	if st := s.Stats(); st.Refused != 1 || st.Accepted != 0 || len(s.Conns()) != 0 {
		t.Fatalf("stats: %+v", st)
	}
	s.SetRefuse(false)
	dial(t, s).banner()
}

func TestSetReading(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{ReadBufferSize: 4096})
	c := dial(t, s)
	c.login("off")
	if tcp, ok := c.nc.(*net.TCPConn); ok {
		tcp.SetWriteBuffer(4096)
	}
	conn := s.Conns()[0]
	before := conn.ReceivedCount()
	s.SetReading(false)
	// Garbage without a frame end: the server answers nothing, so nothing
	// blocks on its side once it reads again.
	chunk := bytes.Repeat([]byte("x"), 16<<10)
	written := 0
	var werr error
	for written < 256<<20 {
		c.nc.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.nc.Write(chunk)
		written += n
		if err != nil {
			werr = err
			break
		}
	}
	if !errors.Is(werr, os.ErrDeadlineExceeded) {
		t.Fatalf("writes never blocked (%d bytes written): %v", written, werr)
	}
	s.SetReading(true)
	deadline := time.Now().Add(waitTimeout)
	for conn.ReceivedCount() < before+int64(written) {
		if time.Now().After(deadline) {
			t.Fatalf("server read %d of %d bytes after SetReading(true)", conn.ReceivedCount(), written)
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
}

func TestCloseClientConnections(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c1, c2 := dial(t, s), dial(t, s)
	c1.login("off")
	c2.login("off")
	s.CloseClientConnections()
	c1.expectClosed()
	c2.expectClosed()
	c3 := dial(t, s)
	c3.login("off")
	if err := s.Ready(ctxT(t), 3); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Active != 1 || st.Accepted != 3 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestStartAtSamePort(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	addr := s.Addr()
	c := dial(t, s)
	c.login("off")
	s.Close()
	c.expectClosed()
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still listening after Close")
	}
	// A new server on the same port.
	s2 := amitest.NewUnstartedServer(amitest.Options{})
	if err := s2.StartAt(addr); err != nil {
		t.Fatal(err)
	}
	dial(t, s2).login("off")
	s2.Close()
	// The same server, restarted.
	if err := s.StartAt(addr); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAt(addr); !errors.Is(err, amitest.ErrServerRunning) {
		t.Fatalf("second StartAt: %v", err)
	}
	dial(t, s).login("off")
	if err := s.Ready(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	if err := amitest.NewUnstartedServer(amitest.Options{}).StartAt("192.0.2.1:5038"); !errors.Is(err, amitest.ErrNotLoopback) {
		t.Fatalf("non-loopback StartAt: %v", err)
	}
}

func TestWaitersContext(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.WaitConns(ctx, 1); !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "ami: ") {
		t.Fatalf("WaitConns: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Ready(context.Background(), 1) }()
	s.Close()
	if err := <-done; !errors.Is(err, amitest.ErrServerClosed) {
		t.Fatalf("Ready after Close: %v", err)
	}
}

func TestTLS(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{TLS: true})
	conf := s.ClientTLSConfig()
	if conf == nil || s.Certificate() == nil {
		t.Fatal("no client TLS config")
	}
	c := dialTLS(t, s, conf)
	c.login("off")
	c.ping("p")
	if got := string(s.Conns()[0].Received()); !strings.HasPrefix(got, "Action: Login\r\n") {
		t.Fatalf("Received (plaintext) = %q", got)
	}
	// Without the trust anchor the handshake fails.
	d := &net.Dialer{Timeout: waitTimeout}
	if nc, err := tls.DialWithDialer(d, "tcp", s.Addr(), &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		nc.Close()
		t.Fatal("handshake succeeded without trusting the certificate")
	}
	if amitest.NewServer(t, amitest.Options{}).ClientTLSConfig() != nil {
		t.Fatal("ClientTLSConfig without TLS")
	}
}

func TestWaitActionConnClosed(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.banner()
	if err := s.WaitConns(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	conn := s.Conns()[0]
	errc := make(chan error, 1)
	go func() {
		_, err := conn.WaitAction(context.Background(), "Login")
		errc <- err
	}()
	c.nc.Close()
	if err := <-errc; !errors.Is(err, amitest.ErrConnClosed) {
		t.Fatalf("WaitAction on a closed conn: %v", err)
	}
}

func TestSetReadingBeforeConnect(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{TLS: true})
	s.SetReading(false)
	c := dialTLS(t, s, s.ClientTLSConfig()) // the handshake is not affected
	c.banner()
	c.action("Login", "l", H("Username", "admin"), H("Secret", "admin-secret"), H("Events", "off"))
	if _, err := c.tryNext(50 * time.Millisecond); err == nil {
		t.Fatal("answered while not reading")
	}
	s.SetReading(true)
	c.response("l")
}
