package eventout

import (
	"fmt"
	"strings"
)

// Format is an output format of events.
type Format int

// Formats.
const (
	JSON Format = iota // one JSON object per line
	Text               // one readable line per event
)

// String returns "json" or "text".
func (f Format) String() string {
	if f == Text {
		return "text"
	}
	return "json"
}

// ParseFormat parses "json" or "text" (case-insensitive).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "json":
		return JSON, nil
	case "text":
		return Text, nil
	}
	return JSON, fmt.Errorf("ami: unknown format %q (want json or text)", s)
}

// Append formats e in format f and appends it to dst, without a newline.
func (f Format) Append(dst []byte, e Event) []byte {
	if f == Text {
		return AppendText(dst, e)
	}
	return AppendJSON(dst, e)
}
