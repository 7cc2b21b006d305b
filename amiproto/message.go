package amiproto

import "strings"

// Header is one "Key: Value" line of a frame.
type Header struct {
	Key   string
	Value string
}

// Message is one parsed unit of the AMI stream: a frame, the banner, or a
// legacy Command reply.
//
// A *Message returned by Parser.Next is owned by the parser: it and its
// slices are valid until the next call to Next or Reset. Its strings are
// never reused. Clone makes a copy that can be kept.
type Message struct {
	// Kind classifies the message.
	Kind Kind
	// Headers are the header lines in wire order. Repeated keys are kept in
	// order and keys keep the case they were received with.
	Headers []Header
	// Output holds, for KindFollows only, the raw output lines in order,
	// without the "--END COMMAND--" marker and without line endings.
	Output []string
	// Banner holds, for KindBanner only, the whole greeting line, e.g.
	// "Asterisk Call Manager/13.0.0".
	Banner string
}

// Get returns the first value of key, compared case-insensitively (ASCII),
// or "" if the message has no such header.
func (m *Message) Get(key string) string {
	v, _ := m.Lookup(key)
	return v
}

// Lookup returns the first value of key (case-insensitive) and whether the
// header is present.
func (m *Message) Lookup(key string) (string, bool) {
	for i := range m.Headers {
		if equalFold(m.Headers[i].Key, key) {
			return m.Headers[i].Value, true
		}
	}
	return "", false
}

// Values returns every value of key (case-insensitive) in wire order, or nil
// if there is none. Use it for repeated headers such as Variable,
// ChanVariable or Output. The returned slice is newly allocated.
func (m *Message) Values(key string) []string {
	var vs []string
	for i := range m.Headers {
		if equalFold(m.Headers[i].Key, key) {
			vs = append(vs, m.Headers[i].Value)
		}
	}
	return vs
}

// ActionID returns the first ActionID header value, or "".
func (m *Message) ActionID() string { return m.Get("ActionID") }

// Name returns the name of the message: the Event value for events, the
// Action value for actions, the Response value for responses ("Follows" for
// KindFollows), the version for a banner ("13.0.0" for
// "Asterisk Call Manager/13.0.0") and "" for KindUnknown.
func (m *Message) Name() string {
	switch m.Kind {
	case KindFollows:
		return "Follows"
	case KindBanner:
		return bannerVersion(m.Banner)
	}
	if h := nameHeader(m.Kind); h != "" {
		return m.Get(h)
	}
	return ""
}

// nameHeader is the header that names a message of kind k, or "".
func nameHeader(k Kind) string {
	switch k {
	case KindEvent:
		return "Event"
	case KindAction:
		return "Action"
	case KindResponse:
		return "Response"
	}
	return ""
}

// bannerVersion returns "13.0.0" for "Asterisk Call Manager/13.0.0".
func bannerVersion(banner string) string {
	if i := strings.LastIndexByte(banner, '/'); i >= 0 {
		return strings.TrimSpace(banner[i+1:])
	}
	return ""
}

// Clone returns a copy of m that is safe to retain after the parser moves
// on: the slices are copied, the strings (immutable) are shared. Clone of a
// nil message is nil.
func (m *Message) Clone() *Message {
	if m == nil {
		return nil
	}
	c := &Message{Kind: m.Kind, Banner: m.Banner}
	if m.Headers != nil {
		c.Headers = append(make([]Header, 0, len(m.Headers)), m.Headers...)
	}
	if m.Output != nil {
		c.Output = append(make([]string, 0, len(m.Output)), m.Output...)
	}
	return c
}

// Reset empties m, keeping the capacity of its slices for reuse.
func (m *Message) Reset() {
	clear(m.Headers)
	clear(m.Output)
	m.Kind = KindUnknown
	m.Headers = m.Headers[:0]
	m.Output = m.Output[:0]
	m.Banner = ""
}
