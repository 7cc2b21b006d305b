package amiproto_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

// item is one result of Parser.Next: a cloned message or an error.
type item struct {
	msg *amiproto.Message
	err *amiproto.ProtocolError
}

func (it item) String() string {
	if it.err != nil {
		return fmt.Sprintf("ERR{%v id=%q size=%d detail=%q}", it.err.Err, it.err.ActionID, it.err.Size, it.err.Detail)
	}
	return msgString(it.msg)
}

func msgString(m *amiproto.Message) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s", m.Kind)
	if m.Banner != "" {
		fmt.Fprintf(&sb, " banner=%q", m.Banner)
	}
	for _, h := range m.Headers {
		fmt.Fprintf(&sb, " [%q=%q]", h.Key, h.Value)
	}
	if m.Kind == amiproto.KindFollows {
		fmt.Fprintf(&sb, " output=%q", m.Output)
	}
	return sb.String()
}

// next is Next, or NextFrame materialised when frames is set.
func next(p *amiproto.Parser, frames bool) (*amiproto.Message, error) {
	if !frames {
		return p.Next()
	}
	f, err := p.NextFrame()
	if f == nil {
		return nil, err
	}
	return f.Message(), nil
}

// drain calls Next until it needs more bytes.
func drain(t testing.TB, p *amiproto.Parser, out []item) []item {
	return drainWith(t, p, out, false)
}

func drainWith(t testing.TB, p *amiproto.Parser, out []item, frames bool) []item {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1<<22 {
			t.Fatalf("Next does not stop")
		}
		m, err := next(p, frames)
		if err != nil {
			var pe *amiproto.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("Next returned %T %v, want *ProtocolError", err, err)
			}
			if m != nil {
				t.Fatalf("Next returned both a message and an error")
			}
			out = append(out, item{err: pe})
			continue
		}
		if m == nil {
			return out
		}
		out = append(out, item{msg: m.Clone()})
	}
}

// feed writes data in chunks (sizes from next) and collects every result.
func feed(t testing.TB, p *amiproto.Parser, data []byte, next func() int) []item {
	return feedWith(t, p, data, next, false)
}

// feedWith is feed, through NextFrame when frames is set.
func feedWith(t testing.TB, p *amiproto.Parser, data []byte, next func() int, frames bool) []item {
	t.Helper()
	var out []item
	for len(data) > 0 {
		n := min(next(), len(data))
		chunk := data[:n]
		data = data[n:]
		for len(chunk) > 0 {
			w, err := p.Write(chunk)
			if err != nil && !errors.Is(err, amiproto.ErrBufferFull) {
				t.Fatalf("Write: %v", err)
			}
			if p.Buffered() > p.Limits().MaxBufferSize {
				t.Fatalf("Buffered %d > MaxBufferSize %d", p.Buffered(), p.Limits().MaxBufferSize)
			}
			chunk = chunk[w:]
			out = drainWith(t, p, out, frames)
		}
	}
	return drainWith(t, p, out, frames)
}

func newParser(t testing.TB, l amiproto.Limits) *amiproto.Parser {
	t.Helper()
	p, err := amiproto.NewParser(l)
	if err != nil {
		t.Fatalf("NewParser: %v", err)
	}
	return p
}

// parseAll parses data written in one piece.
func parseAll(t testing.TB, l amiproto.Limits, data []byte) []item {
	t.Helper()
	return feed(t, newParser(t, l), data, func() int { return len(data) + 1 })
}

// parseBytewise parses data written one byte at a time.
func parseBytewise(t testing.TB, l amiproto.Limits, data []byte) []item {
	t.Helper()
	return feed(t, newParser(t, l), data, func() int { return 1 })
}

// parseRandom parses data in random chunks of 1..maxChunk bytes.
func parseRandom(t testing.TB, l amiproto.Limits, data []byte, seed uint64, maxChunk int) []item {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return feed(t, newParser(t, l), data, func() int { return 1 + r.IntN(maxChunk) })
}

// parseRandomFrames is parseRandom through NextFrame.
func parseRandomFrames(t testing.TB, l amiproto.Limits, data []byte, seed uint64, maxChunk int) []item {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return feedWith(t, newParser(t, l), data, func() int { return 1 + r.IntN(maxChunk) }, true)
}

func itemsString(items []item) string {
	var sb strings.Builder
	for _, it := range items {
		sb.WriteString(it.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

func sameItems(t testing.TB, what string, got, want []item) {
	t.Helper()
	if g, w := itemsString(got), itemsString(want); g != w {
		t.Fatalf("%s: results differ\n--- got\n%s--- want\n%s", what, g, w)
	}
}

// messages returns only the messages of items, failing on any error.
func messages(t testing.TB, items []item) []*amiproto.Message {
	t.Helper()
	var ms []*amiproto.Message
	for _, it := range items {
		if it.err != nil {
			t.Fatalf("unexpected error %v", it.err)
		}
		ms = append(ms, it.msg)
	}
	return ms
}

// captureDir returns the directory holding the capture files: the testdata
// copy when present, else ../../shared/captures.
func captureDir(t testing.TB) string {
	t.Helper()
	for _, d := range []string{filepath.Join("testdata", "captures"), filepath.Join("..", "..", "shared", "captures")} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	t.Skip("no capture directory")
	return ""
}

func readCapture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(captureDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
