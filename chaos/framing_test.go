package chaos_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

// S5: every byte from the PBX arrives in 7-byte writes with a pause between
// them (a congested link). Each response is reassembled and completes its
// action exactly once, in both Command formats.
func TestS5ChunkedResponse(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			srv := amitest.NewServer(t, amitest.Options{WriteChunkSize: 7, WriteChunkDelay: time.Millisecond, LegacyCommand: legacy})
			long := strings.Repeat("v", 300)
			srv.Handle("Getvar", func(w *amitest.ResponseWriter, _ *amitest.Request) {
				w.Success(amitest.H("Variable", "CAMPAIGN"), amitest.H("Value", long))
			})
			m := newManager(t, one(srv), testOptions())
			c := m.Default()
			waitReady(t, m)
			before := c.Stats()

			var calls atomic.Int32
			getvar, err := c.Send(ami.GetVar{Variable: "CAMPAIGN"})
			if err != nil {
				t.Fatal(err)
			}
			getvar.OnComplete(func(*ami.Result, error) { calls.Add(1) })
			cmd, err := c.Send(ami.Command{Command: "core show version"})
			if err != nil {
				t.Fatal(err)
			}
			cmd.OnComplete(func(*ami.Result, error) { calls.Add(1) })
			tickUntil(t, m, scenarioTimeout, "the chunked responses", allDone([]*ami.Pending{getvar, cmd}))
			tickFor(t, m, 50*time.Millisecond) // a duplicate completion would show now

			if res, err := getvar.Result(); err != nil || res.Get("Value") != long || res.ActionID != getvar.ActionID() {
				t.Fatalf("Getvar = (%+v, %v), want the 300-byte value", res, err)
			}
			res, err := cmd.Result()
			if err != nil || len(res.Output) != 1 || !strings.HasPrefix(res.Output[0], "Asterisk ") {
				t.Fatalf("Command = (%+v, %v), want one line of version output", res, err)
			}
			if n := calls.Load(); n != 2 {
				t.Fatalf("completion callbacks ran %d times, want 2 (once per action)", n)
			}
			st := c.Stats()
			if st.ActionsCompleted-before.ActionsCompleted != 2 || st.Pending != 0 || st.UnmatchedResponses != 0 || st.Desyncs != 0 {
				t.Fatalf("stats after chunked replies: %s", statsString(m))
			}
		})
	}
}

// S6: a frame cut short. In the stream, a frame whose last line never ends
// (16 MiB without a line break) is skipped without being buffered, and the
// valid reply behind it completes its action. Across a reconnect, the head
// of a frame cut by the connection loss never joins the first frame of the
// next connection.
func TestS6TruncatedFrame(t *testing.T) {
	const junk = 16 << 20
	srv := amitest.NewServer(t, amitest.Options{})
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	srv.Handle("Ping", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.Raw([]byte("Event: Truncated\r\nChannel: PJSIP/trunk-00000001\r\nData: "))
		for range junk / len(chunk) {
			w.Raw(chunk)
		}
		w.Raw([]byte("\r\n\r\n"))
		w.Default()
	})
	o := testOptions()
	o.MaxFrameSize = 64 << 10
	o.MaxBufferSize = 128 << 10
	m := newManager(t, one(srv), o)
	c := m.Default()
	var evs eventLog
	m.OnAnyEvent(evs.add)
	waitReady(t, m)

	heap := newHeapWatch()
	p, err := c.Send(ami.Ping{})
	if err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "the Ping behind 16 MiB of junk", func() bool {
		heap.sample()
		return isDone(p)()
	})
	if res, err := p.Result(); err != nil || res.Get("Ping") != "Pong" {
		t.Fatalf("Ping behind the truncated frame = (%v, %v)", res, err)
	}
	if g := heap.growth(); g > 8<<20 {
		t.Fatalf("heap grew by %d bytes while skipping %d bytes of one frame: the buffer cap did not hold", g, junk)
	}
	if n := evs.len(); n != 0 {
		t.Fatalf("%d events delivered, want none: the truncated frame leaked", n)
	}
	if st := c.Stats(); st.ProtocolErrors == 0 || st.Reconnects != 0 {
		t.Fatalf("stats: %s; want a protocol error and no reconnect", statsString(m))
	}
	t.Logf("heap growth while skipping %d MiB: %d KiB", junk>>20, heap.growth()>>10)

	// Across a connection loss: the cut frame must not merge with the
	// first frame of the next session.
	if err := connOf(t, srv).Send([]byte("Event: Leak\r\nChannel: OLD-EPOCH\r\nUniqueid: 1733328000.1\r\n")); err != nil {
		t.Fatal(err)
	}
	tickFor(t, m, 20*time.Millisecond)
	connOf(t, srv).Close()
	tickUntil(t, m, scenarioTimeout, "the reconnect", func() bool {
		return c.Stats().Reconnects == 1 && c.State() == ami.StateReady
	})
	srv.Broadcast(amitest.H("Event", "Fresh"), amitest.H("Seq", "1"))
	tickUntil(t, m, scenarioTimeout, "the first event of the new session", func() bool { return evs.len() == 1 })
	e := evs.snapshot()[0]
	want := ami.Headers{ami.H("Event", "Fresh"), ami.H("Seq", "1")}
	if e.Name() != "Fresh" || !slices.Equal(e.Headers(), want) {
		t.Fatalf("first event after reconnect = %v, want exactly %v", e.Headers(), want)
	}
}

