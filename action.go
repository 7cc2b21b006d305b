package ami

import (
	"strings"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// Header is one "Key: Value" line of an AMI frame.
type Header = amiproto.Header

// H builds a Header.
func H(key, value string) Header { return Header{Key: key, Value: value} }

// Headers is an ordered list of headers with case-insensitive lookup.
type Headers []Header

// Len is the number of headers.
func (h Headers) Len() int { return len(h) }

// Header returns the i-th header.
func (h Headers) Header(i int) Header { return h[i] }

// Get returns the first value of key (case-insensitive), or "".
func (h Headers) Get(key string) string {
	for _, x := range h {
		if strings.EqualFold(x.Key, key) {
			return x.Value
		}
	}
	return ""
}

// Lookup returns the first value of key and whether it is present.
func (h Headers) Lookup(key string) (string, bool) {
	for _, x := range h {
		if strings.EqualFold(x.Key, key) {
			return x.Value, true
		}
	}
	return "", false
}

// Values returns every value of key in order (Variable, ChanVariable, Output...).
func (h Headers) Values(key string) []string {
	var out []string
	for _, x := range h {
		if strings.EqualFold(x.Key, key) {
			out = append(out, x.Value)
		}
	}
	return out
}

// Action is anything that can be sent to a PBX. The typed actions of this
// package implement it, and Generic covers every other action.
type Action interface {
	// ActionName is the value of the "Action:" header.
	ActionName() string
	// AppendHeaders appends the action's headers, without Action and
	// ActionID (the client adds those), and returns the extended slice.
	AppendHeaders(dst []Header) []Header
}

// Completion is the rule that decides when an action is complete.
type Completion int

const (
	// CompleteOnResponse completes on the response frame. A response with
	// "EventList: start" switches to CompleteOnEventList automatically.
	CompleteOnResponse Completion = iota
	// CompleteOnEventList collects the events carrying the action's ActionID
	// until the one with "EventList: Complete" (list actions).
	CompleteOnEventList
	// CompleteOnCommandOutput completes on the response and collects the
	// Command output in both Asterisk formats (Output: headers, or the
	// legacy "Response: Follows" body).
	CompleteOnCommandOutput
	// CompleteOnOriginateResponse waits, after a successful response, for
	// the OriginateResponse event with the action's ActionID (async Originate).
	CompleteOnOriginateResponse
)

// Completer lets an action choose its completion strategy. Actions that do
// not implement it complete on their response.
type Completer interface {
	Completion() Completion
}

// TimeoutHinter lets an action extend its default timeout (an async
// Originate waits for the call to be answered).
type TimeoutHinter interface {
	TimeoutHint(base time.Duration) time.Duration
}

func completionOf(a Action) Completion {
	if c, ok := a.(Completer); ok {
		return c.Completion()
	}
	return CompleteOnResponse
}

// Generic is any action by name, with its headers in order.
type Generic struct {
	Name    string
	Headers []Header
	// Complete is the completion strategy; CompleteOnResponse by default
	// (which still follows an "EventList: start" response).
	Complete Completion
}

// ActionName implements Action.
func (g Generic) ActionName() string { return g.Name }

// AppendHeaders implements Action.
func (g Generic) AppendHeaders(dst []Header) []Header { return append(dst, g.Headers...) }

// Completion implements Completer.
func (g Generic) Completion() Completion { return g.Complete }

// appendNonEmpty appends key: value when value is not empty.
func appendNonEmpty(dst []Header, key, value string) []Header {
	if value == "" {
		return dst
	}
	return append(dst, Header{Key: key, Value: value})
}

func appendVars(dst []Header, key string, vars map[string]string) []Header {
	if len(vars) == 0 {
		return dst
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		dst = append(dst, Header{Key: key, Value: k + "=" + vars[k]})
	}
	return dst
}

// ActionByName returns the typed action for name when this package knows
// it (case-insensitive), built from headers, and a Generic otherwise. Used
// by the CLI's `ami action NAME Key=Value...`.
func ActionByName(name string, headers []Header) Action {
	for _, known := range knownActions {
		if strings.EqualFold(known.name, name) {
			return Generic{Name: known.name, Headers: headers, Complete: known.completion(headers)}
		}
	}
	return Generic{Name: name, Headers: headers}
}

type knownAction struct {
	name       string
	completion func([]Header) Completion
}

func fixed(c Completion) func([]Header) Completion { return func([]Header) Completion { return c } }

var knownActions = []knownAction{
	{"Ping", fixed(CompleteOnResponse)},
	{"Login", fixed(CompleteOnResponse)},
	{"Logoff", fixed(CompleteOnResponse)},
	{"Challenge", fixed(CompleteOnResponse)},
	{"Events", fixed(CompleteOnResponse)},
	{"Hangup", fixed(CompleteOnResponse)},
	{"Redirect", fixed(CompleteOnResponse)},
	{"Setvar", fixed(CompleteOnResponse)},
	{"Getvar", fixed(CompleteOnResponse)},
	{"Command", fixed(CompleteOnCommandOutput)},
	{"CoreShowChannels", fixed(CompleteOnEventList)},
	{"Status", fixed(CompleteOnEventList)},
	{"QueueStatus", fixed(CompleteOnEventList)},
	{"QueueSummary", fixed(CompleteOnEventList)},
	{"QueueAdd", fixed(CompleteOnResponse)},
	{"QueueRemove", fixed(CompleteOnResponse)},
	{"QueuePause", fixed(CompleteOnResponse)},
	{"PJSIPShowEndpoint", fixed(CompleteOnEventList)},
	{"PJSIPShowEndpoints", fixed(CompleteOnEventList)},
	{"ExtensionState", fixed(CompleteOnResponse)},
	{"UserEvent", fixed(CompleteOnResponse)},
	{"Originate", func(h []Header) Completion {
		if isTrue(Headers(h).Get("Async")) {
			return CompleteOnOriginateResponse
		}
		return CompleteOnResponse
	}},
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "1", "on", "y", "t":
		return true
	}
	return false
}
