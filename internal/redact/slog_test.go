package redact_test

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

	"github.com/apntalk/ami/internal/redact"
)

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("resolved hunter22") }

type creds struct {
	User string
	Pass string
}

func TestAttr(t *testing.T) {
	r := newTestRedactor()
	tests := []struct {
		name string
		in   slog.Attr
		want slog.Attr
	}{
		{"secret key", slog.Int("Password", 1234), slog.String("Password", redact.Mask)},
		{"secret key any case", slog.String("SECRET", "x"), slog.String("SECRET", redact.Mask)},
		{"clean string", slog.String("channel", "SIP/1"), slog.String("channel", "SIP/1")},
		{"scrubbed string", slog.String("err", "bad hunter22"), slog.String("err", "bad [REDACTED]")},
		{"int untouched", slog.Int("queue_depth", 3), slog.Int("queue_depth", 3)},
		{"duration untouched", slog.Duration("wait", time.Second), slog.Duration("wait", time.Second)},
		{"error", slog.Any("err", errors.New("login hunter22 refused")), slog.String("err", "login [REDACTED] refused")},
		{"stringer", slog.Any("s", stringer{"tok_abc"}), slog.String("s", "[REDACTED]")},
		{"bytes", slog.Any("raw", []byte("Secret: x\r\n")), slog.String("raw", "Secret: [REDACTED]\r\n")},
		{"struct", slog.Any("c", creds{"u", "hunter22"}), slog.String("c", "{User:u Pass:[REDACTED]}")},
		{"logvaluer", slog.Any("v", valuer{}), slog.String("v", "resolved [REDACTED]")},
		{
			"nested group",
			slog.Group("login", slog.String("user", "u"), slog.Group("auth", slog.String("key", "k"), slog.String("note", "hunter22"))),
			slog.Group("login", slog.String("user", "u"), slog.Group("auth", slog.String("key", redact.Mask), slog.String("note", redact.Mask))),
		},
		{"group with secret name", slog.Group("password", slog.String("a", "b")), slog.String("password", redact.Mask)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Attr(nil, tt.in); !got.Equal(tt.want) {
				t.Errorf("Attr(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	// A clean value of unknown type keeps its type.
	c := creds{"u", "p"}
	if got := r.Attr(nil, slog.Any("c", c)); got.Value.Any() != c {
		t.Errorf("clean struct became %#v", got.Value.Any())
	}
}

func TestAttrAsReplaceAttr(t *testing.T) {
	r := newTestRedactor()
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: r.Attr}))
	l.Info("m", "Secret", "s3", "user", "admin")
	out := buf.String()
	if strings.Contains(out, "s3") || !strings.Contains(out, "Secret="+redact.Mask) || !strings.Contains(out, "user=admin") {
		t.Fatalf("output %q", out)
	}
}

func TestHandlerRedactsEverything(t *testing.T) {
	r := newTestRedactor()
	var buf bytes.Buffer
	l := slog.New(r.Handler(slog.NewJSONHandler(&buf, nil)))
	l = l.With("server_key", "pbx1", "password", "p1", "note", "hunter22").WithGroup("g")
	l.Info("login with hunter22 and tok_zz",
		"Key", "digest",
		slog.Group("inner", slog.String("x", "tok_a1"), slog.Any("err", errors.New("hunter22"))),
		"ok", 7)
	out := buf.String()
	for _, leak := range []string{"hunter22", "tok_", "p1", "digest"} {
		if strings.Contains(out, leak) {
			t.Errorf("output leaks %q: %s", leak, out)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["msg"] != "login with [REDACTED] and [REDACTED]" || m["server_key"] != "pbx1" || m["password"] != redact.Mask {
		t.Errorf("record %v", m)
	}
	g, _ := m["g"].(map[string]any)
	inner, _ := g["inner"].(map[string]any)
	if g["Key"] != redact.Mask || g["ok"] != 7.0 || inner["x"] != redact.Mask || inner["err"] != redact.Mask {
		t.Errorf("group %v", g)
	}
}

func TestHandlerSlogtest(t *testing.T) {
	var buf bytes.Buffer
	h := newTestRedactor().Handler(slog.NewJSONHandler(&buf, nil))
	err := slogtest.TestHandler(h, func() []map[string]any {
		var ms []map[string]any
		for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	})
	if err != nil {
		t.Fatal(err)
	}
}

func BenchmarkHandler(b *testing.B) {
	r := newTestRedactor()
	l := slog.New(r.Handler(nopHandler{}))
	b.ReportAllocs()
	for b.Loop() {
		l.Info("action sent", "server_key", "pbx1", "action_id", "pbx1:1:2", "queue_depth", 3)
	}
}

// nopHandler is enabled for every level and discards records, so that
// benchmarks measure the redaction itself.
type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }
