package amitest_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

func TestBroadcastMasks(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	masks := []string{"on", "off", "call", "system", "call,agent"}
	clients := make([]*client, len(masks))
	for i, m := range masks {
		clients[i] = dial(t, s)
		clients[i].login(m)
	}
	s.Broadcast(H("Event", "Newchannel"), H("Privilege", "call,all"))
	s.Broadcast(H("Event", "Reload"), H("Privilege", "system,all"))
	s.Broadcast(H("Event", "NoPrivilege"))
	// Events on: login() consumed FullyBooted and SuccessfulAuth. The
	// system mask also got FullyBooted (system class), not SuccessfulAuth
	// (security class).
	want := map[string]string{
		"on":         "Newchannel,Reload,NoPrivilege",
		"off":        "",
		"call":       "Newchannel,NoPrivilege",
		"system":     "FullyBooted,Reload,NoPrivilege",
		"call,agent": "Newchannel,NoPrivilege",
	}
	for i, c := range clients {
		if got := strings.Join(names(c.ping("p")), ","); got != want[masks[i]] {
			t.Errorf("mask %q got %s, want %s", masks[i], got, want[masks[i]])
		}
	}
	if st := s.Stats(); st.EventsSent == 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestFlood(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	on1, on2, off := dial(t, s), dial(t, s), dial(t, s)
	on1.login("on")
	on2.login("call")
	off.login("off")
	const n = 1000
	sent, err := s.Flood(ctxT(t), amitest.Flood{Count: n})
	if err != nil || sent != 2*n {
		t.Fatalf("Flood = %d, %v; want %d", sent, err, 2*n)
	}
	for _, c := range []*client{on1, on2} {
		got := 0
		for got < n {
			if m := c.next(); m.Kind == amiproto.KindEvent {
				got++
			}
		}
		if ev := c.ping("after"); len(ev) != 0 {
			t.Fatalf("extra events after the flood: %d", len(ev))
		}
	}
	if ev := off.ping("p"); len(ev) != 0 {
		t.Fatalf("events-off client got %d events", len(ev))
	}
}

func TestFloodFixedFrameAndRate(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("off")
	if _, err := s.Flood(ctxT(t), amitest.Flood{Count: 1}); !errors.Is(err, amitest.ErrNoConns) {
		t.Fatalf("Flood without listeners: %v", err)
	}
	c.action("Events", "e", H("EventMask", "on"))
	c.response("e")
	frame := []byte("Event: Tick\r\nPrivilege: system,all\r\n\r\n")
	start := time.Now()
	sent, err := s.Flood(ctxT(t), amitest.Flood{Count: 200, Frame: frame, BatchSize: 10, Rate: 2000})
	if err != nil || sent != 200 {
		t.Fatalf("Flood = %d, %v", sent, err)
	}
	// The last batch (index 190) is due 95ms after the start.
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Fatalf("rate not honoured: 200 events at 2000/s in %v", el)
	}
	for range 200 {
		if m := c.next(); m.Get("Event") != "Tick" {
			t.Fatalf("got %v", m.Headers)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Flood(ctx, amitest.Flood{Count: 10}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Flood: %v", err)
	}
}

// A client that never reads must not hang Close, even mid-flood.
func TestCloseWithStuckClient(t *testing.T) {
	s := amitest.NewServer(nil, amitest.Options{})
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("Action: Login\r\nUsername: admin\r\nSecret: admin-secret\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	flood := make(chan error, 1)
	go func() {
		_, err := s.Flood(context.Background(), amitest.Flood{Count: 10_000_000})
		flood <- err
	}()
	// Wait until the flood is blocked on the full socket buffers.
	deadline := time.Now().Add(waitTimeout)
	for last := int64(-1); ; {
		sent := s.Stats().BytesSent
		if sent > 1<<20 && sent == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("flood never blocked")
		}
		last = sent
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(waitTimeout):
		t.Fatal("Close hung on a client that does not read")
	}
	if err := <-flood; !errors.Is(err, amitest.ErrConnClosed) {
		t.Fatalf("Flood after Close: %v", err)
	}
}

func TestHandle(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	release := make(chan struct{})
	s.Handle("ping", func(w *amitest.ResponseWriter, r *amitest.Request) {
		if r.Action.ActionID() == "slow" {
			<-release
		}
		w.Default()
	})
	s.Handle("QUEUESTATUS", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.StartList("Queue status will follow")
		w.Event("QueueParams", H("Queue", "custom"))
		w.CompleteList("QueueStatusComplete")
	})
	s.Handle("Originate", func(w *amitest.ResponseWriter, r *amitest.Request) { w.Ignore() })
	s.Handle("MyAction", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.Respond(H("Response", "Success"), H("Echo", r.Action.Get("Say")))
		w.Error("second")
	})
	c := dial(t, s)
	c.login("off")

	c.action("Originate", "ignored", H("Channel", "Local/x@y"), H("Application", "Wait"))
	c.action("MyAction", "my", H("Say", "hi"))
	m, skipped := c.response("my")
	if len(skipped) != 0 || m.Get("Echo") != "hi" || m.Headers[1] != H("ActionID", "my") {
		t.Fatalf("custom action: %v (skipped %d)", m.Headers, len(skipped))
	}
	if m := c.next(); m.Get("Message") != "second" || m.ActionID() != "my" {
		t.Fatalf("Error: %v", m.Headers)
	}

	c.action("QueueStatus", "qs")
	c.response("qs")
	items := c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "QueueStatusComplete" })
	if len(items) != 2 || items[0].Get("Queue") != "custom" || items[0].ActionID() != "qs" || items[1].Get("ListItems") != "1" {
		t.Fatalf("custom list: %v", items)
	}

	// A blocking handler holds the session, like a busy Asterisk.
	c.action("Ping", "slow")
	c.action("Ping", "fast")
	if _, err := c.tryNext(50 * time.Millisecond); err == nil {
		t.Fatal("answered while the handler blocks")
	}
	close(release)
	if m := c.next(); m.ActionID() != "slow" {
		t.Fatalf("got %v", m.Headers)
	}
	c.response("fast")

	s.Handle("ping", nil)
	s.Handle("MyAction", nil)
	c.ping("builtin")
	c.action("MyAction", "gone")
	if m, _ := c.response("gone"); !strings.HasPrefix(m.Get("Message"), "Invalid/unknown command: MyAction.") {
		t.Fatalf("after removing the handler: %v", m.Headers)
	}
	if !slices.Contains(amitest.Builtins(), "originate") {
		t.Fatalf("Builtins() = %v", amitest.Builtins())
	}
}

func TestWriteTimeoutDropsStuckClient(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{WriteTimeout: 100 * time.Millisecond})
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("Action: Login\r\nUsername: admin\r\nSecret: admin-secret\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	// The client never reads: the flood fills the buffers, then the write
	// times out and the server drops the connection.
	sent, err := s.Flood(ctxT(t), amitest.Flood{Count: 10_000_000})
	if !errors.Is(err, amitest.ErrConnClosed) || sent >= 10_000_000 {
		t.Fatalf("Flood = %d, %v", sent, err)
	}
	select {
	case <-s.Conns()[0].Done():
	case <-time.After(waitTimeout):
		t.Fatal("stuck connection not closed")
	}
}
