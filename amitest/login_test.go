package amitest_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

func TestBannerVersion(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{Version: "2.10.4"})
	c := dial(t, s)
	m := c.next()
	if m.Kind != amiproto.KindBanner || m.Banner != "Asterisk Call Manager/2.10.4" {
		t.Fatalf("banner = %v %q", m.Kind, m.Banner)
	}
}

func TestLoginPlain(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{Users: map[string]string{"dialer": "s3cret"}})
	c := dial(t, s)
	c.banner()
	c.action("Login", "l1", H("Username", "dialer"), H("Secret", "s3cret"), H("Events", "off"))
	m, _ := c.response("l1")
	if m.Get("Message") != "Authentication accepted" {
		t.Fatalf("login: %v", m.Headers)
	}
	if err := s.Ready(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	conn := s.Conns()[0]
	if !conn.LoggedIn() || conn.Username() != "dialer" {
		t.Fatalf("LoggedIn=%v Username=%q", conn.LoggedIn(), conn.Username())
	}
	// Events: off, so the next frame is the Ping response, not FullyBooted.
	if ev := c.ping("p"); len(ev) != 0 {
		t.Fatalf("unexpected events with Events: off: %v", names(ev))
	}
	if st := s.Stats(); st.LoggedIn != 1 || st.LoginFailures != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestLoginWrong(t *testing.T) {
	cases := map[string][]amiproto.Header{
		"wrong secret": {H("Username", "admin"), H("Secret", "nope")},
		"unknown user": {H("Username", "mallory"), H("Secret", "admin-secret")},
		"md5 without challenge": {H("AuthType", "MD5"), H("Username", "admin"),
			H("Key", md5Key("123", "admin-secret"))},
	}
	for name, hs := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := amitest.NewServer(t, amitest.Options{})
			c := dial(t, s)
			c.banner()
			c.action("Login", "bad", hs...)
			m, _ := c.response("bad")
			if m.Get("Response") != "Error" || m.Get("Message") != "Authentication failed" {
				t.Fatalf("login: %v", m.Headers)
			}
			c.expectClosed()
			if st := s.Stats(); st.LoginFailures != 1 || st.LoggedIn != 0 {
				t.Fatalf("stats: %+v", st)
			}
		})
	}
}

func TestLoginFailureDelay(t *testing.T) {
	const delay = 150 * time.Millisecond
	s := amitest.NewServer(t, amitest.Options{LoginFailureDelay: delay})
	c := dial(t, s)
	c.banner()
	start := time.Now()
	c.action("Login", "bad", H("Username", "admin"), H("Secret", "nope"))
	m, _ := c.response("bad")
	if el := time.Since(start); el < delay {
		t.Fatalf("failure answered after %v, want >= %v", el, delay)
	}
	if m.Get("Message") != "Authentication failed" {
		t.Fatalf("login: %v", m.Headers)
	}
	c.expectClosed()
}

func TestLoginMD5(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.banner()
	c.action("Challenge", "ch", H("AuthType", "MD5"))
	m, _ := c.response("ch")
	challenge := m.Get("Challenge")
	if m.Get("Response") != "Success" || len(challenge) < 6 || strings.Trim(challenge, "0123456789") != "" {
		t.Fatalf("challenge: %v", m.Headers)
	}
	c.action("Login", "l", H("AuthType", "MD5"), H("Username", "admin"),
		H("Key", md5Key(challenge, "admin-secret")), H("Events", "off"))
	if m, _ := c.response("l"); m.Get("Message") != "Authentication accepted" {
		t.Fatalf("login: %v", m.Headers)
	}
	c.ping("p")

	// A key made for another challenge fails.
	c2 := dial(t, s)
	c2.banner()
	c2.action("Challenge", "ch", H("AuthType", "MD5"))
	c2.response("ch")
	c2.action("Login", "l", H("AuthType", "MD5"), H("Username", "admin"), H("Key", md5Key(challenge+"0", "admin-secret")))
	if m, _ := c2.response("l"); m.Get("Message") != "Authentication failed" {
		t.Fatalf("login: %v", m.Headers)
	}
	c2.expectClosed()
}

func TestPermissionDeniedBeforeLogin(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.banner()
	for _, a := range []string{"Ping", "Command", "Originate", "NoSuchAction"} {
		c.action(a, "x-"+a)
		m, _ := c.response("x-" + a)
		if m.Get("Response") != "Error" || m.Get("Message") != "Permission denied" {
			t.Fatalf("%s before login: %v", a, m.Headers)
		}
	}
	// The socket stays open: a login still works.
	c.action("Login", "l", H("Username", "admin"), H("Secret", "admin-secret"), H("Events", "off"))
	if m, _ := c.response("l"); m.Get("Message") != "Authentication accepted" {
		t.Fatalf("login: %v", m.Headers)
	}
}

func TestLogoff(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("off")
	c.action("Logoff", "bye")
	m, _ := c.response("bye")
	if m.Get("Response") != "Goodbye" || m.Get("Message") != "Thanks for all the fish." {
		t.Fatalf("logoff: %v", m.Headers)
	}
	c.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := c.nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("after Logoff: read err %v, want EOF (graceful close)", err)
	}
	<-s.Conns()[0].Done()
}

func TestEventsAction(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("on")
	c.action("Events", "e1", H("EventMask", "off"))
	if m, _ := c.response("e1"); m.Get("Events") != "Off" {
		t.Fatalf("events off: %v", m.Headers)
	}
	s.Broadcast(H("Event", "Test"), H("Privilege", "call,all"))
	if ev := c.ping("p1"); len(ev) != 0 {
		t.Fatalf("events received with mask off: %v", names(ev))
	}
	c.action("Events", "e2", H("EventMask", "call,system"))
	if m, _ := c.response("e2"); m.Get("Events") != "On" {
		t.Fatalf("events on: %v", m.Headers)
	}
	s.Broadcast(H("Event", "Test"), H("Privilege", "call,all"))
	if ev := c.ping("p2"); len(ev) != 1 || ev[0].Get("Event") != "Test" {
		t.Fatalf("events with mask call: %v", names(ev))
	}
	c.action("Events", "e3")
	if m, _ := c.response("e3"); m.Get("Response") != "Error" {
		t.Fatalf("events without mask: %v", m.Headers)
	}
}