// S7: garbage between and inside valid frames. Every garbage run is
// discarded and counted as one desync, a frame holding a garbage line is
// dropped whole, and no header ever crosses from one frame to another.
func TestS7GarbageBetweenFrames(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	m := newManager(t, one(srv), testOptions())
	c := m.Default()
	var evs eventLog
	m.OnAnyEvent(evs.add)
	waitReady(t, m)

	var stream []byte
	stream = append(stream, frame("\r\n", "Event: A", "X: 1")...)
	stream = append(stream, "\x00\xff\xfe binary junk\r\n\x01\x02\x03\r\n\r\n"...) // a garbage block
	stream = append(stream, frame("\r\n", "Event: B", "Y: 2")...)
	stream = append(stream, "no colon on this line\r\n"...) // garbage glued to the next frame
	stream = append(stream, frame("\r\n", "Event: C", "Z: 3")...)
	stream = append(stream, frame("\r\n", "Event: D", "bad key with spaces: 4", "Secret-Of-D: 4")...) // garbage inside a frame
	stream = append(stream, frame("\r\n", "Event: E", "V: 5")...)
	if err := connOf(t, srv).Send(stream); err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "the valid events", func() bool { return evs.len() >= 4 })
	tickFor(t, m, 20*time.Millisecond)

	want := []ami.Headers{
		{ami.H("Event", "A"), ami.H("X", "1")},
		{ami.H("Event", "B"), ami.H("Y", "2")},
		{ami.H("Event", "C"), ami.H("Z", "3")},
		{ami.H("Event", "E"), ami.H("V", "5")},
	}
	got := evs.snapshot()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %v", len(got), len(want), got)
	}
	for i, e := range got {
		if !slices.Equal(e.Headers(), want[i]) {
			t.Errorf("event %d = %v, want exactly %v", i, e.Headers(), want[i])
		}
	}
	st := c.Stats()
	if st.Desyncs != 3 {
		t.Errorf("desyncs = %d, want 3 (one per garbage run)", st.Desyncs)
	}
	if st.State != ami.StateReady || st.Reconnects != 0 {
		t.Errorf("three desyncs reset the connection: %s", statsString(m))
	}
	p, err := c.Send(ami.Ping{})
	if err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "a Ping after the garbage", isDone(p))
	if _, err := p.Result(); err != nil {
		t.Fatalf("Ping after garbage: %v", err)
	}
}

