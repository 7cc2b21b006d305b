package amitest

import (
	"maps"
	"time"
)

// DefaultVersion is the AMI protocol version announced in the banner when
// Options.Version is empty.
const DefaultVersion = "13.0.0"

// Options configures a Server. The zero value is a plain-TCP Asterisk 13
// with one user, admin/admin-secret, that answers at once.
type Options struct {
	// Users maps usernames to secrets. Defaults to {"admin": "admin-secret"}.
	Users map[string]string

	// Version is the AMI version written in the banner
	// ("Asterisk Call Manager/<Version>"). Defaults to "13.0.0".
	Version string

	// TLS serves TLS with a self-signed ECDSA certificate for 127.0.0.1 and
	// localhost, generated when the server starts. Server.ClientTLSConfig
	// returns a client configuration that trusts it. Defaults to false.
	TLS bool

	// LegacyCommand answers the Command action in the pre-14 form:
	// "Response: Follows", "Privilege: Command", the ActionID, the raw output
	// lines and "--END COMMAND--". Defaults to false (the modern form:
	// "Response: Success" with one "Output:" header per line).
	LegacyCommand bool

	// LoginFailureDelay is the pause before "Authentication failed" (a real
	// Asterisk waits about 1s). The connection is closed after a failed login
	// either way, like Asterisk. Defaults to 0.
	LoginFailureDelay time.Duration

	// WriteChunkSize, if > 0, splits every write to a client into chunks of
	// this many bytes (fault injection: frames arrive in pieces). Defaults to
	// 0 (one write per frame or batch).
	WriteChunkSize int

	// WriteChunkDelay is the pause between two chunks when WriteChunkSize is
	// set. Defaults to 0.
	WriteChunkDelay time.Duration

	// WriteTimeout, if > 0, drops a connection whose write stays blocked
	// longer than this (a client that stopped reading), like Asterisk's
	// manager writetimeout. Defaults to 0: writes block until the client
	// reads or the connection is closed.
	WriteTimeout time.Duration

	// ReadBufferSize, if > 0, is the SO_RCVBUF of accepted connections. It is
	// set on the listening socket so that it applies from the handshake on,
	// which lets tests fill TCP buffers fast. Defaults to 0 (system default).
	ReadBufferSize int

	// CallStep is the pause between two consecutive events of a simulated
	// call (Originate and StartCalls). Defaults to 1ms.
	CallStep time.Duration

	// CallDuration is how long an answered call placed with Originate stays
	// up before it hangs up. Defaults to 10ms.
	CallDuration time.Duration

	// TrafficCallDuration is the mean talk time of the calls made by
	// StartCalls (each call is jittered between half and one and a half
	// times this value; ringing lasts about a third of it). Defaults to
	// 300ms.
	TrafficCallDuration time.Duration

	// Logf, if set, receives debug logs (connections, actions, errors).
	// It must be safe for concurrent use; testing.T.Logf is.
	Logf func(format string, args ...any)
}

// withDefaults returns a copy of o with every default applied.
func (o Options) withDefaults() Options {
	if len(o.Users) == 0 {
		o.Users = map[string]string{"admin": "admin-secret"}
	} else {
		o.Users = maps.Clone(o.Users)
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.CallStep <= 0 {
		o.CallStep = time.Millisecond
	}
	if o.CallDuration <= 0 {
		o.CallDuration = 10 * time.Millisecond
	}
	if o.TrafficCallDuration <= 0 {
		o.TrafficCallDuration = 300 * time.Millisecond
	}
	return o
}
