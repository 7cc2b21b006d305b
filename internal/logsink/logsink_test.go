package logsink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/apntalk/ami/internal/logsink"
)

func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	h := logsink.New(slog.NewJSONHandler(&buf, nil), logsink.Options{})
	err := slogtest.TestHandler(h, func() []map[string]any {
		if err := closeWithin(t, h, 10*time.Second); err != nil {
			t.Fatalf("Close: %v", err)
		}
		var ms []map[string]any
		for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("bad JSON line %q: %v", line, err)
			}
			ms = append(ms, m)
		}
		return ms
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := h.Stats(); s.Produced != s.Delivered || s.Dropped != 0 {
		t.Fatalf("Stats = %+v, want everything delivered", s)
	}
}

func TestOrderAndSharedCounters(t *testing.T) {
	var buf bytes.Buffer
	h := logsink.New(slog.NewJSONHandler(&buf, nil), logsink.Options{Capacity: 4096})
	l := slog.New(h)
	sub := slog.New(h.WithAttrs([]slog.Attr{slog.String("server_key", "pbx1")}).WithGroup("g"))
	const n = 1000
	for i := range n {
		l.Info("root", "i", i)
		sub.Info("sub", "i", i)
	}
	if err := closeWithin(t, h, 10*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := logsink.Stats{Produced: 2 * n, Delivered: 2 * n}
	if got := h.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2*n {
		t.Fatalf("%d lines, want %d", len(lines), 2*n)
	}
	for i, line := range lines {
		var m struct {
			Msg       string
			ServerKey string `json:"server_key"`
			I         *int
			G         struct{ I *int }
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		switch {
		case i%2 == 0 && (m.Msg != "root" || m.I == nil || *m.I != i/2 || m.ServerKey != ""):
			t.Fatalf("line %d = %s", i, line)
		case i%2 == 1 && (m.Msg != "sub" || m.G.I == nil || *m.G.I != i/2 || m.ServerKey != "pbx1"):
			t.Fatalf("line %d = %s", i, line)
		}
	}
}

func TestBlockedSinkNeverBlocksHandle(t *testing.T) {
	s := newSink()
	t.Cleanup(func() { close(s.release) }) // lets the writer exit for goleak
	h := logsink.New(s, logsink.Options{Capacity: 128})
	l := slog.New(h)
	l.Info("block")
	s.waitEntered(t)

	const n = 100_000
	start := time.Now()
	for i := range n {
		l.Info("event", "i", i, "server_key", "pbx1")
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("%d Handle calls took %v with a blocked sink", n, el)
	}
	s1 := h.Stats()
	if s1.Produced != n+1 || s1.Delivered != 0 || s1.Dropped != n-128 {
		t.Fatalf("Stats before Close = %+v; want Produced %d, Dropped %d", s1, n+1, n-128)
	}

	start = time.Now()
	err := closeWithin(t, h, 50*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Close waited %v for a blocked sink", el)
	}
	got := h.Stats()
	if got.Produced != got.Delivered+got.Dropped {
		t.Fatalf("after Close: %+v; Produced != Delivered + Dropped", got)
	}
	if got.Produced != n+1 || got.Dropped != n+1 {
		t.Fatalf("after Close: %+v; want all %d dropped", got, n+1)
	}

	// Later records are dropped and counted; Close is idempotent and quick.
	l.Info("late")
	if err := closeWithin(t, h, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Close = %v, want the first Close's error", err)
	}
	got = h.Stats()
	if got.Produced != n+2 || got.Produced != got.Delivered+got.Dropped {
		t.Fatalf("after late record: %+v", got)
	}
}

func TestFailingSinkIsContained(t *testing.T) {
	s := newSink()
	h := logsink.New(s, logsink.Options{})
	l := slog.New(h)
	for _, msg := range []string{"a", "boom", "b", "fail", "boom", "c"} {
		l.Info(msg)
	}
	if err := closeWithin(t, h, 10*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := logsink.Stats{Produced: 6, Delivered: 6, Errors: 1, Panics: 2}
	if got := h.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	var msgs []string
	for _, r := range s.records() {
		msgs = append(msgs, r.Message)
	}
	if strings.Join(msgs, ",") != "a,b,c" {
		t.Fatalf("sink got %v, want [a b c]", msgs)
	}
	if err := closeWithin(t, h, time.Second); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestDropWarning(t *testing.T) {
	tests := []struct {
		name         string
		interval     time.Duration
		wantWarnings int // warnings after the second round of drops
	}{
		{"throttled", time.Hour, 1},
		{"interval elapsed", time.Millisecond, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSink()
			h := logsink.New(s, logsink.Options{Capacity: 4, WarnInterval: tt.interval})
			l := slog.New(h)

			// dropRound blocks the sink, fills the queue, drops `drops`
			// records, then lets the sink recover.
			dropRound := func(drops int) {
				l.Info("block")
				s.waitEntered(t)
				for range 4 + drops {
					l.Info("x")
				}
				s.release <- struct{}{}
			}

			dropRound(10)
			eventually(t, "first warning", func() bool { return len(warnings(s.records())) == 1 })
			w := warnings(s.records())[0]
			if w.Level != slog.LevelWarn {
				t.Errorf("warning level %v", w.Level)
			}
			if a := attrs(w); a["dropped"].Uint64() != 10 || a["dropped_total"].Uint64() != 10 {
				t.Errorf("first warning attrs %v, want dropped=10 dropped_total=10", a)
			}

			dropRound(3)
			if tt.wantWarnings == 2 {
				eventually(t, "second warning", func() bool { return len(warnings(s.records())) == 2 })
			}
			if err := closeWithin(t, h, 10*time.Second); err != nil {
				t.Fatalf("Close: %v", err)
			}
			ws := warnings(s.records())
			if len(ws) != tt.wantWarnings {
				t.Fatalf("%d warnings, want %d", len(ws), tt.wantWarnings)
			}
			if tt.wantWarnings == 2 {
				if a := attrs(ws[1]); a["dropped"].Uint64() != 3 || a["dropped_total"].Uint64() != 13 {
					t.Errorf("second warning attrs %v, want dropped=3 dropped_total=13", a)
				}
			}
			// Warnings are not counted; everything else is exact.
			want := logsink.Stats{Produced: 23, Delivered: 10, Dropped: 13}
			if got := h.Stats(); got != want {
				t.Fatalf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

type ctxKey struct{}

func TestContextValuesKeptCancellationDropped(t *testing.T) {
	s := newSink()
	h := logsink.New(s, logsink.Options{})
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "trace-1"))
	slog.New(h).InfoContext(ctx, "x")
	cancel()
	if err := closeWithin(t, h, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ctxs) != 1 {
		t.Fatalf("%d records", len(s.ctxs))
	}
	if v := s.ctxs[0].Value(ctxKey{}); v != "trace-1" {
		t.Errorf("ctx value = %v, want trace-1", v)
	}
	if err := s.ctxs[0].Err(); err != nil {
		t.Errorf("sink ctx Err() = %v, want nil (cancellation must not reach the sink)", err)
	}
}

func TestEnabledFollowsNext(t *testing.T) {
	h := logsink.New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}), logsink.Options{})
	t.Cleanup(func() { _ = closeWithin(t, h, 10*time.Second) })
	ctx := context.Background()
	if h.Enabled(ctx, slog.LevelInfo) || !h.Enabled(ctx, slog.LevelError) {
		t.Fatal("Enabled does not follow the next handler's level")
	}
}

func TestHandleAllocs(t *testing.T) {
	h := logsink.New(slog.DiscardHandler, logsink.Options{Capacity: 1 << 16})
	t.Cleanup(func() { _ = closeWithin(t, h, 10*time.Second) })
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "event", 0)
	r.AddAttrs(slog.String("server_key", "pbx1"), slog.Int("queue_depth", 3), slog.String("action_id", "pbx1:1:2"))
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() { _ = h.Handle(ctx, r) })
	if allocs > 1 {
		t.Fatalf("Handle allocates %v times per call, want <= 1", allocs)
	}
}

func BenchmarkHandle(b *testing.B) {
	h := logsink.New(slog.DiscardHandler, logsink.Options{})
	b.Cleanup(func() { _ = h.Close(context.Background()) })
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "event", 0)
	r.AddAttrs(slog.String("server_key", "pbx1"), slog.Int("queue_depth", 3))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Handle(ctx, r)
	}
}

func BenchmarkHandleParallel(b *testing.B) {
	h := logsink.New(slog.DiscardHandler, logsink.Options{})
	b.Cleanup(func() { _ = h.Close(context.Background()) })
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "event", 0)
	r.AddAttrs(slog.String("server_key", "pbx1"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			_ = h.Handle(ctx, r)
		}
	})
}
