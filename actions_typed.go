package ami

import (
	"sort"
	"strconv"
	"time"
)

func sortStrings(s []string) { sort.Strings(s) }

// Ping checks the connection; Asterisk answers "Ping: Pong".
type Ping struct{}

// ActionName implements Action.
func (Ping) ActionName() string { return "Ping" }

// AppendHeaders implements Action.
func (Ping) AppendHeaders(dst []Header) []Header { return dst }

// Login authenticates. The client sends it itself at connect; it is exported
// for completeness and for tools that drive a raw session.
type Login struct {
	Username string
	Secret   string // plain authentication
	AuthType string // "MD5" with Key
	Key      string // hex(md5(challenge + secret))
	Events   string // event mask, e.g. "on", "off", "call,system"
}

// ActionName implements Action.
func (Login) ActionName() string { return "Login" }

// AppendHeaders implements Action.
func (a Login) AppendHeaders(dst []Header) []Header {
	dst = appendNonEmpty(dst, "AuthType", a.AuthType)
	dst = appendNonEmpty(dst, "Username", a.Username)
	dst = appendNonEmpty(dst, "Secret", a.Secret)
	dst = appendNonEmpty(dst, "Key", a.Key)
	return appendNonEmpty(dst, "Events", a.Events)
}

// Logoff ends the session; Asterisk answers "Response: Goodbye" and closes.
type Logoff struct{}

// ActionName implements Action.
func (Logoff) ActionName() string { return "Logoff" }

// AppendHeaders implements Action.
func (Logoff) AppendHeaders(dst []Header) []Header { return dst }

// Challenge asks for an MD5 challenge.
type Challenge struct {
	AuthType string // "MD5" when empty
}

// ActionName implements Action.
func (Challenge) ActionName() string { return "Challenge" }

// AppendHeaders implements Action.
func (a Challenge) AppendHeaders(dst []Header) []Header {
	t := a.AuthType
	if t == "" {
		t = "MD5"
	}
	return append(dst, Header{Key: "AuthType", Value: t})
}

// Events sets the session's event mask ("on", "off", "call,system", ...).
type Events struct {
	EventMask string
}

// ActionName implements Action.
func (Events) ActionName() string { return "Events" }

// AppendHeaders implements Action.
func (a Events) AppendHeaders(dst []Header) []Header {
	return append(dst, Header{Key: "EventMask", Value: a.EventMask})
}

// Originate starts a call. With Async set it completes on the
// OriginateResponse event carrying its ActionID (the event also reaches the
// listeners); a "Response: Failure" there fails it with an *ActionError.
//
// Asterisk sends OriginateResponse only to sessions whose event mask
// includes the "call" class: with ServerConfig.Events "off" (or a mask
// without call) an async Originate can only end in ErrActionTimeout. Set
// ChannelID to know the new channel's Uniqueid before any event arrives.
type Originate struct {
	Channel     string
	Exten       string
	Context     string
	Priority    string
	Application string
	Data        string
	Timeout     time.Duration // ring timeout, sent in milliseconds
	CallerID    string
	Account     string
	EarlyMedia  bool
	Async       bool
	Codecs      string
	ChannelID   string // Asterisk 13+: Uniqueid of the new channel (lets a dialer track the call before any event)
	OtherChanID string
	Variables   map[string]string // sent as Variable: k=v, sorted by key
}

// ActionName implements Action.
func (Originate) ActionName() string { return "Originate" }

// AppendHeaders implements Action.
func (a Originate) AppendHeaders(dst []Header) []Header {
	dst = appendNonEmpty(dst, "Channel", a.Channel)
	dst = appendNonEmpty(dst, "Exten", a.Exten)
	dst = appendNonEmpty(dst, "Context", a.Context)
	dst = appendNonEmpty(dst, "Priority", a.Priority)
	dst = appendNonEmpty(dst, "Application", a.Application)
	dst = appendNonEmpty(dst, "Data", a.Data)
	if a.Timeout > 0 {
		dst = append(dst, Header{Key: "Timeout", Value: strconv.FormatInt(a.Timeout.Milliseconds(), 10)})
	}
	dst = appendNonEmpty(dst, "CallerID", a.CallerID)
	dst = appendNonEmpty(dst, "Account", a.Account)
	if a.EarlyMedia {
		dst = append(dst, Header{Key: "EarlyMedia", Value: "true"})
	}
	if a.Async {
		dst = append(dst, Header{Key: "Async", Value: "true"})
	}
	dst = appendNonEmpty(dst, "Codecs", a.Codecs)
	dst = appendNonEmpty(dst, "ChannelId", a.ChannelID)
	dst = appendNonEmpty(dst, "OtherChannelId", a.OtherChanID)
	return appendVars(dst, "Variable", a.Variables)
}

