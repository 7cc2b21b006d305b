package amiproto

// Parser is an incremental, bounded AMI stream parser. Feed it bytes with
// Write and take messages with Next. See the package documentation for the
// accepted format and the recovery rules.
//
// The zero Parser is ready to use with DefaultLimits. A Parser is not safe
// for concurrent use.
type Parser struct {
	lim Limits

	// buf[r:] holds the bytes not consumed yet. Offsets below (scan, seen,
	// spans) are relative to r, so compacting buf does not disturb them.
	buf []byte
	r   int

	mode mode

	// State of the frame being scanned (modeFrame).
	scan       int    // offset of the first line not scanned yet
	seen       int    // bytes from r known to hold no '\n' at or after scan
	spans      []span // header lines scanned so far
	kind       Kind
	kindSet    bool
	actionIdx  int  // index in spans of the first ActionID header, or -1
	outSum     int  // sum of the Output header values
	followsHdr bool // scanning the header lines of a "Response: Follows" reply

	bannerDone bool // the first line of the stream was examined
	inRun      bool // inside a run of garbage lines already reported

	// State of a legacy Command body (modeFollows, modeSkipFollows).
	outBytes  int // output bytes collected
	replySize int // bytes of the reply consumed so far

	// State of a discarded frame (modeSkipFrame, modeSkipFollows).
	skipActionID string
	skipSize     int
	skipLine     int  // bytes of the current line already consumed
	skipLineCR   bool // those bytes are exactly "\r"

	// lf scans lines for stepFrame; its offsets are relative to buf[r:],
	// which consume keeps true by shifting it.
	lf lineFinder

	msg   Message // Next's result, materialised from fr
	fr    Frame   // NextFrame's result
	stats Stats
}

// mode is what the parser is doing with the bytes at r.
type mode uint8

const (
	modeFrame       mode = iota // scanning the lines of a frame
	modeFollows                 // collecting the raw output of a legacy Command reply
	modeSkipFrame               // discarding an oversized frame up to its empty line
	modeSkipFollows             // discarding a legacy Command body up to its end marker
)

// span locates one header line inside the frame (offsets relative to the
// frame start).
type span struct {
	ks, ke, vs, ve int32
}

// Stats are cumulative parser counters. Reset does not clear them.
type Stats struct {
	// Frames counts the messages returned by Next, banner included.
	Frames uint64
	// Bytes counts the bytes accepted by Write.
	Bytes uint64
	// Desyncs counts the ErrDesync errors (one per run of garbage lines).
	Desyncs uint64
	// Oversized counts the ErrFrameTooLarge errors.
	Oversized uint64
	// OutputTooLarge counts the ErrOutputTooLarge errors.
	OutputTooLarge uint64
	// DiscardedBytes counts the bytes dropped for any of these reasons.
	DiscardedBytes uint64
}

// NewParser returns a parser bounded by l; zero fields of l take their
// defaults. It returns the Limits.Validate error (a *LimitError) when l is
// out of range.
func NewParser(l Limits) (*Parser, error) {
	l = l.WithDefaults()
	if err := l.Validate(); err != nil {
		return nil, err
	}
	p := &Parser{lim: l, actionIdx: -1}
	return p, nil
}

// Limits returns the limits in force (defaults applied).
func (p *Parser) Limits() Limits {
	p.init()
	return p.lim
}

func (p *Parser) init() {
	if p.lim.MaxFrameSize == 0 {
		p.lim = DefaultLimits()
		p.actionIdx = -1
	}
}

// Write appends stream bytes to the parser. It accepts at most
// MaxBufferSize-Buffered() bytes: when b does not fit, it accepts what fits
// and returns n < len(b) and ErrBufferFull; drain Next, then write the rest.
// Write never keeps a reference to b.
func (p *Parser) Write(b []byte) (n int, err error) {
	p.init()
	n = len(b)
	if free := p.lim.MaxBufferSize - p.Buffered(); n > free {
		n, err = free, ErrBufferFull
	}
	if n == 0 {
		return 0, err
	}
	p.reserve(n)
	p.buf = append(p.buf, b[:n]...)
	p.stats.Bytes += uint64(n)
	return n, err
}

