package amiproto

import (
	"errors"
	"strconv"
)

// Sentinel errors. Match them with errors.Is: the parser and encoder return
// the typed errors below, which wrap them.
var (
	// ErrFrameTooLarge: a frame was not terminated within Limits.MaxFrameSize
	// bytes and was discarded.
	ErrFrameTooLarge = errors.New("ami: frame too large")
	// ErrDesync: a line that is not "Key: Value" shaped was found outside
	// command output; it and the frame it appeared in were discarded.
	ErrDesync = errors.New("ami: protocol desync")
	// ErrOutputTooLarge: the command output of one reply exceeded
	// Limits.MaxOutputSize; the reply was discarded.
	ErrOutputTooLarge = errors.New("ami: command output too large")
	// ErrBufferFull: Parser.Write could not accept all bytes because the
	// parser already buffers Limits.MaxBufferSize bytes; drain Next and write
	// the rest.
	ErrBufferFull = errors.New("ami: parser buffer full")
	// ErrInvalidLimit: a Limits field is out of range.
	ErrInvalidLimit = errors.New("ami: invalid limit")

	// ErrInvalidHeader: a header key is not ValidKey, or a value contains CR,
	// LF or NUL.
	ErrInvalidHeader = errors.New("ami: invalid header")
	// ErrLineTooLong: an encoded "Key: Value\r\n" line is longer than
	// MaxLineLength.
	ErrLineTooLong = errors.New("ami: header line too long")
	// ErrTooManyHeaders: an action has more than MaxHeaders lines.
	ErrTooManyHeaders = errors.New("ami: too many headers")
)

// ProtocolError reports a frame the parser discarded. The stream goes on:
// call Parser.Next again.
//
// A desync is reported as soon as its first garbage line is complete (Size
// counts the dropped partial frame and that line; later garbage lines of the
// same run are dropped silently and only counted in Stats.DiscardedBytes).
// An oversized frame, and a legacy Command reply over the output limit, are
// reported once, when their end has been skipped, so Size is the whole
// discarded frame; the bytes are not buffered meanwhile.
type ProtocolError struct {
	// Err is ErrFrameTooLarge, ErrDesync or ErrOutputTooLarge.
	Err error
	// ActionID is the ActionID of the discarded frame if the parser saw it
	// (in the part of the frame it examined), so a client can fail exactly
	// that action. Empty otherwise.
	ActionID string
	// Size is the number of bytes discarded.
	Size int
	// Detail describes the problem in words (never contains header values).
	Detail string
}

// Error implements error.
func (e *ProtocolError) Error() string {
	s := e.Err.Error() + ": discarded " + strconv.Itoa(e.Size) + " bytes"
	if e.ActionID != "" {
		s += " (ActionID " + strconv.Quote(e.ActionID) + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns Err.
func (e *ProtocolError) Unwrap() error { return e.Err }

// LimitError reports a Limits field out of its allowed range. It wraps
// ErrInvalidLimit.
type LimitError struct {
	// Field is the name of the Limits field, e.g. "MaxFrameSize".
	Field string
	// Value is the rejected value.
	Value int
	// Min and Max bound the allowed range (inclusive).
	Min, Max int
}

// Error implements error.
func (e *LimitError) Error() string {
	return "ami: invalid limit " + e.Field + "=" + strconv.Itoa(e.Value) +
		": must be between " + strconv.Itoa(e.Min) + " and " + strconv.Itoa(e.Max)
}

// Unwrap returns ErrInvalidLimit.
func (e *LimitError) Unwrap() error { return ErrInvalidLimit }

// EncodeError reports a header the encoder refused. Its text names the key
// but never the value, which may be a secret.
type EncodeError struct {
	// Err is ErrInvalidHeader, ErrLineTooLong or ErrTooManyHeaders.
	Err error
	// Key is the offending header key ("Action" or "ActionID" for the
	// name and actionID arguments of AppendAction).
	Key string
	// Index is the index of the offending header in the headers argument,
	// or -1 when the problem is the action name, the action ID or the frame
	// as a whole.
	Index int
	// Reason says what is wrong, e.g. "value contains CR".
	Reason string
}

// Error implements error.
func (e *EncodeError) Error() string {
	s := e.Err.Error()
	if e.Key != "" {
		s += " " + strconv.Quote(e.Key)
	}
	if e.Index >= 0 {
		s += " (index " + strconv.Itoa(e.Index) + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns Err.
func (e *EncodeError) Unwrap() error { return e.Err }