// Completion implements Completer: async originates complete on OriginateResponse.
func (a Originate) Completion() Completion {
	if a.Async {
		return CompleteOnOriginateResponse
	}
	return CompleteOnResponse
}

// TimeoutHint implements TimeoutHinter: the call may ring for Timeout
// (Asterisk's default is 30s) before the answer comes.
func (a Originate) TimeoutHint(base time.Duration) time.Duration {
	ring := a.Timeout
	if ring <= 0 {
		ring = 30 * time.Second
	}
	return base + ring
}

// Hangup hangs up a channel.
type Hangup struct {
	Channel string
	Cause   int // 0: not sent
}

// ActionName implements Action.
func (Hangup) ActionName() string { return "Hangup" }

// AppendHeaders implements Action.
func (a Hangup) AppendHeaders(dst []Header) []Header {
	dst = appendNonEmpty(dst, "Channel", a.Channel)
	if a.Cause != 0 {
		dst = append(dst, Header{Key: "Cause", Value: strconv.Itoa(a.Cause)})
	}
	return dst
}

// Redirect transfers a channel (and optionally a second one) elsewhere.
type Redirect struct {
	Channel, ExtraChannel    string
	Exten, Context, Priority string
	ExtraExten, ExtraContext string
	ExtraPriority            string
}

// ActionName implements Action.
func (Redirect) ActionName() string { return "Redirect" }

// AppendHeaders implements Action.
func (a Redirect) AppendHeaders(dst []Header) []Header {
	dst = appendNonEmpty(dst, "Channel", a.Channel)
	dst = appendNonEmpty(dst, "ExtraChannel", a.ExtraChannel)
	dst = appendNonEmpty(dst, "Exten", a.Exten)
	dst = appendNonEmpty(dst, "ExtraExten", a.ExtraExten)
	dst = appendNonEmpty(dst, "Context", a.Context)
	dst = appendNonEmpty(dst, "ExtraContext", a.ExtraContext)
	dst = appendNonEmpty(dst, "Priority", a.Priority)
	return appendNonEmpty(dst, "ExtraPriority", a.ExtraPriority)
}

// SetVar sets a channel (or global, without Channel) variable.
type SetVar struct {
	Channel  string
	Variable string
	Value    string
}

// ActionName implements Action.
func (SetVar) ActionName() string { return "Setvar" }

// AppendHeaders implements Action.
func (a SetVar) AppendHeaders(dst []Header) []Header {
	dst = appendNonEmpty(dst, "Channel", a.Channel)
	dst = append(dst, Header{Key: "Variable", Value: a.Variable})
	return append(dst, Header{Key: "Value", Value: a.Value})
}

// GetVar reads a channel (or global) variable; the result's "Value" header holds it.
type GetVar struct {
	Channel  string
	Variable string
}

// ActionName implements Action.
func (GetVar) ActionName() string { return "Getvar" }

// AppendHeaders implements Action.
func (a GetVar) AppendHeaders(dst []Header) []Header {
	dst = appendNonEmpty(dst, "Channel", a.Channel)
	return append(dst, Header{Key: "Variable", Value: a.Variable})
}

// Command runs a CLI command. Result.Output holds its lines, from either
// Asterisk format. A failed command (Asterisk 14+: Response: Error with
// Output lines) fails with an *ActionError that keeps the output.
type Command struct {
	Command string
}

// ActionName implements Action.
func (Command) ActionName() string { return "Command" }

// AppendHeaders implements Action.
func (a Command) AppendHeaders(dst []Header) []Header {
	return append(dst, Header{Key: "Command", Value: a.Command})
}

// Completion implements Completer.
func (Command) Completion() Completion { return CompleteOnCommandOutput }

// listAction is embedded by the event-list actions.
type listAction struct{}

// Completion implements Completer: event-list actions collect their items.
func (listAction) Completion() Completion { return CompleteOnEventList }

// CoreShowChannels lists active channels (CoreShowChannel items).
type CoreShowChannels struct{ listAction }

// ActionName implements Action.
func (CoreShowChannels) ActionName() string { return "CoreShowChannels" }

// AppendHeaders implements Action.
func (CoreShowChannels) AppendHeaders(dst []Header) []Header { return dst }

// Status lists channel status (Status items), for one channel or all.
type Status struct {
	listAction
	Channel   string
	Variables string // comma-separated variables to include
}

// ActionName implements Action.
func (Status) ActionName() string { return "Status" }

// AppendHeaders implements Action.
func (a Status) AppendHeaders(dst []Header) []Header {
	dst = appendNonEmpty(dst, "Channel", a.Channel)
	return appendNonEmpty(dst, "Variables", a.Variables)
}

