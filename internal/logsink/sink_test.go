package logsink_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// sink is a test slog.Handler. Records whose message is "block" wait for a
// value on release (signalling entered first); "boom" panics; "fail"
// returns an error; everything else is recorded.
type sink struct {
	release chan struct{}
	entered chan struct{}

	mu   sync.Mutex
	recs []slog.Record
	ctxs []context.Context
}

func newSink() *sink {
	return &sink{release: make(chan struct{}), entered: make(chan struct{}, 16)}
}

func (s *sink) Enabled(context.Context, slog.Level) bool { return true }
func (s *sink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *sink) WithGroup(string) slog.Handler            { return s }

func (s *sink) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case "block":
		s.entered <- struct{}{}
		<-s.release
	case "boom":
		panic("sink exploded")
	case "fail":
		return errors.New("sink failed")
	}
	s.mu.Lock()
	s.recs = append(s.recs, r)
	s.ctxs = append(s.ctxs, ctx)
	s.mu.Unlock()
	return nil
}

func (s *sink) records() []slog.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slog.Record(nil), s.recs...)
}

// waitEntered waits until a "block" record is inside the sink.
func (s *sink) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-s.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("sink was never entered")
	}
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

func closeWithin(t *testing.T, h interface{ Close(context.Context) error }, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return h.Close(ctx)
}

func warnings(recs []slog.Record) []slog.Record {
	var out []slog.Record
	for _, r := range recs {
		if r.Message == "ami: log records dropped" {
			out = append(out, r)
		}
	}
	return out
}

func attrs(r slog.Record) map[string]slog.Value {
	m := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value; return true })
	return m
}
