package amiproto

import (
	"iter"
	"strings"
)

// Frame is a parsed message in compact form: the frame's bytes as one
// immutable string and the offsets of each header's key and value in it.
// It holds no per-header strings, so parsing into a Frame writes no
// pointers per header and a retained Frame costs the garbage collector one
// string and one pointer-free slice. Parser.NextFrame returns Frames;
// Parser.Next returns the same content as a Message with materialised
// Headers.
//
// A *Frame returned by NextFrame is owned by the parser and valid until the
// next call to Next, NextFrame or Reset; its strings stay valid forever.
// Clone makes a copy that can be kept. The zero Frame is empty.
type Frame struct {
	// Kind classifies the message.
	Kind Kind
	// Output holds, for KindFollows only, the raw output lines in order.
	Output []string
	// Banner holds, for KindBanner only, the whole greeting line.
	Banner string

	text  string // the header lines' bytes; spans index into it
	spans []span
}

// FrameOf builds a Frame of the given kind from headers (for tests,
// adapters and replies built in code). The headers are copied.
func FrameOf(kind Kind, headers []Header) *Frame {
	n := 0
	for _, h := range headers {
		n += len(h.Key) + len(h.Value)
	}
	var b strings.Builder
	b.Grow(n)
	f := &Frame{Kind: kind, spans: make([]span, len(headers))}
	for i, h := range headers {
		ks := b.Len()
		b.WriteString(h.Key)
		vs := b.Len()
		b.WriteString(h.Value)
		f.spans[i] = span{int32(ks), int32(vs), int32(vs), int32(b.Len())}
	}
	f.text = b.String()
	return f
}

// Len is the number of headers.
func (f *Frame) Len() int { return len(f.spans) }

// Header returns the i-th header in wire order (0 <= i < Len).
func (f *Frame) Header(i int) Header {
	sp := f.spans[i]
	return Header{Key: f.text[sp.ks:sp.ke], Value: f.text[sp.vs:sp.ve]}
}

// Key returns the key of the i-th header.
func (f *Frame) Key(i int) string { sp := f.spans[i]; return f.text[sp.ks:sp.ke] }

// Value returns the value of the i-th header.
func (f *Frame) Value(i int) string { sp := f.spans[i]; return f.text[sp.vs:sp.ve] }

// AppendHeaders appends every header in wire order to dst.
func (f *Frame) AppendHeaders(dst []Header) []Header {
	for _, sp := range f.spans {
		dst = append(dst, Header{Key: f.text[sp.ks:sp.ke], Value: f.text[sp.vs:sp.ve]})
	}
	return dst
}

// All iterates over the headers in wire order without allocating.
func (f *Frame) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, sp := range f.spans {
			if !yield(f.text[sp.ks:sp.ke], f.text[sp.vs:sp.ve]) {
				return
			}
		}
	}
}

// Get returns the first value of key (case-insensitive, ASCII), or "".
func (f *Frame) Get(key string) string {
	v, _ := f.Lookup(key)
	return v
}

// Lookup returns the first value of key (case-insensitive) and whether the
// header is present.
func (f *Frame) Lookup(key string) (string, bool) {
	for _, sp := range f.spans {
		if int(sp.ke-sp.ks) == len(key) && equalFold(f.text[sp.ks:sp.ke], key) {
			return f.text[sp.vs:sp.ve], true
		}
	}
	return "", false
}

// Values returns every value of key (case-insensitive) in wire order, or nil.
func (f *Frame) Values(key string) []string {
	var vs []string
	for _, sp := range f.spans {
		if int(sp.ke-sp.ks) == len(key) && equalFold(f.text[sp.ks:sp.ke], key) {
			vs = append(vs, f.text[sp.vs:sp.ve])
		}
	}
	return vs
}

// ActionID returns the first ActionID header value, or "".
func (f *Frame) ActionID() string { return f.Get("ActionID") }

// Name is the name of the message, as Message.Name.
func (f *Frame) Name() string {
	switch f.Kind {
	case KindFollows:
		return "Follows"
	case KindBanner:
		return bannerVersion(f.Banner)
	}
	if h := nameHeader(f.Kind); h != "" {
		return f.Get(h)
	}
	return ""
}

// Clone returns a copy of f that is safe to retain: the offsets and output
// lines are copied, the strings (immutable) shared. Clone of nil is nil.
func (f *Frame) Clone() *Frame {
	if f == nil {
		return nil
	}
	c := *f
	c.spans = append([]span(nil), f.spans...)
	if f.Output != nil {
		c.Output = append([]string(nil), f.Output...)
	}
	return &c
}

// CopyTo copies f into dst (like Clone, without allocating dst itself).
func (f *Frame) CopyTo(dst *Frame) {
	*dst = *f
	dst.spans = append([]span(nil), f.spans...)
	if f.Output != nil {
		dst.Output = append([]string(nil), f.Output...)
	}
}

// Message returns the frame as a newly allocated Message with materialised
// Headers.
func (f *Frame) Message() *Message {
	m := &Message{Kind: f.Kind, Banner: f.Banner, Headers: f.AppendHeaders(make([]Header, 0, len(f.spans)))}
	if f.Output != nil {
		m.Output = append([]string(nil), f.Output...)
	}
	return m
}

// reset empties f, keeping its slices' capacity.
func (f *Frame) reset() {
	clear(f.Output)
	f.Kind = KindUnknown
	f.Output = f.Output[:0]
	f.Banner = ""
	f.text = ""
	f.spans = f.spans[:0]
}
