package ami_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// do sends a on m's default client and ticks until it completes.
func do(t *testing.T, m *ami.Manager, a ami.Action, opts ...ami.SendOption) (*ami.Result, error) {
	t.Helper()
	p, err := m.Default().Send(a, opts...)
	if err != nil {
		return nil, err
	}
	tickUntil(t, m, 10*time.Second, a.ActionName(), func() bool { return isDone(p) })
	return p.Result()
}

func readyManager(t *testing.T, o amitest.Options, opts ...ami.Options) (*amitest.Server, *ami.Manager) {
	t.Helper()
	srv := amitest.NewServer(t, o)
	cfg := ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": serverCfg(srv)}}
	if len(opts) > 0 {
		cfg.Options = opts[0]
	}
	m := newManager(t, cfg)
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	return srv, m
}

// Command output is the same in both Asterisk formats; a failed CLI
// command keeps its output in the *ActionError.
func TestCommandBothFormats(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		name := map[bool]string{false: "modern", true: "legacy"}[legacy]
		t.Run(name, func(t *testing.T) {
			_, m := readyManager(t, amitest.Options{LegacyCommand: legacy})
			res, err := do(t, m, ami.Command{Command: "manager show users"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Output) < 3 || !strings.Contains(strings.Join(res.Output, "\n"), "admin") {
				t.Fatalf("output: %q", res.Output)
			}
			_, err = do(t, m, ami.Command{Command: "no such command here"})
			var ae *ami.ActionError
			if legacy {
				// Legacy Asterisk answers an unknown command with Follows too.
				if err != nil && !errors.As(err, &ae) {
					t.Fatalf("legacy unknown command: %v", err)
				}
				return
			}
			if !errors.As(err, &ae) || ae.Response != "Error" || len(ae.Output) == 0 || !strings.Contains(ae.Output[0], "No such command") {
				t.Fatalf("want ActionError with output, got %#v", err)
			}
		})
	}
}

// Items of an event list go to their action only; the listeners never see
// them, while unrelated events still reach the listeners.
func TestEventListGoesToItsActionOnly(t *testing.T) {
	srv, m := readyManager(t, amitest.Options{})
	var seen []string
	m.OnAnyEvent(func(e *ami.Event) { seen = append(seen, e.Name()) })
	srv.Handle("CoreShowChannels", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.StartList("Channels will follow")
		for _, ch := range []string{"Local/a-1;1", "Local/b-2;1", "Local/c-3;1"} {
			w.Event("CoreShowChannel", amitest.H("Channel", ch))
		}
		_ = w.Conn().SendFrame(amitest.H("Event", "Unrelated"), amitest.H("Privilege", "call,all"))
		w.CompleteList("CoreShowChannelsComplete")
	})
	res, err := do(t, m, ami.CoreShowChannels{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 3 || res.Events[1].Get("Channel") != "Local/b-2;1" {
		t.Fatalf("items: %d", len(res.Events))
	}
	if res.Complete.Get("ListItems") != "3" {
		t.Fatalf("complete: %v", res.Complete)
	}
	tickUntil(t, m, 2*time.Second, "unrelated event", func() bool { return len(seen) > 0 })
	for _, n := range seen {
		if n == "CoreShowChannel" || n == "CoreShowChannelsComplete" {
			t.Fatalf("list item reached listeners: %v", seen)
		}
	}
}

// A Generic action whose response says "EventList: start" is followed as a
// list without being told.
func TestGenericListAutoDetected(t *testing.T) {
	_, m := readyManager(t, amitest.Options{})
	res, err := do(t, m, ami.Generic{Name: "Status"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete == nil {
		t.Fatalf("generic list not collected: %+v", res)
	}
}

// An event list longer than MaxListEvents fails with ErrListTooLong after
// counting, and does not grow memory past the cap.
func TestEventListCap(t *testing.T) {
	srv, m := readyManager(t, amitest.Options{}, ami.Options{MaxListEvents: 5})
	srv.Handle("Status", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.StartList("Channel status will follow")
		for i := 0; i < 20; i++ {
			w.Event("Status", amitest.H("Channel", "x"))
		}
		w.CompleteList("StatusComplete")
	})
	res, err := do(t, m, ami.Status{})
	if !errors.Is(err, ami.ErrListTooLong) || len(res.Events) != 5 {
		t.Fatalf("want ErrListTooLong with 5 items, got %v (%d)", err, len(res.Events))
	}
}

// An async Originate completes on its OriginateResponse, which also reaches
// the listeners; a failed one is an *ActionError.
func TestOriginateAsync(t *testing.T) {
	_, m := readyManager(t, amitest.Options{})
	got := make(chan *ami.Event, 4)
	m.OnEvent("OriginateResponse", func(e *ami.Event) { got <- e })
	res, err := do(t, m, ami.Originate{Channel: "Local/100@test", Application: "Wait", Data: "1", Async: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].Name() != "OriginateResponse" || res.Events[0].ActionID() != res.ActionID {
		t.Fatalf("result events: %+v", res.Events)
	}
	tickUntil(t, m, 2*time.Second, "listener", func() bool { return len(got) > 0 })
	if e := <-got; e.ActionID() != res.ActionID {
		t.Fatalf("listener got %s", e.ActionID())
	}

	_, err = do(t, m, ami.Originate{Channel: "Local/fail@test", Application: "Wait", Data: "1", Async: true})
	var ae *ami.ActionError
	if !errors.As(err, &ae) || ae.Response != "Failure" {
		t.Fatalf("failed originate: %v", err)
	}
}

// MD5 challenge login works; a wrong secret is an auth failure that is
// retried with backoff and shows in Health.
func TestAuth(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	md5 := serverCfg(srv)
	md5.Auth = "md5"
	bad := serverCfg(srv)
	bad.Secret = "wrong-secret"
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"md5": md5, "bad": bad}})
	cm, _ := m.Server("md5")
	cb, _ := m.Server("bad")
	tickUntil(t, m, 5*time.Second, "md5 ready and bad failed", func() bool {
		return cm.State() == ami.StateReady && cb.Health().LastError != nil
	})
	h := cb.Health()
	if !errors.Is(h.LastError, ami.ErrAuthFailed) || h.State != ami.StateReconnecting || h.NextRetry.IsZero() {
		t.Fatalf("bad server health: %+v", h)
	}
	if strings.Contains(h.LastError.Error(), "wrong-secret") {
		t.Fatal("secret in error")
	}
	var sawChallenge bool
	for _, c := range srv.Conns() {
		for _, a := range c.Actions() {
			if a.Name() == "Challenge" {
				sawChallenge = true
			}
			if a.Name() == "Login" && a.Get("Key") != "" && a.Get("Secret") != "" {
				t.Fatal("md5 login also sent the plain secret")
			}
		}
	}
	if !sawChallenge {
		t.Fatal("md5 auth did not use Challenge")
	}
}

