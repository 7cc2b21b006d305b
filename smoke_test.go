package ami_test

import (
	"context"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

func TestSmoke(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	m, err := ami.NewManager(ami.Config{Servers: map[string]ami.ServerConfig{
		"pbx1": {Address: srv.Addr(), Username: "admin", Secret: "admin-secret"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	var got []string
	evs := make(chan *ami.Event, 100)
	m.OnAnyEvent(func(e *ami.Event) { evs <- e })
	go func() { done <- m.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for m.Default().State() != ami.StateReady {
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %+v", m.Default().Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
	res, err := m.Default().Do(ctx, ami.Ping{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ping: %v", res.Response)
	res, err = m.Default().Do(ctx, ami.Command{Command: "core show version"})
	t.Logf("cmd: %v %v", res, err)
	res, err = m.Default().Do(ctx, ami.CoreShowChannels{})
	t.Logf("csc: %v %v", res, err)
	res, err = m.Default().Do(ctx, ami.Originate{Channel: "Local/100@test", Application: "Wait", Data: "1", Async: true})
	t.Logf("orig: %+v %v", res, err)
	_ = got
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(evs)
	for e := range evs {
		t.Logf("event %s %s", e.Name(), e.ActionID())
	}
	t.Logf("%+v", m.Stats())
}
