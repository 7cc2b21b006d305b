package breaker

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is matched (with errors.Is) by every error returned from
// [Config.Validate].
var ErrInvalidConfig = errors.New("ami: invalid breaker config")

// ConfigError reports a [Config] field outside its allowed range.
type ConfigError struct {
	Field string // "Threshold", "Cooldown" or "HalfOpenProbes"
	Value any    // the rejected value
	Range string // the allowed range, in words
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("ami: invalid breaker config: %s = %v, must be %s", e.Field, e.Value, e.Range)
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Config parameterises a [Breaker].
type Config struct {
	// Threshold is the number of consecutive failures that opens a closed
	// breaker. It must be >= 1.
	Threshold int
	// Cooldown is how long the breaker stays Open before it lets probes
	// through. It must be > 0.
	Cooldown time.Duration
	// HalfOpenProbes is the number of attempts allowed while HalfOpen. It
	// must be >= 1.
	HalfOpenProbes int
}

// Validate reports whether c is usable. The error names the offending field
// and its allowed range; it is a *[ConfigError] matching [ErrInvalidConfig].
func (c Config) Validate() error {
	switch {
	case c.Threshold < 1:
		return &ConfigError{Field: "Threshold", Value: c.Threshold, Range: ">= 1"}
	case c.Cooldown <= 0:
		return &ConfigError{Field: "Cooldown", Value: c.Cooldown, Range: "> 0"}
	case c.HalfOpenProbes < 1:
		return &ConfigError{Field: "HalfOpenProbes", Value: c.HalfOpenProbes, Range: ">= 1"}
	}
	return nil
}
