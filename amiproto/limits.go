package amiproto

// Limit defaults and allowed ranges (bytes).
const (
	// DefaultMaxFrameSize is the default Limits.MaxFrameSize: 1 MiB.
	DefaultMaxFrameSize = 1 << 20
	// MinMaxFrameSize is the smallest allowed Limits.MaxFrameSize: 64 KiB.
	MinMaxFrameSize = 64 << 10
	// MaxMaxFrameSize is the largest allowed Limits.MaxFrameSize: 4 MiB.
	MaxMaxFrameSize = 4 << 20

	// DefaultMaxBufferSize is the default Limits.MaxBufferSize: 2 MiB (twice
	// MaxFrameSize when that is larger).
	DefaultMaxBufferSize = 2 << 20
	// MaxMaxBufferSize is the largest allowed Limits.MaxBufferSize: 64 MiB.
	// The smallest is MaxFrameSize.
	MaxMaxBufferSize = 64 << 20

	// DefaultMaxOutputSize is the default Limits.MaxOutputSize: 1 MiB.
	DefaultMaxOutputSize = 1 << 20
	// MinMaxOutputSize is the smallest allowed Limits.MaxOutputSize: 1 KiB.
	MinMaxOutputSize = 1 << 10
	// MaxMaxOutputSize is the largest allowed Limits.MaxOutputSize: 64 MiB.
	MaxMaxOutputSize = 64 << 20
)

// Limits bound the memory a Parser may use. The zero value of a field means
// its default.
type Limits struct {
	// MaxFrameSize is the largest frame, in bytes including its terminating
	// empty line. Larger frames are discarded with ErrFrameTooLarge. It also
	// bounds one raw output line of a legacy Command reply. Defaults to
	// 1 MiB; allowed range 64 KiB to 4 MiB.
	MaxFrameSize int
	// MaxBufferSize is the most bytes the parser holds buffered. Defaults to
	// 2 MiB, or twice MaxFrameSize when that is larger; must be at least
	// MaxFrameSize and at most 64 MiB.
	MaxBufferSize int
	// MaxOutputSize is the most bytes of command output in one reply: the
	// raw lines of a legacy "Response: Follows" reply, or the sum of the
	// Output header values of a modern one. Larger replies are discarded
	// with ErrOutputTooLarge. Defaults to 1 MiB; allowed range 1 KiB to
	// 64 MiB.
	MaxOutputSize int
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits { return Limits{}.WithDefaults() }

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxFrameSize == 0 {
		l.MaxFrameSize = DefaultMaxFrameSize
	}
	if l.MaxBufferSize == 0 {
		l.MaxBufferSize = DefaultMaxBufferSize
		if l.MaxFrameSize > 0 && 2*l.MaxFrameSize > l.MaxBufferSize && 2*l.MaxFrameSize <= MaxMaxBufferSize {
			l.MaxBufferSize = 2 * l.MaxFrameSize
		}
	}
	if l.MaxOutputSize == 0 {
		l.MaxOutputSize = DefaultMaxOutputSize
	}
	return l
}

// Validate checks every field (zero fields count as their default) and
// returns a *LimitError naming the first field out of range, which matches
// ErrInvalidLimit with errors.Is.
func (l Limits) Validate() error {
	l = l.WithDefaults()
	if l.MaxFrameSize < MinMaxFrameSize || l.MaxFrameSize > MaxMaxFrameSize {
		return &LimitError{Field: "MaxFrameSize", Value: l.MaxFrameSize, Min: MinMaxFrameSize, Max: MaxMaxFrameSize}
	}
	if l.MaxBufferSize < l.MaxFrameSize || l.MaxBufferSize > MaxMaxBufferSize {
		return &LimitError{Field: "MaxBufferSize", Value: l.MaxBufferSize, Min: l.MaxFrameSize, Max: MaxMaxBufferSize}
	}
	if l.MaxOutputSize < MinMaxOutputSize || l.MaxOutputSize > MaxMaxOutputSize {
		return &LimitError{Field: "MaxOutputSize", Value: l.MaxOutputSize, Min: MinMaxOutputSize, Max: MaxMaxOutputSize}
	}
	return nil
}
