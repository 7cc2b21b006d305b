package amiproto

// Limit defaults and ranges.
const (
	DefaultMaxFrameSize = 1 << 20 // 1 MiB
	MinMaxFrameSize     = 64 << 10
	MaxMaxFrameSize     = 4 << 20

	DefaultMaxBufferSize = 2 << 20 // 2 MiB (or 2*MaxFrameSize when larger)
	MaxMaxBufferSize     = 64 << 20

	DefaultMaxOutputSize = 1 << 20 // 1 MiB
	MinMaxOutputSize     = 1 << 10
	MaxMaxOutputSize     = 64 << 20
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
