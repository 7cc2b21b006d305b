package lineout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apntalk/ami/internal/lineout"
)

func closeWithin(t testing.TB, w *lineout.Writer, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return w.Close(ctx)
}

func checkExact(t *testing.T, s lineout.Stats) {
	t.Helper()
	if s.Queued != s.Written+s.Dropped {
		t.Fatalf("Stats %+v: Queued != Written + Dropped", s)
	}
}

func TestEveryLineInOrder(t *testing.T) {
	var buf bytes.Buffer
	w := lineout.New(&buf, 1<<16)
	var want strings.Builder
	line := make([]byte, 0, 64)
	const n = 20_000
	for i := range n {
		line = fmt.Appendf(line[:0], "event %d", i)
		if i%3 == 0 {
			line = append(line, '\n') // already terminated: no extra newline
		}
		if !w.WriteLine(line) {
			t.Fatalf("WriteLine(%d) refused", i)
		}
		clear(line) // the caller may reuse its buffer at once
		fmt.Fprintf(&want, "event %d\n", i)
	}
	w.WriteLine(nil)
	want.WriteString("\n")
	if err := closeWithin(t, w, 10*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if buf.String() != want.String() {
		t.Fatalf("output differs: got %d bytes, want %d", buf.Len(), want.Len())
	}
	if got := w.Stats(); got != (lineout.Stats{Queued: n + 1, Written: n + 1}) {
		t.Fatalf("Stats = %+v", got)
	}
	if w.WriteLine([]byte("late")) {
		t.Fatal("WriteLine after Close returned true")
	}
	checkExact(t, w.Stats())
	if err := closeWithin(t, w, time.Second); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestStalledConsumer(t *testing.T) {
	tests := []struct {
		name string
		pipe func(t *testing.T) io.Writer // the read end is never read
	}{
		{"io.Pipe", func(t *testing.T) io.Writer {
			pr, pw := io.Pipe()
			t.Cleanup(func() { pr.Close() }) // unblocks the stuck Write
			return pw
		}},
		{"os.Pipe", func(t *testing.T) io.Writer {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pr.Close(); pw.Close() })
			return pw
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 4096 queued lines (~300KiB) exceed a pipe's kernel buffer, so
			// the writer stalls even if it only runs once Close is called.
			w := lineout.New(tt.pipe(t), 4096)
			line := []byte(`{"event":"Newchannel","server_key":"pbx1","channel":"PJSIP/100-00000001"}`)
			const n = 100_000
			start := time.Now()
			accepted := 0
			for range n {
				if w.WriteLine(line) {
					accepted++
				}
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("%d WriteLine calls took %v", n, el)
			}
			if accepted == n || accepted == 0 {
				t.Fatalf("%d of %d lines accepted; want some but not all", accepted, n)
			}

			start = time.Now()
			err := closeWithin(t, w, 100*time.Millisecond)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Close = %v, want DeadlineExceeded", err)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("Close took %v", el)
			}
			s := w.Stats()
			checkExact(t, s)
			if s.Queued != n || s.Dropped < n-uint64(accepted) {
				t.Fatalf("Stats %+v", s)
			}
			if w.WriteLine(line) {
				t.Fatal("WriteLine after Close returned true")
			}
			checkExact(t, w.Stats())
			if err := closeWithin(t, w, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("second Close = %v, want the first error at once", err)
			}
		})
	}
}

// gateWriter blocks every Write until a value arrives on release, after
// signalling entered.
type gateWriter struct {
	entered chan struct{}
	release chan struct{}
	buf     bytes.Buffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.buf.Write(p)
}