func TestTLS(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{TLS: true})
	cfg := serverCfg(srv)
	cfg.TLSConfig = srv.ClientTLSConfig()
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": cfg}})
	tickUntil(t, m, 5*time.Second, "ready over TLS", allReady(m))
	if res, err := do(t, m, ami.Ping{}); err != nil || res.Get("Ping") != "Pong" {
		t.Fatalf("ping over TLS: %v %v", res, err)
	}
}

// A panicking listener is recovered and counted; the other listeners and
// servers still get their events.
func TestListenerPanicContained(t *testing.T) {
	srv, m := readyManager(t, amitest.Options{})
	var after int
	m.OnEvent("UserEvent", func(*ami.Event) { panic("boom") })
	m.OnEvent("UserEvent", func(*ami.Event) { after++ })
	for i := 0; i < 3; i++ {
		srv.Broadcast(amitest.H("Event", "UserEvent"), amitest.H("UserEvent", "x"))
	}
	tickUntil(t, m, 5*time.Second, "events", func() bool { return after == 3 })
	if got := m.Default().Stats().ListenerPanics; got != 3 {
		t.Fatalf("panics counted %d, want 3", got)
	}
}

// Subscriptions filter on names, servers and headers, and can be removed.
func TestSubscribeFilter(t *testing.T) {
	srv, m := readyManager(t, amitest.Options{})
	var hits, all int
	sub := m.Subscribe(ami.Filter{Names: []string{"userevent"}, Headers: map[string]string{"userevent": "Want"}}, func(*ami.Event) { hits++ })
	m.Default().OnAnyEvent(func(*ami.Event) { all++ })
	srv.Broadcast(amitest.H("Event", "UserEvent"), amitest.H("UserEvent", "Want"))
	srv.Broadcast(amitest.H("Event", "UserEvent"), amitest.H("UserEvent", "Other"))
	tickUntil(t, m, 5*time.Second, "two events", func() bool { return all >= 2 })
	if hits != 1 {
		t.Fatalf("filter hits %d, want 1", hits)
	}
	sub.Unsubscribe()
	srv.Broadcast(amitest.H("Event", "UserEvent"), amitest.H("UserEvent", "Want"))
	tickUntil(t, m, 5*time.Second, "third event", func() bool { return all >= 3 })
	if hits != 1 {
		t.Fatalf("unsubscribed handler still called")
	}
}

func TestActionByName(t *testing.T) {
	_, m := readyManager(t, amitest.Options{})
	res, err := do(t, m, ami.ActionByName("coreshowchannels", nil))
	if err != nil || res.Complete == nil {
		t.Fatalf("typed list by name: %+v %v", res, err)
	}
	res, err = do(t, m, ami.ActionByName("Command", []ami.Header{ami.H("Command", "core show uptime")}))
	if err != nil || len(res.Output) == 0 {
		t.Fatalf("command by name: %+v %v", res, err)
	}
	_, err = do(t, m, ami.ActionByName("NoSuchAction", nil))
	var ae *ami.ActionError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "Invalid/unknown command") {
		t.Fatalf("unknown action: %v", err)
	}
}

// WaitReady returns once the client is Ready, reports the last error when
// its context ends first, and ErrClosed after Close.
func TestWaitReady(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	bad := serverCfg(srv)
	bad.Secret = "wrong-secret"
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"good": serverCfg(srv), "bad": bad}})
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- m.Run(ctx) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()

	good, _ := m.Server("good")
	if err := good.WaitReady(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if good.State() != ami.StateReady {
		t.Fatalf("WaitReady returned in state %s", good.State())
	}
	err := m.WaitReady(ctxTimeout(t, 300*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "bad") || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("want a deadline error naming the server and its last error, got %v", err)
	}
	cancel()
	<-done
	stopped = true
	if err := good.WaitReady(context.Background()); !errors.Is(err, ami.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
