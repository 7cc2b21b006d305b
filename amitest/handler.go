package amitest

import (
	"strconv"
	"strings"

	"github.com/apntalk/ami/amiproto"
)

// H is a shorthand for amiproto.Header{Key: key, Value: value}.
func H(key, value string) amiproto.Header { return amiproto.Header{Key: key, Value: value} }

// Request is one action received from a client.
type Request struct {
	Conn   *Conn             // the connection it came on
	Action *amiproto.Message // the action (a clone: handlers may keep it)
}

// HandlerFunc answers one action. It runs on the connection's reader
// goroutine: until it returns, the connection reads nothing more, as with a
// real Asterisk session.
type HandlerFunc func(w *ResponseWriter, r *Request)

// ResponseWriter writes the reply of one action to its connection. Every
// method writes whole frames; a write error (closed connection) is kept and
// returned by Err, and later writes are skipped. It may be kept and used
// after the handler returns (a delayed answer), but by one goroutine at a
// time.
type ResponseWriter struct {
	c         *Conn
	r         *Request
	actionID  string
	hasID     bool
	listItems int
	err       error
}

func newResponseWriter(c *Conn, m *amiproto.Message) *ResponseWriter {
	id, ok := m.Lookup("ActionID")
	return &ResponseWriter{c: c, r: &Request{Conn: c, Action: m}, actionID: id, hasID: ok}
}

// Respond writes a response frame. If the first header is not "Response",
// "Response: Success" is put first. The ActionID of the request, if it had
// one, is added as the second header unless headers already hold one.
func (w *ResponseWriter) Respond(headers ...amiproto.Header) {
	hs := make([]amiproto.Header, 0, len(headers)+2)
	if len(headers) > 0 && strings.EqualFold(headers[0].Key, "Response") {
		hs = append(hs, headers[0])
		headers = headers[1:]
	} else {
		hs = append(hs, H("Response", "Success"))
	}
	if w.hasID && !hasKey(headers, "ActionID") {
		hs = append(hs, H("ActionID", w.actionID))
	}
	hs = append(hs, headers...)
	w.c.s.counters.responses.Add(1)
	w.frame(hs)
}

// Success writes "Response: Success", the ActionID, then headers.
func (w *ResponseWriter) Success(headers ...amiproto.Header) {
	w.Respond(append([]amiproto.Header{H("Response", "Success")}, headers...)...)
}

// Error writes "Response: Error", the ActionID, then "Message: message".
func (w *ResponseWriter) Error(message string) {
	w.Respond(H("Response", "Error"), H("Message", message))
}

// Event writes an event frame: "Event: name", the request's ActionID (it
// belongs to this action, like the items of a list), then headers. Events
// written here go to this connection only, whatever its event mask, and
// count as list items for CompleteList.
func (w *ResponseWriter) Event(name string, headers ...amiproto.Header) {
	hs := make([]amiproto.Header, 0, len(headers)+2)
	hs = append(hs, H("Event", name))
	if w.hasID && !hasKey(headers, "ActionID") {
		hs = append(hs, H("ActionID", w.actionID))
	}
	hs = append(hs, headers...)
	w.listItems++
	w.c.s.counters.events.Add(1)
	w.frame(hs)
}

// StartList writes the response that opens a list: "Response: Success",
// the ActionID, "EventList: start" and "Message: message" (for example
// "Channels will follow").
func (w *ResponseWriter) StartList(message string) {
	w.listItems = 0
	w.Success(H("EventList", "start"), H("Message", message))
}

// CompleteList writes the event that closes a list: "Event: name", the
// ActionID, "EventList: Complete", "ListItems: N" (the events written since
// StartList), then extra.
func (w *ResponseWriter) CompleteList(name string, extra ...amiproto.Header) {
	n := w.listItems
	hs := make([]amiproto.Header, 0, len(extra)+3)
	hs = append(hs, H("EventList", "Complete"), H("ListItems", strconv.Itoa(n)))
	hs = append(hs, extra...)
	w.Event(name, hs...)
	w.listItems = n
}

// CommandOutput answers a Command action with these output lines, in the
// form the server is configured for (Options.LegacyCommand).
func (w *ResponseWriter) CommandOutput(lines ...string) {
	w.commandOutput(true, lines)
}

// Raw writes b as is.
func (w *ResponseWriter) Raw(b []byte) {
	if w.err == nil {
		w.err = w.c.write(b)
	}
}

// Ignore sends nothing: the action stays unanswered (timeout tests). It
// exists to make that intent explicit in a handler.
func (w *ResponseWriter) Ignore() {}

// Default runs the built-in behaviour for the action, as if no handler were
// set: a handler can delay, count or inspect, then fall back on it.
func (w *ResponseWriter) Default() {
	w.c.builtin(w, w.r)
}

// Conn returns the connection the reply goes to.
func (w *ResponseWriter) Conn() *Conn { return w.c }

// Err returns the first write error, if any.
func (w *ResponseWriter) Err() error { return w.err }

func (w *ResponseWriter) frame(hs []amiproto.Header) {
	if w.err == nil {
		w.err = w.c.writeFrame(hs)
	}
}

func hasKey(hs []amiproto.Header, key string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Key, key) {
			return true
		}
	}
	return false
}

// dispatch answers one frame from the client.
func (c *Conn) dispatch(m *amiproto.Message) {
	c.mu.Lock()
	c.actions = append(c.actions, m)
	c.mu.Unlock()
	c.s.counters.actions.Add(1)
	c.s.notify()

	w := newResponseWriter(c, m)
	name, ok := m.Lookup("Action")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		w.Error("Missing action in request")
		return
	}
	c.s.logf("conn %d: action %s (ActionID %q)", c.id, name, w.actionID)
	key := strings.ToLower(name)
	if !c.LoggedIn() && key != "login" && key != "challenge" && key != "logoff" {
		w.Error("Permission denied")
		return
	}
	if h := c.s.handler(key); h != nil {
		h(w, w.r)
		return
	}
	c.builtin(w, w.r)
}

// builtin runs the built-in handler of the request's action.
func (c *Conn) builtin(w *ResponseWriter, r *Request) {
	name := strings.TrimSpace(r.Action.Get("Action"))
	if h, ok := builtins[strings.ToLower(name)]; ok {
		h.fn(w, r)
		return
	}
	w.Error("Invalid/unknown command: " + name + ". Use Action: ListCommands to show available commands.")
}
