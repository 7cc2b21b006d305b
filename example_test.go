package ami_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

// waitReady ticks until every server is Ready (examples drive the loop
// themselves; tests use Run or their own helpers).
func waitReady(m *ami.Manager) {
	deadline := time.Now().Add(10 * time.Second)
	for !m.Health().AllReady() && time.Now().Before(deadline) {
		_, _ = m.TickAll(10 * time.Millisecond)
	}
}

func ExampleNewManager() {
	pbx := amitest.NewServer(nil, amitest.Options{})
	defer pbx.Close()

	m, err := ami.NewManager(ami.Config{
		Servers: map[string]ami.ServerConfig{
			"pbx1": {Address: pbx.Addr(), Username: "admin", Secret: "admin-secret"},
		},
		Options: ami.Options{ActionTimeout: 5 * time.Second},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	waitReady(m)
	fmt.Println(m.Default().Key(), m.Default().State(), m.Default().Banner())

	// Every bad value is refused up front, naming the field and its range.
	_, err = ami.NewManager(ami.Config{
		Servers: map[string]ami.ServerConfig{"pbx1": {Address: pbx.Addr(), Username: "admin"}},
		Options: ami.Options{TickInterval: time.Second},
	})
	fmt.Println(err)
	// Output:
	// pbx1 ready Asterisk Call Manager/13.0.0
	// ami: config: options.tick_interval: 1s out of range 1ms..250ms
}

func ExampleClient_Send() {
	pbx := amitest.NewServer(nil, amitest.Options{})
	defer pbx.Close()
	m, _ := ami.NewManager(ami.Config{Servers: map[string]ami.ServerConfig{
		"pbx1": {Address: pbx.Addr(), Username: "admin", Secret: "admin-secret"},
	}})
	defer m.Close()
	waitReady(m)

	// Send never blocks; the result arrives on a later tick.
	p, err := m.Default().Send(ami.Ping{})
	if err != nil {
		fmt.Println(err)
		return
	}
	p.OnComplete(func(r *ami.Result, err error) {
		fmt.Println("Ping:", r.Get("Ping"), "err:", err)
	})
	for {
		select {
		case <-p.Done():
			return
		default:
			_, _ = m.TickAll(10 * time.Millisecond)
		}
	}
	// Output:
	// Ping: Pong err: <nil>
}

func ExampleClient_Do() {
	pbx := amitest.NewServer(nil, amitest.Options{})
	defer pbx.Close()
	m, _ := ami.NewManager(ami.Config{Servers: map[string]ami.ServerConfig{
		"pbx1": {Address: pbx.Addr(), Username: "admin", Secret: "admin-secret"},
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }() // Do needs someone driving the ticks
	defer func() { cancel(); <-done }()

	for m.Default().State() != ami.StateReady {
		time.Sleep(time.Millisecond) // an example; tests poll with a deadline
	}
	res, err := m.Default().Do(ctx, ami.Command{Command: "core show uptime"})
	fmt.Println(len(res.Output) > 0, err)

	_, err = m.Default().Do(ctx, ami.Command{Command: "no such command"})
	var ae *ami.ActionError
	fmt.Println(errors.As(err, &ae), ae.Response)
	// Output:
	// true <nil>
	// true Error
}

func ExampleManager_OnEvent() {
	pbx := amitest.NewServer(nil, amitest.Options{})
	defer pbx.Close()
	m, _ := ami.NewManager(ami.Config{Servers: map[string]ami.ServerConfig{
		"pbx1": {Address: pbx.Addr(), Username: "admin", Secret: "admin-secret"},
	}})
	defer m.Close()

	got := make(chan *ami.Event, 1)
	sub := m.OnEvent("UserEvent", func(e *ami.Event) { got <- e })
	defer sub.Unsubscribe()
	waitReady(m)

	pbx.Broadcast(amitest.H("Event", "UserEvent"), amitest.H("UserEvent", "CallQueued"), amitest.H("Lead", "42"))
	for {
		select {
		case e := <-got:
			fmt.Println(e.Name(), e.Get("UserEvent"), e.Get("lead"), e.Server())
			return
		default:
			_, _ = m.TickAll(10 * time.Millisecond)
		}
	}
	// Output:
	// UserEvent CallQueued 42 pbx1
}

func ExampleManager_Run() {
	pbx := amitest.NewServer(nil, amitest.Options{})
	defer pbx.Close()
	m, _ := ami.NewManager(ami.Config{Servers: map[string]ami.ServerConfig{
		"pbx1": {Address: pbx.Addr(), Username: "admin", Secret: "admin-secret"},
	}})
	ctx, cancel := context.WithCancel(context.Background())
	m.OnEvent("FullyBooted", func(e *ami.Event) {
		fmt.Println("booted:", e.Server())
		cancel() // Run shuts down gracefully: Logoff, bounded flush, close
	})
	err := m.Run(ctx)
	fmt.Println("run:", err, m.Default().State())
	// Output:
	// booted: pbx1
	// run: <nil> closed
}
