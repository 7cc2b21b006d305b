package chaos_test

import (
	"errors"
	"testing"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// S1: a Command refused with "Response: Error" / "Permission denied" (the
// reply of Asterisk to a user without the command privilege, as in the
// permission_denied capture) fails the action with *ami.ActionError, and the
// pending table drains back to zero.
func TestS1PermissionDenied(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	srv.Handle("Command", func(w *amitest.ResponseWriter, _ *amitest.Request) { w.Error("Permission denied") })
	m := newManager(t, one(srv), testOptions())
	c := m.Default()
	waitReady(t, m)

	const n = 50
	ps := make([]*ami.Pending, n)
	for i := range ps {
		p, err := c.Send(ami.Command{Command: "core show channels"})
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		ps[i] = p
	}
	tickUntil(t, m, scenarioTimeout, "every Command answered", allDone(ps))

	for _, p := range ps {
		res, err := p.Result()
		var ae *ami.ActionError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: got (%v, %v), want an *ami.ActionError", p.ActionID(), res, err)
		}
		if ae.Message != "Permission denied" || ae.Response != "Error" || ae.Action != "Command" || ae.ActionID != p.ActionID() {
			t.Fatalf("ActionError = %+v, want Permission denied for Command %s", ae, p.ActionID())
		}
		if ami.SafeToRetry(err) {
			t.Errorf("SafeToRetry(%v) = true: the PBX saw the action", err)
		}
	}
	st := c.Stats()
	if st.Pending != 0 || st.ActionsFailed != n || st.UnmatchedResponses != 0 {
		t.Fatalf("stats: pending=%d failed=%d unmatched=%d, want 0/%d/0", st.Pending, st.ActionsFailed, st.UnmatchedResponses, n)
	}
	if st.State != ami.StateReady {
		t.Fatalf("state = %v, want ready: an Asterisk error is not a connection problem", st.State)
	}
}

// S2: the same refusal written with bare "\n" line endings and a "\n\n"
// delimiter, and nothing after it. The parser must not wait for a "\r\n\r\n"
// that never comes: the action fails at once, and later frames parse.
func TestS2PermissionDeniedLF(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	srv.Handle("Command", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.Raw(frame("\n", "Response: Error", "ActionID: "+r.Action.ActionID(), "Message: Permission denied"))
	})
	m := newManager(t, one(srv), testOptions())
	c := m.Default()
	var evs eventLog
	c.OnEvent("AfterLF", evs.add)
	waitReady(t, m)

	p, err := c.Send(ami.Command{Command: "core show version"})
	if err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "the LF-delimited error", isDone(p))
	_, err = p.Result()
	var ae *ami.ActionError
	if !errors.As(err, &ae) || ae.Message != "Permission denied" || ae.ActionID != p.ActionID() {
		t.Fatalf("got %v, want ActionError Permission denied for %s", err, p.ActionID())
	}

	// No stall: an LF-only event, then a normal CRLF reply, both parse.
	if err := connOf(t, srv).Send(frame("\n", "Event: AfterLF", "Seq: 1")); err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "the LF-delimited event", func() bool { return evs.len() == 1 })
	if got := evs.snapshot()[0].Get("Seq"); got != "1" {
		t.Fatalf("event Seq = %q, want 1", got)
	}
	ping, err := c.Send(ami.Ping{})
	if err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "a Ping after the LF frames", isDone(ping))
	if res, err := ping.Result(); err != nil || res.Get("Ping") != "Pong" {
		t.Fatalf("Ping after LF frames = (%v, %v)", res, err)
	}
	if st := c.Stats(); st.Pending != 0 || st.Desyncs != 0 || st.UnmatchedResponses != 0 {
		t.Fatalf("stats: %s", statsString(m))
	}
}

// S3: "Response: Error" frames without an ActionID (Asterisk writes them for
// a frame it could not read, e.g. "Missing action in request") match no
// action: they are counted as unmatched, nothing crashes, and the frame
// that follows in the same write parses.
func TestS3ErrorWithoutActionID(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	m := newManager(t, one(srv), testOptions())
	c := m.Default()
	var evs eventLog
	c.OnEvent("AfterError", evs.add)
	waitReady(t, m)
	before := c.Stats()

	const n = 5
	var burst []byte
	for range n {
		burst = append(burst, frame("\r\n", "Response: Error", "Message: Missing action in request")...)
	}
	burst = append(burst, frame("\r\n", "Event: AfterError", "Seq: 42")...)
	if err := connOf(t, srv).Send(burst); err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "the event after the errors", func() bool { return evs.len() == 1 })

	st := c.Stats()
	if got := st.UnmatchedResponses - before.UnmatchedResponses; got != n {
		t.Fatalf("unmatched responses = %d, want %d", got, n)
	}
	if e := evs.snapshot()[0]; e.Get("Seq") != "42" || e.Get("Message") != "" || e.Get("Response") != "" {
		t.Fatalf("event after the errors = %v: headers leaked across frames", e.Headers())
	}
	if st.State != ami.StateReady || st.Reconnects != 0 || st.ActionsFailed != before.ActionsFailed {
		t.Fatalf("unmatched errors disturbed the session: %s", statsString(m))
	}
	p, err := c.Send(ami.Ping{})
	if err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "a Ping after the errors", isDone(p))
	if _, err := p.Result(); err != nil {
		t.Fatalf("Ping after unmatched errors: %v", err)
	}
}

// S4: the greeting and an error frame arrive in the same TCP write (a PBX
// that complains before the client said anything). The banner is processed
// (the login follows), the error is parsed and counted as unmatched, and the
// session comes up without stalling.
func TestS4BannerAndErrorInOneWrite(t *testing.T) {
	const banner = "Asterisk Call Manager/13.0.0"
	pbx := startRawPBX(t, func(s *rawSession) {
		first := append([]byte(banner+"\r\n"), frame("\r\n", "Response: Error", "Message: Permission denied")...)
		if _, err := s.Write(first); err != nil {
			return
		}
		for {
			a, err := s.next()
			if err != nil {
				return
			}
			id := a.ActionID()
			var reply []byte
			switch a.Name() {
			case "Login":
				reply = frame("\r\n", "Response: Success", "ActionID: "+id, "Message: Authentication accepted")
			case "Ping":
				reply = frame("\r\n", "Response: Success", "ActionID: "+id, "Ping: Pong", "Timestamp: 1.0")
			case "Logoff":
				_, _ = s.Write(frame("\r\n", "Response: Goodbye", "ActionID: "+id, "Message: Thanks for all the fish."))
				return
			default:
				reply = frame("\r\n", "Response: Error", "ActionID: "+id, "Message: Invalid/unknown command")
			}
			if _, err := s.Write(reply); err != nil {
				return
			}
		}
	})
	m := newManager(t, map[string]string{"pbx1": pbx.Addr()}, testOptions())
	c := m.Default()
	waitReady(t, m)
	if got := c.Banner(); got != banner {
		t.Fatalf("Banner = %q, want %q", got, banner)
	}
	if st := c.Stats(); st.UnmatchedResponses != 1 || st.Desyncs != 0 || st.ConnectFailures != 0 {
		t.Fatalf("after banner+error: %s", statsString(m))
	}
	p, err := c.Send(ami.Ping{})
	if err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "a Ping", isDone(p))
	if res, err := p.Result(); err != nil || res.Get("Ping") != "Pong" {
		t.Fatalf("Ping = (%v, %v)", res, err)
	}
}