func TestQueueFull(t *testing.T) {
	g := &gateWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	w := lineout.New(g, 3)
	w.WriteLine([]byte("first"))
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("Write never called")
	}
	var got []bool
	for _, l := range []string{"a", "b", "c", "d", "e"} {
		got = append(got, w.WriteLine([]byte(l)))
	}
	if fmt.Sprint(got) != "[true true true false false]" {
		t.Fatalf("WriteLine results %v with capacity 3", got)
	}
	close(g.release)
	if err := closeWithin(t, w, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if g.buf.String() != "first\na\nb\nc\n" {
		t.Fatalf("output %q", g.buf.String())
	}
	if s := w.Stats(); s != (lineout.Stats{Queued: 6, Written: 4, Dropped: 2}) {
		t.Fatalf("Stats %+v", s)
	}
}

// limitWriter accepts limit bytes in total, then fails.
type limitWriter struct {
	mu    sync.Mutex
	limit int
	buf   bytes.Buffer
}

var errFull = errors.New("disk full")

func (l *limitWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := min(len(p), l.limit-l.buf.Len())
	l.buf.Write(p[:n])
	if n < len(p) {
		return n, errFull
	}
	return n, nil
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("stdout exploded") }

// shortWriter violates io.Writer: it reports a short write without error.
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriteFailures(t *testing.T) {
	tests := []struct {
		name        string
		w           io.Writer
		lines       int
		wantWritten uint64
	}{
		{"error after two lines", &limitWriter{limit: 10}, 5, 2}, // "line\n" is 5 bytes
		{"error mid line", &limitWriter{limit: 12}, 5, 2},        // the third line is cut: not written
		{"always failing", &limitWriter{limit: 0}, 5, 0},
		{"panicking", panicWriter{}, 5, 0},
		{"short write", shortWriter{}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := lineout.New(tt.w, 100)
			for range tt.lines {
				w.WriteLine([]byte("line"))
			}
			if err := closeWithin(t, w, 10*time.Second); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s := w.Stats()
			checkExact(t, s)
			if s.Queued != uint64(tt.lines) || s.Written != tt.wantWritten {
				t.Fatalf("Stats %+v, want Written %d", s, tt.wantWritten)
			}
			if s.Dropped > 0 && s.Errors == 0 {
				t.Fatalf("Stats %+v: lines lost without an error counted", s)
			}
		})
	}
}

func TestConcurrentWriters(t *testing.T) {
	var buf bytes.Buffer
	w := lineout.New(&buf, 1<<20)
	const goroutines, per = 4, 5000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				w.WriteLine(fmt.Appendf(nil, "g%d-%d", g, i))
			}
		}()
	}
	wg.Wait()
	if err := closeWithin(t, w, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != goroutines*per {
		t.Fatalf("%d lines, want %d", len(lines), goroutines*per)
	}
	// Each goroutine's lines keep their relative order.
	next := make(map[string]int)
	for _, l := range lines {
		var g, i int
		if _, err := fmt.Sscanf(l, "g%d-%d", &g, &i); err != nil {
			t.Fatalf("corrupt line %q", l)
		}
		key := fmt.Sprint(g)
		if i != next[key] {
			t.Fatalf("goroutine %d: line %d after %d", g, i, next[key]-1)
		}
		next[key]++
	}
}

func TestWriteLineAllocs(t *testing.T) {
	w := lineout.New(io.Discard, 1<<16)
	t.Cleanup(func() { _ = closeWithin(t, w, 10*time.Second) })
	line := []byte("Event: Hangup server_key=pbx1")
	for range 1000 { // warm up the buffers
		w.WriteLine(line)
	}
	allocs := testing.AllocsPerRun(1000, func() { w.WriteLine(line) })
	if allocs > 0.1 {
		t.Fatalf("WriteLine allocates %v times per call", allocs)
	}
}

func BenchmarkWriteLine(b *testing.B) {
	w := lineout.New(io.Discard, 4096)
	b.Cleanup(func() { _ = closeWithin(b, w, 10*time.Second) })
	line := []byte(`{"event":"Hangup","server_key":"pbx1","cause":"16"}`)
	b.ReportAllocs()
	for b.Loop() {
		w.WriteLine(line)
	}
}
