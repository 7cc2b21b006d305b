package ami

// State is the connection state of one server's Client.
//
//	Disconnected -> Connecting -> Connected -> Authenticating -> Ready
//	any -> Reconnecting (after a loss, waiting for the backoff) -> Connecting
//	any -> Closing -> Closed
type State int32

// Client states.
const (
	StateDisconnected   State = iota // not connected, no attempt yet
	StateConnecting                  // TCP/TLS dial in progress (async)
	StateConnected                   // socket up, waiting for the banner
	StateAuthenticating              // login sent, waiting for its answer
	StateReady                       // logged in: actions accepted, events dispatched
	StateReconnecting                // connection lost, waiting for the next attempt
	StateClosing                     // graceful shutdown in progress
	StateClosed                      // closed for good
)

var stateNames = [...]string{"disconnected", "connecting", "connected", "authenticating", "ready", "reconnecting", "closing", "closed"}

// String returns the lower-case state name used in logs and metrics.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}