// S8: 200 KB frames against a 64 KB frame cap. A reply that carried its
// ActionID fails that action with *ami.ProtocolError matching
// amiproto.ErrFrameTooLarge; an oversized event is only counted; memory
// stays bounded however many of them come; the stream recovers.
func TestS8OversizedFrame(t *testing.T) {
	const size = 200 << 10
	var body []byte
	for i := 0; len(body) < size; i++ {
		body = fmt.Appendf(body, "Line-%06d: %s\r\n", i, strings.Repeat("c", 80))
	}
	srv := amitest.NewServer(t, amitest.Options{})
	srv.Handle("GetConfig", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.Raw([]byte("Response: Success\r\nActionID: " + r.Action.ActionID() + "\r\n"))
		w.Raw(body)
		w.Raw([]byte("\r\n"))
	})
	o := testOptions()
	o.MaxFrameSize = 64 << 10
	o.MaxBufferSize = 128 << 10
	m := newManager(t, one(srv), o)
	c := m.Default()
	var evs eventLog
	m.OnAnyEvent(evs.add)
	waitReady(t, m)

	// An oversized event first: no action to fail, only counted.
	big := append(append([]byte("Event: Huge\r\n"), body...), "\r\n"...)
	if err := connOf(t, srv).Send(append(big, frame("\r\n", "Event: Small", "N: 1")...)); err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "the event behind the oversized one", func() bool { return evs.len() == 1 })
	if e := evs.snapshot()[0]; e.Name() != "Small" || len(e.Headers()) != 2 {
		t.Fatalf("event after the oversized one = %v", e.Headers())
	}
	if st := c.Stats(); st.ProtocolErrors != 1 || st.ActionsFailed != 0 {
		t.Fatalf("after an oversized event: %s", statsString(m))
	}

	const n = 50 // 10 MB of oversized replies
	heap := newHeapWatch()
	ps := make([]*ami.Pending, n)
	for i := range ps {
		p, err := c.Send(ami.Generic{Name: "GetConfig", Headers: []ami.Header{ami.H("Filename", "sip.conf")}})
		if err != nil {
			t.Fatal(err)
		}
		ps[i] = p
	}
	tickUntil(t, m, scenarioTimeout, "the oversized replies", func() bool {
		heap.sample()
		return allDone(ps)()
	})
	for _, p := range ps {
		_, err := p.Result()
		var pe *ami.ProtocolError
		if !errors.As(err, &pe) || pe.ActionID != p.ActionID() {
			t.Fatalf("%s: got %v, want *ami.ProtocolError for this ActionID", p.ActionID(), err)
		}
		if !errors.Is(err, amiproto.ErrFrameTooLarge) || !errors.Is(err, ami.ErrProtocol) {
			t.Fatalf("%v does not match amiproto.ErrFrameTooLarge and ami.ErrProtocol", err)
		}
	}
	if g := heap.growth(); g > 8<<20 {
		t.Fatalf("heap grew by %d bytes over %d oversized frames of %d bytes", g, n, size)
	}
	t.Logf("heap growth over %d frames of %d KiB: %d KiB", n, size>>10, heap.growth()>>10)
	p, err := c.Send(ami.Ping{})
	if err != nil {
		t.Fatal(err)
	}
	tickUntil(t, m, scenarioTimeout, "a Ping after the oversized frames", isDone(p))
	if _, err := p.Result(); err != nil {
		t.Fatalf("Ping after oversized frames: %v", err)
	}
	if st := c.Stats(); st.Pending != 0 || st.ProtocolErrors != n+1 || st.Reconnects != 0 {
		t.Fatalf("final stats: %s", statsString(m))
	}
}

// S9: Command output past Options.MaxCommandOutput fails the action with a
// protocol error matching amiproto.ErrOutputTooLarge, in both formats; the
// legacy form streams 8 MiB of output, which must not be buffered.
func TestS9CommandOutputCap(t *testing.T) {
	const outputCap = 4 << 10
	line := strings.Repeat("o", 99)
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			srv := amitest.NewServer(t, amitest.Options{LegacyCommand: legacy})
			chunk := bytes.Repeat([]byte(line+"\n"), 640) // 64000 bytes
			srv.Handle("Command", func(w *amitest.ResponseWriter, r *amitest.Request) {
				if !legacy {
					lines := make([]string, 100) // 10 KB, under the frame cap, over the output cap
					for i := range lines {
						lines[i] = line
					}
					w.CommandOutput(lines...)
					return
				}
				w.Raw([]byte("Response: Follows\r\nPrivilege: Command\r\nActionID: " + r.Action.ActionID() + "\r\n"))
				for range (8 << 20) / len(chunk) {
					w.Raw(chunk)
				}
				w.Raw([]byte("--END COMMAND--\r\n\r\n"))
			})
			o := testOptions()
			o.MaxCommandOutput = outputCap
			o.MaxFrameSize = 64 << 10
			o.MaxBufferSize = 128 << 10
			m := newManager(t, one(srv), o)
			c := m.Default()
			waitReady(t, m)

			heap := newHeapWatch()
			p, err := c.Send(ami.Command{Command: "core show channels verbose"})
			if err != nil {
				t.Fatal(err)
			}
			tickUntil(t, m, scenarioTimeout, "the oversized command output", func() bool {
				heap.sample()
				return isDone(p)()
			})
			res, err := p.Result()
			var pe *ami.ProtocolError
			if !errors.As(err, &pe) || pe.ActionID != p.ActionID() || !errors.Is(err, amiproto.ErrOutputTooLarge) {
				t.Fatalf("Command = (%v, %v), want *ami.ProtocolError matching ErrOutputTooLarge", res, err)
			}
			if g := heap.growth(); g > 8<<20 {
				t.Fatalf("heap grew by %d bytes: the output cap did not bound memory", g)
			}
			t.Logf("heap growth: %d KiB", heap.growth()>>10)
			ping, err := c.Send(ami.Ping{})
			if err != nil {
				t.Fatal(err)
			}
			tickUntil(t, m, scenarioTimeout, "a Ping after the oversized output", isDone(ping))
			if _, err := ping.Result(); err != nil {
				t.Fatalf("Ping after oversized output: %v", err)
			}
			if st := c.Stats(); st.Pending != 0 || st.Reconnects != 0 {
				t.Fatalf("stats: %s", statsString(m))
			}
		})
	}
}
