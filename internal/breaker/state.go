package breaker

import "strconv"

// State is the state of a [Breaker].
type State uint8

// Breaker states.
const (
	// StateClosed lets every attempt through and counts consecutive failures.
	StateClosed State = iota
	// StateOpen refuses attempts until the cooldown has elapsed.
	StateOpen
	// StateHalfOpen lets a limited number of probe attempts through.
	StateHalfOpen
)

// String returns "closed", "open" or "half_open" (a form suited to log
// fields and metric labels), or "State(n)" for an unknown value.
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half_open"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}
