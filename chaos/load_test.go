package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
	"github.com/apntalk/ami/internal/clock"
)

// S10: 20,000 events burst into a 10,000-event queue while listeners are
// served at most 100 events per tick. The queue never holds more than its
// capacity, the oldest events are the ones dropped (the newest 10,000 all
// reach the listener, in order), the counters are exact, and the dispatch
// budget keeps every tick short.
func TestS10EventFlood(t *testing.T) {
	const (
		total    = 20000
		capacity = 10000
		budget   = 100
	)
	srv := amitest.NewServer(t, amitest.Options{})
	o := testOptions()
	o.EventQueueCapacity = capacity
	o.MaxEventsPerTick = budget
	m := newManager(t, one(srv), o)
	c := m.Default()
	var seen []int // written on the tick goroutine, which is this one
	c.OnEvent("Seq", func(e *ami.Event) {
		n, err := strconv.Atoi(e.Get("N"))
		if err != nil {
			panic(err)
		}
		seen = append(seen, n)
	})
	waitReady(t, m)
	waitLoginEvents(t, m, c)
	base := c.Stats()

	var burst []byte
	for i := range total {
		burst = fmt.Appendf(burst, "Event: Seq\r\nN: %d\r\n\r\n", i)
	}
	sent := make(chan error, 1)
	go func() { sent <- connOf(t, srv).Send(burst) }()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}

	var ticks int
	var longest time.Duration
	deadline := time.Now().Add(scenarioTimeout)
	for {
		st := c.Stats()
		if st.EventsReceived-base.EventsReceived == total && st.EventsQueued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flood not absorbed: %s", statsString(m))
		}
		start := time.Now()
		sum, err := m.TickAll(5 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		ticks++
		longest = max(longest, time.Since(start)-sum.Waited)
		if sum.EventsDispatched > budget {
			t.Fatalf("a tick dispatched %d events, budget %d", sum.EventsDispatched, budget)
		}
		if q := c.Stats().EventsQueued; q > capacity {
			t.Fatalf("queue holds %d events, capacity %d", q, capacity)
		}
	}
	st := c.Stats()
	received := st.EventsReceived - base.EventsReceived
	dispatched := st.EventsDispatched - base.EventsDispatched
	dropped := st.EventsDropped - base.EventsDropped
	if received != total || dispatched+dropped != received || dispatched != uint64(len(seen)) {
		t.Fatalf("counters: received=%d dispatched=%d dropped=%d seen=%d, want received=%d=dispatched+dropped, dispatched=seen",
			received, dispatched, dropped, len(seen), total)
	}
	if dropped == 0 {
		t.Fatalf("nothing dropped: the scenario did not overflow the queue")
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("events out of order: %d after %d", seen[i], seen[i-1])
		}
	}
	// Drop-oldest: the newest events are never dropped. Once the burst is
	// parsed the queue holds the newest ones, so the listener's last events
	// are a contiguous run ending at the very last event.
	tail := 1
	for i := len(seen) - 1; i > 0 && seen[i-1] == seen[i]-1; i-- {
		tail++
	}
	if seen[len(seen)-1] != total-1 || tail < capacity/2 {
		t.Fatalf("last event %d, contiguous tail %d: want the newest events kept (tail ending at %d, at least %d long)",
			seen[len(seen)-1], tail, total-1, capacity/2)
	}
	if longest > 500*time.Millisecond {
		t.Fatalf("the longest tick took %v of work", longest)
	}
	t.Logf("%d ticks, %d dropped, contiguous tail %d, longest tick %v", ticks, dropped, tail, longest)
}

