package ami_test

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

// 1,000 actions in flight on one server, answered out of order, some never:
// every answered one completes with its own response, the rest time out,
// and the pending table ends empty.
func TestOutOfOrderAnswersAndTimeouts(t *testing.T) {
	const total, unanswered = 1000, 100
	srv := amitest.NewServer(t, amitest.Options{})
	var mu sync.Mutex
	var held []*amitest.Request
	all := make(chan struct{})
	srv.Handle("UserEvent", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.Ignore()
		mu.Lock()
		held = append(held, r)
		if len(held) == total {
			close(all)
		}
		mu.Unlock()
	})
	m := newManager(t, ami.Config{
		Servers: map[string]ami.ServerConfig{"pbx1": serverCfg(srv)},
		Options: ami.Options{ActionTimeout: 2 * time.Second},
	})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	c := m.Default()

	type outcome struct {
		res *ami.Result
		err error
	}
	results := make(map[string]*outcome, total)
	pendings := make([]*ami.Pending, 0, total)
	for i := 0; i < total; i++ {
		p, err := c.Send(ami.UserEvent{UserEvent: "Probe", Headers: []ami.Header{{Key: "Seq", Value: strconv.Itoa(i)}}})
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		pendings = append(pendings, p)
		o := &outcome{}
		results[p.ActionID()] = o
		p.OnComplete(func(r *ami.Result, err error) { o.res, o.err = r, err })
	}
	tickUntil(t, m, 5*time.Second, "all actions at the server", func() bool {
		select {
		case <-all:
			return true
		default:
			return false
		}
	})
	// Answer all but `unanswered`, shuffled, echoing Seq so the test can
	// check every result belongs to its own action.
	mu.Lock()
	order := rand.New(rand.NewPCG(1, 2)).Perm(total)
	var buf []byte
	for _, i := range order[unanswered:] {
		r := held[i]
		var err error
		buf, err = amiproto.AppendFrame(buf, []amiproto.Header{
			{Key: "Response", Value: "Success"},
			{Key: "ActionID", Value: r.Action.ActionID()},
			{Key: "Echo", Value: r.Action.Get("Seq")},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	conn := held[0].Conn
	mu.Unlock()
	if err := conn.Send(buf); err != nil {
		t.Fatal(err)
	}

	tickUntil(t, m, 10*time.Second, "every action complete", func() bool {
		for _, p := range pendings {
			select {
			case <-p.Done():
			default:
				return false
			}
		}
		return true
	})
	var ok, timedOut int
	for i, p := range pendings {
		o := results[p.ActionID()]
		switch {
		case o.err == nil:
			ok++
			if got := o.res.Get("Echo"); got != strconv.Itoa(i) {
				t.Fatalf("action %d (%s) got the answer of %s", i, p.ActionID(), got)
			}
			if o.res.ActionID != p.ActionID() {
				t.Fatalf("result ActionID %s != %s", o.res.ActionID, p.ActionID())
			}
		case errors.Is(o.err, ami.ErrActionTimeout):
			timedOut++
			if ami.SafeToRetry(o.err) {
				t.Fatalf("a timed-out action was written: never safe to retry")
			}
		default:
			t.Fatalf("action %d: unexpected error %v", i, o.err)
		}
	}
	if ok != total-unanswered || timedOut != unanswered {
		t.Fatalf("ok=%d timedOut=%d, want %d and %d", ok, timedOut, total-unanswered, unanswered)
	}
	if st := c.Stats(); st.Pending != 0 {
		t.Fatalf("pending table not empty: %d", st.Pending)
	}
}

// A response whose ActionID matches nothing pending is counted, never
// matched to another action; a response without ActionID too.
func TestUnmatchedResponsesAreCounted(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": serverCfg(srv)}})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	srv.Handle("Ping", func(w *amitest.ResponseWriter, r *amitest.Request) {
		// Two strays first, then the real answer.
		_ = w.Conn().SendFrame(amitest.H("Response", "Success"), amitest.H("ActionID", "pbx1:other:1"), amitest.H("Ping", "Stray"))
		_ = w.Conn().SendFrame(amitest.H("Response", "Error"), amitest.H("Message", "no id"))
		w.Default()
	})
	p, err := m.Default().Send(ami.Ping{})
	if err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, 5*time.Second, "ping", func() bool { return isDone(p) })
	res, err := p.Result()
	if err != nil || res.Get("Ping") != "Pong" {
		t.Fatalf("ping: %v %v", res, err)
	}
	if got := m.Default().Stats().UnmatchedResponses; got != 2 {
		t.Fatalf("unmatched = %d, want 2", got)
	}
}