// QueueStatus lists queue parameters, members and callers.
type QueueStatus struct {
	listAction
	Queue  string
	Member string
}

// ActionName implements Action.
func (QueueStatus) ActionName() string { return "QueueStatus" }

// AppendHeaders implements Action.
func (a QueueStatus) AppendHeaders(dst []Header) []Header {
	dst = appendNonEmpty(dst, "Queue", a.Queue)
	return appendNonEmpty(dst, "Member", a.Member)
}

// QueueSummary lists a summary per queue.
type QueueSummary struct {
	listAction
	Queue string
}

// ActionName implements Action.
func (QueueSummary) ActionName() string { return "QueueSummary" }

// AppendHeaders implements Action.
func (a QueueSummary) AppendHeaders(dst []Header) []Header {
	return appendNonEmpty(dst, "Queue", a.Queue)
}

// QueueAdd adds a member to a queue.
type QueueAdd struct {
	Queue, Interface, MemberName, StateInterface string
	Penalty                                      int
	Paused                                       bool
}

// ActionName implements Action.
func (QueueAdd) ActionName() string { return "QueueAdd" }

// AppendHeaders implements Action.
func (a QueueAdd) AppendHeaders(dst []Header) []Header {
	dst = append(dst, Header{Key: "Queue", Value: a.Queue}, Header{Key: "Interface", Value: a.Interface})
	dst = appendNonEmpty(dst, "MemberName", a.MemberName)
	dst = appendNonEmpty(dst, "StateInterface", a.StateInterface)
	if a.Penalty != 0 {
		dst = append(dst, Header{Key: "Penalty", Value: strconv.Itoa(a.Penalty)})
	}
	if a.Paused {
		dst = append(dst, Header{Key: "Paused", Value: "true"})
	}
	return dst
}

// QueueRemove removes a member from a queue.
type QueueRemove struct {
	Queue, Interface string
}

// ActionName implements Action.
func (QueueRemove) ActionName() string { return "QueueRemove" }

// AppendHeaders implements Action.
func (a QueueRemove) AppendHeaders(dst []Header) []Header {
	return append(dst, Header{Key: "Queue", Value: a.Queue}, Header{Key: "Interface", Value: a.Interface})
}

// QueuePause pauses or unpauses a member (in one queue, or all when Queue is empty).
type QueuePause struct {
	Queue, Interface, Reason string
	Paused                   bool
}

// ActionName implements Action.
func (QueuePause) ActionName() string { return "QueuePause" }

// AppendHeaders implements Action.
func (a QueuePause) AppendHeaders(dst []Header) []Header {
	dst = append(dst, Header{Key: "Interface", Value: a.Interface}, Header{Key: "Paused", Value: strconv.FormatBool(a.Paused)})
	dst = appendNonEmpty(dst, "Queue", a.Queue)
	return appendNonEmpty(dst, "Reason", a.Reason)
}

// PJSIPShowEndpoint lists the details of one endpoint.
type PJSIPShowEndpoint struct {
	listAction
	Endpoint string
}

// ActionName implements Action.
func (PJSIPShowEndpoint) ActionName() string { return "PJSIPShowEndpoint" }

// AppendHeaders implements Action.
func (a PJSIPShowEndpoint) AppendHeaders(dst []Header) []Header {
	return append(dst, Header{Key: "Endpoint", Value: a.Endpoint})
}

// PJSIPShowEndpoints lists every endpoint (EndpointList items).
type PJSIPShowEndpoints struct{ listAction }

// ActionName implements Action.
func (PJSIPShowEndpoints) ActionName() string { return "PJSIPShowEndpoints" }

// AppendHeaders implements Action.
func (PJSIPShowEndpoints) AppendHeaders(dst []Header) []Header { return dst }

// ExtensionState asks for the state of an extension (hint).
type ExtensionState struct {
	Exten, Context string
}

// ActionName implements Action.
func (ExtensionState) ActionName() string { return "ExtensionState" }

// AppendHeaders implements Action.
func (a ExtensionState) AppendHeaders(dst []Header) []Header {
	return append(dst, Header{Key: "Exten", Value: a.Exten}, Header{Key: "Context", Value: a.Context})
}

// UserEvent makes Asterisk emit a UserEvent event with these headers.
type UserEvent struct {
	UserEvent string
	Headers   []Header
}

// ActionName implements Action.
func (UserEvent) ActionName() string { return "UserEvent" }

// AppendHeaders implements Action.
func (a UserEvent) AppendHeaders(dst []Header) []Header {
	dst = append(dst, Header{Key: "UserEvent", Value: a.UserEvent})
	return append(dst, a.Headers...)
}