// reserve makes room for n more bytes at the end of buf, compacting or
// growing it; the caller guarantees Buffered()+n <= MaxBufferSize.
func (p *Parser) reserve(n int) {
	if cap(p.buf)-len(p.buf) >= n {
		return
	}
	live := len(p.buf) - p.r
	c := cap(p.buf)
	if p.r > 0 && c-live >= n && (live <= c/2 || c >= p.lim.MaxBufferSize) {
		copy(p.buf, p.buf[p.r:])
		p.buf = p.buf[:live]
		p.r = 0
		return
	}
	newCap := max(2*c, live+n, 4096)
	newCap = min(newCap, p.lim.MaxBufferSize)
	nb := make([]byte, live, newCap)
	copy(nb, p.buf[p.r:])
	p.buf = nb
	p.r = 0
}

// Buffered returns the number of bytes written but not consumed yet. It
// never exceeds MaxBufferSize.
func (p *Parser) Buffered() int { return len(p.buf) - p.r }

// Stats returns the cumulative counters.
func (p *Parser) Stats() Stats { return p.stats }

// Reset forgets every buffered byte and any partial frame, as for a new
// connection: the next line may be a banner again. Stats are kept. The
// message last returned by Next becomes invalid.
func (p *Parser) Reset() {
	p.init()
	p.buf = p.buf[:0]
	p.r = 0
	p.mode = modeFrame
	p.resetFrame()
	p.bannerDone = false
	p.inRun = false
	p.lf.reset()
	p.skipActionID = ""
	p.msg.Reset()
	p.fr.reset()
}

// Next returns the next complete message.
//
// It returns (nil, nil) when more bytes are needed. It returns (nil, err)
// when a frame was discarded: err is a *ProtocolError matching
// ErrFrameTooLarge, ErrDesync or ErrOutputTooLarge, and the stream goes on:
// call Next again. The returned *Message and its slices are owned by the
// parser and valid until the next call to Next, NextFrame or Reset; its
// strings stay valid forever.
func (p *Parser) Next() (*Message, error) {
	f, err := p.NextFrame()
	if f == nil {
		return nil, err
	}
	m := &p.msg
	clear(m.Headers)
	m.Kind, m.Banner, m.Output = f.Kind, f.Banner, f.Output
	m.Headers = f.AppendHeaders(m.Headers[:0])
	return m, nil
}

// NextFrame is Next returning the compact form: a *Frame whose headers are
// offsets into one string (see Frame). It is the cheaper of the two, and
// what a client that keeps only some headers should use. Same contract as
// Next; the Frame is valid until the next call to Next, NextFrame or Reset.
func (p *Parser) NextFrame() (*Frame, error) {
	p.init()
	for {
		var (
			f     *Frame
			err   error
			again bool
		)
		switch p.mode {
		case modeFrame:
			f, err, again = p.stepFrame()
		case modeFollows:
			f, err, again = p.stepFollows()
		case modeSkipFrame:
			f, err, again = p.stepSkipFrame()
		default:
			f, err, again = p.stepSkipFollows()
		}
		if f != nil || err != nil || !again {
			if p.r == len(p.buf) {
				// Everything consumed: rewind for free instead of compacting later.
				p.buf = p.buf[:0]
				p.r = 0
				p.lf.reset()
			}
			return f, err
		}
	}
}

// consume drops n bytes from the front of the unread data.
func (p *Parser) consume(n int) {
	p.r += n
	p.seen = 0
	p.lf.shift(n)
}

// resetFrame clears the state of the frame being scanned.
func (p *Parser) resetFrame() {
	p.scan = 0
	p.seen = 0
	p.spans = p.spans[:0]
	p.kind = KindUnknown
	p.kindSet = false
	p.actionIdx = -1
	p.outSum = 0
	p.followsHdr = false
}

// partialActionID returns the ActionID of the frame being scanned, if seen.
func (p *Parser) partialActionID(frame []byte) string {
	if p.actionIdx < 0 {
		return ""
	}
	s := p.spans[p.actionIdx]
	return string(frame[s.vs:s.ve])
}

// protocolError counts and builds a discard report.
func (p *Parser) protocolError(sentinel error, actionID string, size int, detail string) *ProtocolError {
	switch sentinel {
	case ErrDesync:
		p.stats.Desyncs++
	case ErrFrameTooLarge:
		p.stats.Oversized++
	case ErrOutputTooLarge:
		p.stats.OutputTooLarge++
	}
	p.stats.DiscardedBytes += uint64(size)
	return &ProtocolError{Err: sentinel, ActionID: actionID, Size: size, Detail: detail}
}