// S11: 1,000 actions in flight at once, sent from 10 goroutines, answered in
// a shuffled order, one in ten never answered. Every answered action gets
// its own response (the Tag it sent comes back), the others time out (fake
// clock), a late answer to a timed-out action is only counted as unmatched,
// and the pending table ends empty.
func TestS11OutOfOrderAndLost(t *testing.T) {
	const (
		total   = 1000
		senders = 10
		timeout = 5 * time.Second
	)
	type request struct{ id, tag string }
	var (
		mu       sync.Mutex
		requests []request
	)
	srv := amitest.NewServer(t, amitest.Options{})
	srv.Handle("Echo", func(w *amitest.ResponseWriter, r *amitest.Request) {
		mu.Lock()
		requests = append(requests, request{r.Action.ActionID(), r.Action.Get("Tag")})
		mu.Unlock()
		w.Ignore() // answered later, by the test, in another order
	})
	fake := clock.NewFake(time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC))
	o := testOptions()
	o.MaxPendingActions = 2 * total
	m := newManager(t, one(srv), o, ami.WithNow(fake.Now))
	c := m.Default()
	waitReady(t, m)
	base := c.Stats()

	pend := make([]*ami.Pending, total)
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for s := range senders {
		wg.Go(func() {
			for i := s; i < total; i += senders {
				p, err := c.Send(ami.Generic{Name: "Echo", Headers: []ami.Header{ami.H("Tag", strconv.Itoa(i))}}, ami.WithTimeout(timeout))
				if err != nil {
					errs <- err
					return
				}
				pend[i] = p
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Send: %v", err)
	}
	if st := c.Stats(); st.Pending != total {
		t.Fatalf("pending = %d, want %d", st.Pending, total)
	}
	tickUntil(t, m, scenarioTimeout, "the PBX to receive every action", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(requests) == total
	})

	mu.Lock()
	reqs := append([]request(nil), requests...)
	mu.Unlock()
	rand.New(rand.NewPCG(11, 11)).Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	var answers []byte
	lost := make(map[string]bool)
	for _, r := range reqs {
		if n, _ := strconv.Atoi(r.tag); n%10 == 0 {
			lost[r.id] = true
			continue
		}
		answers = append(answers, frame("\r\n", "Response: Success", "ActionID: "+r.id, "Tag: "+r.tag)...)
	}
	if err := connOf(t, srv).Send(answers); err != nil {
		t.Fatal(err)
	}
	answered := total - len(lost)
	tickUntil(t, m, scenarioTimeout, "every answered action", func() bool {
		return c.Stats().ActionsCompleted-base.ActionsCompleted == uint64(answered)
	})
	for i, p := range pend {
		if lost[p.ActionID()] {
			if isDone(p)() {
				t.Fatalf("unanswered action %s completed before its timeout", p.ActionID())
			}
			continue
		}
		res, err := p.Result()
		if err != nil || res.Get("Tag") != strconv.Itoa(i) || res.ActionID != p.ActionID() {
			t.Fatalf("action %d (%s) = (%+v, %v), want its own Tag %d", i, p.ActionID(), res, err, i)
		}
	}
	if st := c.Stats(); st.Pending != len(lost) {
		t.Fatalf("pending = %d, want the %d unanswered", st.Pending, len(lost))
	}

	fake.Advance(timeout + time.Second)
	tickUntil(t, m, scenarioTimeout, "the timeouts", allDone(pend))
	for _, p := range pend {
		if !lost[p.ActionID()] {
			continue
		}
		_, err := p.Result()
		var te *ami.TimeoutError
		if !errors.As(err, &te) || !errors.Is(err, ami.ErrActionTimeout) || te.ActionID != p.ActionID() {
			t.Fatalf("unanswered %s: %v, want *ami.TimeoutError", p.ActionID(), err)
		}
	}
	// A late answer for a timed-out action resolves nothing.
	for id := range lost {
		if err := connOf(t, srv).Send(frame("\r\n", "Response: Success", "ActionID: "+id)); err != nil {
			t.Fatal(err)
		}
		break
	}
	tickUntil(t, m, scenarioTimeout, "the late answer", func() bool {
		return c.Stats().UnmatchedResponses-base.UnmatchedResponses == 1
	})
	st := c.Stats()
	if st.Pending != 0 || st.ActionsFailed-base.ActionsFailed != uint64(len(lost)) || st.State != ami.StateReady {
		t.Fatalf("final stats: %s", statsString(m))
	}
}

// S12: three servers, one of them flooding events as fast as the socket
// takes them. The per-server budgets and the rotating tick order keep the
// other two responsive: every action they are sent completes within its
// timeout while the flood goes on.
func TestS12NoisyNeighbour(t *testing.T) {
	const (
		perServer = 25
		timeout   = 2 * time.Second
	)
	noisy := amitest.NewServer(t, amitest.Options{})
	quiet := []*amitest.Server{amitest.NewServer(t, amitest.Options{}), amitest.NewServer(t, amitest.Options{})}
	m := newManager(t, map[string]string{"noisy": noisy.Addr(), "quiet1": quiet[0].Addr(), "quiet2": quiet[1].Addr()}, testOptions())
	m.OnAnyEvent(func(*ami.Event) {})
	runManager(t, m)
	eventually(t, scenarioTimeout, "every server Ready", func() bool { return m.Health().AllReady() })

	ctx, cancel := context.WithCancel(context.Background())
	flooded := make(chan error, 1)
	go func() {
		_, err := noisy.Flood(ctx, amitest.Flood{Count: 50_000_000})
		flooded <- err
	}()
	t.Cleanup(func() { cancel(); <-flooded })
	nc, err := m.Server("noisy")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, scenarioTimeout, "the flood to start", func() bool { return nc.Stats().EventsReceived > 10000 })
	floodBefore := nc.Stats().EventsReceived

	var wg sync.WaitGroup
	latencies := make([][]time.Duration, len(quiet))
	errs := make(chan error, 2*perServer)
	for i := range quiet {
		c, err := m.Server(fmt.Sprintf("quiet%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for range perServer {
				actx, acancel := context.WithTimeout(context.Background(), 2*timeout)
				res, err := c.Do(actx, ami.Ping{}, ami.WithTimeout(timeout))
				acancel()
				if err != nil {
					errs <- fmt.Errorf("%s: %w", c.Key(), err)
					return
				}
				latencies[i] = append(latencies[i], res.Latency)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("an action of a quiet server failed during the flood: %v", err)
	}
	during := nc.Stats().EventsReceived - floodBefore
	if during < 1000 {
		t.Fatalf("only %d flood events arrived while the quiet servers were served: the scenario did not overlap", during)
	}
	select {
	case err := <-flooded:
		t.Fatalf("the flood ended early: %v", err)
	default:
	}
	var worst time.Duration
	for _, ls := range latencies {
		for _, l := range ls {
			worst = max(worst, l)
		}
	}
	if worst >= timeout {
		t.Fatalf("worst latency %v reached the timeout %v", worst, timeout)
	}
	t.Logf("%d flood events during %d actions per quiet server; worst latency %v", during, perServer, worst)
}
