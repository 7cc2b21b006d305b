package amitest

import (
	"strings"

	"github.com/apntalk/ami/amiproto"
)

// eventMask is the set of event classes a connection receives, as set by
// the Events header of Login or the Events action.
type eventMask struct {
	all     bool
	classes map[string]bool
}

// on reports whether any event is received.
func (m eventMask) on() bool { return m.all || len(m.classes) > 0 }

// wants reports whether an event of class (the first item of its Privilege
// header, "" if none) is received.
func (m eventMask) wants(class string) bool {
	if m.all {
		return true
	}
	if class == "" {
		return len(m.classes) > 0
	}
	return m.classes[class]
}

// parseEventMask reads an Events/EventMask value the way Asterisk does:
// a true-ish value means every class, a false-ish value none, otherwise a
// comma-separated class list.
func parseEventMask(v string) eventMask {
	v = strings.TrimSpace(strings.ToLower(v))
	switch v {
	case "on", "yes", "true", "y", "t", "1", "all":
		return eventMask{all: true}
	case "off", "no", "false", "n", "f", "0", "":
		return eventMask{}
	}
	m := eventMask{classes: make(map[string]bool)}
	for c := range strings.SplitSeq(v, ",") {
		c = strings.TrimSpace(c)
		if c == "all" {
			return eventMask{all: true}
		}
		if c != "" {
			m.classes[c] = true
		}
	}
	return m
}

// eventClass returns the class of an event: the first item of its
// Privilege header ("call" for "call,all"), lower-cased.
func eventClass(headers []amiproto.Header) string {
	for _, h := range headers {
		if strings.EqualFold(h.Key, "Privilege") {
			class, _, _ := strings.Cut(h.Value, ",")
			return strings.ToLower(strings.TrimSpace(class))
		}
	}
	return ""
}
