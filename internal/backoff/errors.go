package backoff

import (
	"errors"
	"fmt"
)

// ErrInvalidPolicy is matched (with errors.Is) by every error returned from
// [Policy.Validate].
var ErrInvalidPolicy = errors.New("ami: invalid backoff policy")

// PolicyError reports a [Policy] field outside its allowed range.
type PolicyError struct {
	Field string // "Base", "Max" or "Jitter"
	Value any    // the rejected value
	Range string // the allowed range, in words
}

// Error implements error.
func (e *PolicyError) Error() string {
	return fmt.Sprintf("ami: invalid backoff policy: %s = %v, must be %s", e.Field, e.Value, e.Range)
}

// Is reports whether target is [ErrInvalidPolicy].
func (e *PolicyError) Is(target error) bool { return target == ErrInvalidPolicy }
