package eventout

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apntalk/ami"
)

// HeaderList is indexed access to headers in wire order: *ami.Event and
// ami.Headers both have it (an *ami.Event without materialising a slice).
type HeaderList interface {
	Len() int
	Header(i int) ami.Header
}

// Event is what the encoders need of an *ami.Event.
type Event interface {
	HeaderList
	Name() string
	Server() string
	ReceivedAt() time.Time
}

var _ Event = (*ami.Event)(nil)

// AppendJSON appends e as one JSON object:
//
//	{"server":"pbx1","event":"Hangup","received_at":"2024-05-01T10:00:00.123456789Z","headers":{"Channel":"PJSIP/100-0001","Variable":["a=1","b=2"]}}
//
// received_at is RFC 3339 with nanoseconds, in UTC. headers keeps the
// header names as received, in order of first appearance, without the Event
// header (it is the "event" field); a key repeated in the frame (compared
// case-insensitively, like AMI does) becomes an array of its values in order.
func AppendJSON(dst []byte, e Event) []byte {
	dst = append(dst, `{"server":`...)
	dst = AppendString(dst, e.Server())
	dst = append(dst, `,"event":`...)
	dst = AppendString(dst, e.Name())
	dst = append(dst, `,"received_at":"`...)
	dst = e.ReceivedAt().UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","headers":`...)
	dst = AppendHeaders(dst, e, "Event")
	return append(dst, '}')
}

// AppendHeaders appends h as a JSON object in order of first appearance,
// repeated keys as arrays, leaving out every key equal (case-insensitively)
// to one of skip.
func AppendHeaders(dst []byte, h HeaderList, skip ...string) []byte {
	dst = append(dst, '{')
	first := true
	n := h.Len()
outer:
	for i := 0; i < n; i++ {
		hd := h.Header(i)
		for _, s := range skip {
			if strings.EqualFold(hd.Key, s) {
				continue outer
			}
		}
		count := 0 // occurrences of this key; skip it if seen before
		for j := 0; j < n; j++ {
			if strings.EqualFold(h.Header(j).Key, hd.Key) {
				if j < i {
					continue outer
				}
				count++
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendString(dst, hd.Key)
		dst = append(dst, ':')
		if count == 1 {
			dst = AppendString(dst, hd.Value)
			continue
		}
		dst = append(dst, '[')
		for j := i; j < n; j++ {
			if hj := h.Header(j); strings.EqualFold(hj.Key, hd.Key) {
				if j > i {
					dst = append(dst, ',')
				}
				dst = AppendString(dst, hj.Value)
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// control characters, quotes and backslashes are escaped, and so are <, >
// and & so that the output is safe to embed anywhere.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
