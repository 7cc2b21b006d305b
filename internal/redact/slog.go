package redact

import (
	"context"
	"fmt"
	"log/slog"
)

// Attr redacts one attribute. Its signature matches
// slog.HandlerOptions.ReplaceAttr, so it can be used there directly; groups
// is ignored. The value of a secret key becomes [Mask]; string values (and
// the text of errors, fmt.Stringers, byte slices and other values) are
// scrubbed with [Redactor.String]; group members are redacted recursively;
// LogValuers are resolved first.
func (r *Redactor) Attr(groups []string, a slog.Attr) slog.Attr {
	if r.IsSecretKey(a.Key) {
		return slog.String(a.Key, Mask)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if t := r.String(s); t != s {
			return slog.String(a.Key, t)
		}
		return slog.Attr{Key: a.Key, Value: v}
	case slog.KindGroup:
		members := v.Group()
		out := make([]slog.Attr, len(members))
		for i, m := range members {
			out[i] = r.Attr(groups, m)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: r.anyValue(v)}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// anyValue scrubs the textual form of an arbitrary value. A value whose
// text holds no secret is kept as is, so handlers still format it natively.
func (r *Redactor) anyValue(v slog.Value) slog.Value {
	var s string
	switch x := v.Any().(type) {
	case nil:
		return v
	case error:
		s = x.Error()
	case fmt.Stringer:
		s = x.String()
	case []byte:
		s = string(x)
	default:
		s = fmt.Sprintf("%+v", x)
	}
	if t := r.String(s); t != s {
		return slog.StringValue(t)
	}
	return v
}

// Handler returns a slog.Handler that redacts every record before passing
// it to next: the message text, each attribute (see [Redactor.Attr]),
// attributes added through WithAttrs, and nested groups. Attributes added
// through WithAttrs are redacted once, when added, so register secret values
// with [Redactor.AddSecretValue] before building loggers that carry them.
func (r *Redactor) Handler(next slog.Handler) slog.Handler {
	return &handler{r: r, next: next}
}

type handler struct {
	r    *Redactor
	next slog.Handler
}

// Enabled reports whether next is enabled for l.
func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle passes a redacted copy of rec to next; rec itself is not modified.
func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.r.Attr(nil, a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts as once, when they are added. Secret values registered
// later are not scrubbed from them.
func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.r.Attr(nil, a)
	}
	return &handler{r: h.r, next: h.next.WithAttrs(red)}
}

// WithGroup opens a group on next.
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{r: h.r, next: h.next.WithGroup(name)}
}
