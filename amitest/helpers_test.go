package amitest_test

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

// H is a local shorthand.
var H = amitest.H

// waitTimeout bounds every wait of the tests; generous for slow CI.
const waitTimeout = 10 * time.Second

// client is a raw AMI client over a net.Conn, parsing with amiproto.
type client struct {
	t   testing.TB
	nc  net.Conn
	p   *amiproto.Parser
	buf []byte
}

func dial(t testing.TB, s *amitest.Server) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr(), waitTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return newClient(t, nc)
}

func dialTLS(t testing.TB, s *amitest.Server, conf *tls.Config) *client {
	t.Helper()
	d := &net.Dialer{Timeout: waitTimeout}
	nc, err := tls.DialWithDialer(d, "tcp", s.Addr(), conf)
	if err != nil {
		t.Fatalf("dial tls: %v", err)
	}
	return newClient(t, nc)
}

func newClient(t testing.TB, nc net.Conn) *client {
	p, err := amiproto.NewParser(amiproto.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, p: p, buf: make([]byte, 64<<10)}
}

// send writes raw bytes.
func (c *client) send(raw string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// action writes one action.
func (c *client) action(name, id string, hs ...amiproto.Header) {
	c.t.Helper()
	b, err := amiproto.AppendAction(nil, name, id, hs)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(string(b))
}

// tryNext returns the next message, or an error (EOF, reset, timeout).
func (c *client) tryNext(d time.Duration) (*amiproto.Message, error) {
	deadline := time.Now().Add(d)
	for {
		m, err := c.p.Next()
		if err != nil {
			return nil, err
		}
		if m != nil {
			return m.Clone(), nil
		}
		c.nc.SetReadDeadline(deadline)
		n, err := c.nc.Read(c.buf)
		if n > 0 {
			if _, werr := c.p.Write(c.buf[:n]); werr != nil {
				return nil, werr
			}
			continue
		}
		if err != nil {
			return nil, err
		}
	}
}

// next returns the next message or fails the test.
func (c *client) next() *amiproto.Message {
	c.t.Helper()
	m, err := c.tryNext(waitTimeout)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// banner reads and checks the banner.
func (c *client) banner() {
	c.t.Helper()
	m := c.next()
	if m.Kind != amiproto.KindBanner || m.Banner != "Asterisk Call Manager/13.0.0" {
		c.t.Fatalf("banner = %v %q", m.Kind, m.Banner)
	}
}

// response reads frames until the response with ActionID id, and returns it
// with the events read on the way.
func (c *client) response(id string) (*amiproto.Message, []*amiproto.Message) {
	c.t.Helper()
	var events []*amiproto.Message
	for {
		m := c.next()
		if m.Kind != amiproto.KindEvent && m.ActionID() == id {
			return m, events
		}
		events = append(events, m)
	}
}

// until reads frames until pred holds and returns them all, pred's included.
func (c *client) until(pred func(*amiproto.Message) bool) []*amiproto.Message {
	c.t.Helper()
	var all []*amiproto.Message
	for {
		m := c.next()
		all = append(all, m)
		if pred(m) {
			return all
		}
	}
}

// login logs in admin with the events value ("" = no Events header).
func (c *client) login(events string) {
	c.t.Helper()
	c.banner()
	hs := []amiproto.Header{H("Username", "admin"), H("Secret", "admin-secret")}
	if events != "" {
		hs = append(hs, H("Events", events))
	}
	c.action("Login", "login", hs...)
	m, _ := c.response("login")
	if m.Get("Response") != "Success" || m.Get("Message") != "Authentication accepted" {
		c.t.Fatalf("login: %v", m.Headers)
	}
	if events == "" || strings.EqualFold(events, "on") {
		// FullyBooted and SuccessfulAuth follow.
		c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "SuccessfulAuth" })
	}
}

// ping sends a Ping and returns the events read before its response.
func (c *client) ping(id string) []*amiproto.Message {
	c.t.Helper()
	c.action("Ping", id)
	m, events := c.response(id)
	if m.Get("Ping") != "Pong" {
		c.t.Fatalf("ping: %v", m.Headers)
	}
	return events
}

// expectClosed checks the server closed the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	m, err := c.tryNext(waitTimeout)
	if err == nil {
		c.t.Fatalf("expected the connection closed, got %v", m.Headers)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("connection still open: %v", err)
	}
}

func md5Key(challenge, secret string) string {
	sum := md5.Sum([]byte(challenge + secret))
	return hex.EncodeToString(sum[:])
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// names returns the Event names of messages.
func names(ms []*amiproto.Message) []string {
	var out []string
	for _, m := range ms {
		if m.Kind == amiproto.KindEvent {
			out = append(out, m.Get("Event"))
		}
	}
	return out
}
