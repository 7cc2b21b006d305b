package ami

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Test for them with errors.Is; the typed errors below wrap
// them and carry the context a caller needs.
var (
	// ErrConnectionLost: the connection of the action's server ended before
	// the action completed. See ConnectionLostError and SafeToRetry.
	ErrConnectionLost = errors.New("ami: connection lost")
	// ErrClosed: the manager or client is closed (or closing).
	ErrClosed = errors.New("ami: closed")
	// ErrActionTimeout: no complete answer arrived within the action's timeout.
	// The outcome is unknown: the PBX may have acted on it.
	ErrActionTimeout = errors.New("ami: action timed out")
	// ErrBackpressure: the write buffer or the pending-action table is full.
	// Nothing was written; the action is safe to send again later.
	ErrBackpressure = errors.New("ami: backpressure: write buffer or pending table full")
	// ErrInvalidTimeout: TickAll was given a negative timeout.
	ErrInvalidTimeout = errors.New("ami: invalid tick timeout")
	// ErrNoHealthyServer: routing found no Ready server.
	ErrNoHealthyServer = errors.New("ami: no healthy server")
	// ErrUnknownServer: no server with that key is configured.
	ErrUnknownServer = errors.New("ami: unknown server")
	// ErrInvalidConfig is wrapped by every *ConfigError.
	ErrInvalidConfig = errors.New("ami: invalid config")
	// ErrAuthFailed: the PBX refused the login.
	ErrAuthFailed = errors.New("ami: authentication failed")
	// ErrDuplicateActionID: a caller-chosen ActionID is already pending.
	ErrDuplicateActionID = errors.New("ami: duplicate ActionID")
	// ErrInvalidActionID: a caller-chosen ActionID is empty, too long or has
	// characters outside printable ASCII.
	ErrInvalidActionID = errors.New("ami: invalid ActionID")
	// ErrListTooLong: an event-list action collected more items than
	// Options.MaxListEvents; the extra items were counted and dropped.
	ErrListTooLong = errors.New("ami: event list too long")
	// ErrProtocol is wrapped by every *ProtocolError.
	ErrProtocol = errors.New("ami: protocol error")
)

// NotReadyError is returned by Send when the client is not in StateReady.
// Nothing was written: the action is safe to send again.
type NotReadyError struct {
	Server string
	State  State
}

// Error implements the error interface.
func (e *NotReadyError) Error() string {
	return fmt.Sprintf("ami: server %q not ready (state %s)", e.Server, e.State)
}

// SafeToRetry reports true: the action never reached the socket.
func (e *NotReadyError) SafeToRetry() bool { return true }

// Is makes errors.Is(err, ErrClosed) true when the client is closing or
// closed: sending again there can never succeed.
func (e *NotReadyError) Is(target error) bool {
	return target == ErrClosed && (e.State == StateClosing || e.State == StateClosed)
}

// ActionError is an action answered with "Response: Error" (or an
// OriginateResponse with "Response: Failure"). Asterisk 14+ answers a failed
// CLI command with Response: Error plus its Output lines: they are kept.
type ActionError struct {
	Server   string
	Action   string
	ActionID string
	Response string   // "Error", "Failure", ...
	Message  string   // e.g. "Permission denied"
	Output   []string // Command output lines, if any
	Headers  Headers  // the whole answering frame
}

// Error implements the error interface.
func (e *ActionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ami: %s %s (server %q, ActionID %s): %s", e.Action, strings.ToLower(e.Response), e.Server, e.ActionID, e.Message)
	if len(e.Output) > 0 {
		fmt.Fprintf(&b, ": %s", e.Output[0])
		if len(e.Output) > 1 {
			fmt.Fprintf(&b, " (+%d lines)", len(e.Output)-1)
		}
	}
	return b.String()
}

// ConnectionLostError fails every action pending on a connection that ended.
// Written tells the two cases apart: false means the action's bytes never
// reached the socket (purged from the write buffer) and it is safe to send
// again; true means the outcome is unknown (the PBX may have run it), and a
// dialer must not retry it blindly.
type ConnectionLostError struct {
	Server   string
	ActionID string
	Written  bool
	Cause    error
}

// Error implements the error interface.
func (e *ConnectionLostError) Error() string {
	state := "purged before reaching the socket, safe to retry"
	if e.Written {
		state = "written, outcome unknown"
	}
	msg := fmt.Sprintf("ami: connection lost (server %q, ActionID %s, %s)", e.Server, e.ActionID, state)
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrConnectionLost) true.
func (e *ConnectionLostError) Is(target error) bool { return target == ErrConnectionLost }

// Unwrap returns the cause of the loss.
func (e *ConnectionLostError) Unwrap() error { return e.Cause }

// SafeToRetry reports whether the action's bytes never reached the socket.
func (e *ConnectionLostError) SafeToRetry() bool { return !e.Written }

// ClosedError fails actions that were pending when the manager closed.
type ClosedError struct {
	Server   string
	ActionID string
	Written  bool
}

// Error implements the error interface.
func (e *ClosedError) Error() string {
	return fmt.Sprintf("ami: closed (server %q, ActionID %s, written=%t)", e.Server, e.ActionID, e.Written)
}

// Is makes errors.Is(err, ErrClosed) true.
func (e *ClosedError) Is(target error) bool { return target == ErrClosed }

// SafeToRetry reports whether the action's bytes never reached the socket.
func (e *ClosedError) SafeToRetry() bool { return !e.Written }

// ProtocolError fails an action whose answer could not be parsed within the
// limits (frame too large, command output too large, list too long).
type ProtocolError struct {
	Server   string
	ActionID string
	Err      error // amiproto.ErrFrameTooLarge, amiproto.ErrOutputTooLarge, ErrListTooLong, ...
}

// Error implements the error interface.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("ami: protocol error (server %q, ActionID %s): %v", e.Server, e.ActionID, e.Err)
}

// Unwrap returns the underlying cause.
func (e *ProtocolError) Unwrap() []error { return []error{ErrProtocol, e.Err} }

// AuthError is a login refused by the PBX.
type AuthError struct {
	Server  string
	Message string
}

// Error implements the error interface.
func (e *AuthError) Error() string {
	return fmt.Sprintf("ami: authentication failed (server %q): %s", e.Server, e.Message)
}

// Is makes errors.Is(err, ErrAuthFailed) true.
func (e *AuthError) Is(target error) bool { return target == ErrAuthFailed }

type safeToRetrier interface{ SafeToRetry() bool }

// SafeToRetry reports whether err proves that the action never reached the
// PBX, so that sending it again cannot run it twice: it was refused by state
// (*NotReadyError), by backpressure (ErrBackpressure), or purged from the
// write buffer before any of its bytes reached the socket. It is false for
// timeouts, for actions written before their connection was lost ("outcome
// unknown"), for Asterisk errors and for nil.
func SafeToRetry(err error) bool {
	if err == nil {
		return false
	}
	var s safeToRetrier
	if errors.As(err, &s) {
		return s.SafeToRetry()
	}
	return errors.Is(err, ErrBackpressure) || errors.Is(err, ErrNoHealthyServer)
}