func isDone(p *ami.Pending) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// Caller-chosen ActionIDs are validated: charset, length, not pending.
func TestCallerActionID(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	srv.Handle("UserEvent", func(w *amitest.ResponseWriter, r *amitest.Request) { w.Ignore() })
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": serverCfg(srv)}})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	c := m.Default()
	p, err := c.Send(ami.UserEvent{UserEvent: "x"}, ami.WithActionID("my-id-1"))
	if err != nil || p.ActionID() != "my-id-1" {
		t.Fatalf("custom id: %v %v", p, err)
	}
	if _, err := c.Send(ami.UserEvent{UserEvent: "x"}, ami.WithActionID("my-id-1")); !errors.Is(err, ami.ErrDuplicateActionID) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []string{"has space", "new\nline", strings.Repeat("x", 65), "tab\there", "é"} {
		if _, err := c.Send(ami.UserEvent{UserEvent: "x"}, ami.WithActionID(bad)); !errors.Is(err, ami.ErrInvalidActionID) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if _, err := c.Send(ami.UserEvent{UserEvent: "x"}, ami.WithActionID(strings.Repeat("x", 64))); err != nil {
		t.Fatalf("64 bytes is allowed: %v", err)
	}
}

// Header injection is refused before anything is queued.
func TestHeaderInjectionRefused(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": serverCfg(srv)}})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	_, err := m.Default().Send(ami.SetVar{Variable: "X", Value: "1\r\nAction: Originate"})
	var ee *amiproto.EncodeError
	if !errors.As(err, &ee) || !errors.Is(err, amiproto.ErrInvalidHeader) {
		t.Fatalf("want *amiproto.EncodeError, got %v", err)
	}
	if st := m.Default().Stats(); st.Pending != 0 {
		t.Fatalf("pending after refused send: %d", st.Pending)
	}
}

// Send before Ready is refused with *NotReadyError, safe to retry.
func TestSendNotReady(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": serverCfg(srv)}})
	_, err := m.Default().Send(ami.Ping{})
	var nr *ami.NotReadyError
	if !errors.As(err, &nr) || nr.Server != "pbx1" || nr.State != ami.StateDisconnected {
		t.Fatalf("want NotReadyError{pbx1, disconnected}, got %v", err)
	}
	if !ami.SafeToRetry(err) {
		t.Fatal("NotReadyError must be safe to retry")
	}
	if _, err := m.Send(ami.Ping{}); !errors.Is(err, ami.ErrNoHealthyServer) {
		t.Fatalf("routed send before ready: %v", err)
	}
}

// The pending table is bounded: past MaxPendingActions Send refuses with
// ErrBackpressure (safe to retry) and nothing is written.
func TestPendingTableBackpressure(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	srv.Handle("UserEvent", func(w *amitest.ResponseWriter, r *amitest.Request) { w.Ignore() })
	m := newManager(t, ami.Config{
		Servers: map[string]ami.ServerConfig{"pbx1": serverCfg(srv)},
		Options: ami.Options{MaxPendingActions: 10},
	})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	for i := 0; i < 10; i++ {
		if _, err := m.Default().Send(ami.UserEvent{UserEvent: "x"}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	_, err := m.Default().Send(ami.UserEvent{UserEvent: "x"})
	if !errors.Is(err, ami.ErrBackpressure) || !ami.SafeToRetry(err) {
		t.Fatalf("want ErrBackpressure, got %v", err)
	}
}
