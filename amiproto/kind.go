package amiproto

import "strconv"

// Kind classifies a Message.
type Kind uint8

const (
	// KindUnknown is a frame with none of the Event, Response or Action
	// headers (for example Asterisk's "message with no Action header").
	KindUnknown Kind = iota
	// KindBanner is the greeting line "Asterisk Call Manager/X.Y.Z".
	KindBanner
	// KindResponse is a frame whose first kind header is "Response" (Success,
	// Error, Goodbye, ...), including modern Command replies carrying
	// "Output:" headers.
	KindResponse
	// KindFollows is the legacy "Response: Follows" Command reply of
	// Asterisk before 14; its raw output lines are in Message.Output.
	KindFollows
	// KindEvent is a frame whose first kind header is "Event".
	KindEvent
	// KindAction is a frame whose first kind header is "Action": what a
	// client sends, parsed by a server.
	KindAction
)

var kindNames = [...]string{"Unknown", "Banner", "Response", "Follows", "Event", "Action"}

// String returns the name of the kind ("Event", "Response", ...), or
// "Kind(N)" for values outside the defined set.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}
