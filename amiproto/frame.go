package amiproto

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
)

// stepFrame scans header lines of the current frame. It returns a message,
// a discard report, or again=true when the mode changed.
//
// This is the hot path: it keeps the scan position in a local (written
// back only when it returns for more bytes; every other exit resets the
// frame) and asks the parser's lineFinder for the end of each line and of
// each key (lines.go, lines_amd64.go), through its inlined fast path first.
func (p *Parser) stepFrame() (*Frame, error, bool) {
	b := p.buf[p.r:]
	limit := p.lim.MaxFrameSize
	scan := p.scan
	lf := &p.lf
	for {
		start := scan
		nl, ok := lf.nextLine(start)
		if !ok {
			// Bytes before p.seen are known to hold no '\n'.
			nl = lf.lineEnd(b, max(start, p.seen))
		}
		if nl < 0 {
			p.scan = scan
			if len(b) >= limit {
				// The line in progress ends beyond the limit: oversized.
				return p.startSkipFrame(b, len(b), scan)
			}
			p.seen = len(b)
			return nil, nil, false
		}
		end := nl + 1
		if end > limit {
			p.scan = scan
			return p.oversizedAtLine(b, start, end)
		}
		lineEnd := nl
		if lineEnd > start && b[lineEnd-1] == '\r' {
			lineEnd--
		}
		scan = end

		if p.followsHdr {
			if m, again := p.followsHeaderLine(b, start, b[start:lineEnd]); m != nil || again {
				return m, nil, again
			}
			continue
		}

		if lineEnd == start {
			if len(p.spans) == 0 {
				// Stray empty line between frames (or the second half of a
				// "\r\n\n" style delimiter): skip it.
				p.consume(end)
				b = b[end:]
				scan = 0
				continue
			}
			return p.finishFrame(b, start, end)
		}

		if !p.bannerDone {
			p.bannerDone = true
			if len(p.spans) == 0 && isBanner(b[start:lineEnd]) {
				m := &p.fr
				m.Kind = KindBanner
				m.text = ""
				m.spans = m.spans[:0]
				m.Output = m.Output[:0]
				m.Banner = string(b[start:lineEnd])
				p.consume(end)
				p.resetFrame()
				p.stats.Frames++
				return m, nil, false
			}
		}

		colon, ok := lf.nextKey(start)
		if !ok {
			colon = lf.keyEnd(b, start)
		}
		if colon == start || b[colon] != ':' {
			return p.desync(b, end, garbageDetail(b[start:lineEnd]))
		}
		p.inRun = false
		vs := colon + 1
		if vs < lineEnd && b[vs] == ' ' {
			vs++
		}
		p.spans = append(p.spans, span{int32(start), int32(colon), int32(vs), int32(lineEnd)})
		switch colon - start {
		case 5, 6, 8:
			p.kindHeader(b[start:colon], b[vs:lineEnd])
		}
	}
}

// kindHeader looks at a header whose key has the length of Event, Action,
// Output, ActionID or Response, the keys that drive the frame state. The
// header was just appended to p.spans.
func (p *Parser) kindHeader(key, value []byte) {
	switch len(key) {
	case 5:
		if !p.kindSet && equalFoldBytes(key, "event") {
			p.kind, p.kindSet = KindEvent, true
		}
	case 6:
		if equalFoldBytes(key, "output") {
			p.outSum += len(value)
		} else if !p.kindSet && equalFoldBytes(key, "action") {
			p.kind, p.kindSet = KindAction, true
		}
	case 8:
		if equalFoldBytes(key, "actionid") {
			if p.actionIdx < 0 {
				p.actionIdx = len(p.spans) - 1
			}
		} else if !p.kindSet && equalFoldBytes(key, "response") {
			p.kind, p.kindSet = KindResponse, true
			if equalFoldBytes(value, "follows") {
				p.kind = KindFollows
				p.followsHdr = true
			}
		}
	}
}

// skipKey returns the index of the first byte of b at or after i that is not
// a key byte, or len(b). It tests 8 bytes at a time.
func skipKey(b []byte, i int) int {
	for i+8 <= len(b) {
		if bad := notKeyBytes(binary.LittleEndian.Uint64(b[i:])); bad != 0 {
			// The lowest flag is exact (see notKeyBytes).
			return i + bits.TrailingZeros64(bad)>>3
		}
		i += 8
	}
	for i < len(b) && keyByte[b[i]] {
		i++
	}
	return i
}

// notKeyBytes tests the 8 bytes packed little-endian in x at once: the high
// bit of byte i of the result is set when byte i is not a key byte (below
// 0x21, above 0x7e, or ':'). Borrows and carries only move upwards, so the
// lowest flag is exact while higher ones may be spurious.
func notKeyBytes(x uint64) uint64 {
	const (
		lsb   = 0x0101010101010101
		msb   = 0x8080808080808080
		colon = ':' * lsb
	)
	low := (x - 0x21*lsb) &^ x & msb          // some byte < 0x21
	high := ((x + (0x7f-0x7e)*lsb) | x) & msb // some byte > 0x7e (0x80 and up included)
	y := x ^ colon
	col := (y - lsb) &^ y & msb // some byte == ':'
	return low | high | col
}

// keyByte marks the bytes allowed in a header key: printable ASCII except
// ':'. CR and LF are not allowed, so a key scan never leaves its line.
var keyByte = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = c != ':'
	}
	return t
}()

// keyEnd returns the index of the colon ending the key of line, or a
// description of why line is not "Key: Value" shaped.
func keyEnd(line []byte) (int, string) {
	colon := skipKey(line, 0)
	if colon == 0 || colon == len(line) || line[colon] != ':' {
		return 0, garbageDetail(line)
	}
	return colon, ""
}

// garbageDetail says why line is not "Key: Value" shaped (without quoting it).
func garbageDetail(line []byte) string {
	for j, c := range line {
		if c == ':' {
			if j == 0 {
				return "line with an empty key"
			}
			break
		}
		if !keyByte[c] {
			return "line with an invalid byte in the key"
		}
	}
	return "line without a colon"
}

// isBanner reports whether line is an Asterisk greeting such as
// "Asterisk Call Manager/13.0.0".
func isBanner(line []byte) bool {
	return bytes.HasPrefix(line, []byte("Asterisk ")) &&
		bytes.IndexByte(line, '/') >= 0 &&
		!bytes.Contains(line, []byte(": "))
}

// setText gives f the frame's bytes as one string and takes the scanned
// spans (the parser's scratch slice is swapped, not copied).
func (p *Parser) setText(f *Frame, s string) {
	f.text = s
	f.spans, p.spans = p.spans, f.spans[:0]
}

// finishFrame completes a frame whose empty line spans b[start:end].
func (p *Parser) finishFrame(b []byte, start, end int) (*Frame, error, bool) {
	if p.outSum > p.lim.MaxOutputSize && p.kind == KindResponse {
		id := p.partialActionID(b)
		p.consume(end)
		p.resetFrame()
		return nil, p.protocolError(ErrOutputTooLarge, id, end,
			"Output headers exceed MaxOutputSize="+strconv.Itoa(p.lim.MaxOutputSize)), false
	}
	m := &p.fr
	m.Kind = p.kind
	m.Output = m.Output[:0]
	m.Banner = ""
	p.setText(m, string(b[:start]))
	p.consume(end)
	p.resetFrame()
	p.stats.Frames++
	return m, nil, false
}

// desync drops the partial frame and the garbage line ending at end.
func (p *Parser) desync(b []byte, end int, detail string) (*Frame, error, bool) {
	id := p.partialActionID(b)
	p.consume(end)
	p.resetFrame()
	if p.inRun {
		// Same run of garbage: already reported.
		p.stats.DiscardedBytes += uint64(end)
		return nil, nil, true
	}
	p.inRun = true
	return nil, p.protocolError(ErrDesync, id, end, detail), false
}

// oversizedAtLine handles a complete line b[start:end] that ends beyond
// MaxFrameSize.
func (p *Parser) oversizedAtLine(b []byte, start, end int) (*Frame, error, bool) {
	line := b[start:end]
	if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
		// The frame's own empty line: the oversized frame ends here.
		id := p.partialActionID(b)
		p.consume(end)
		p.resetFrame()
		p.inRun = false
		return nil, p.frameTooLarge(id, end), false
	}
	return p.startSkipFrame(b, end, end)
}

// startSkipFrame discards the first n bytes of an oversized frame (the
// partial line, if any, starts at lineStart) and switches to modeSkipFrame.
func (p *Parser) startSkipFrame(b []byte, n, lineStart int) (*Frame, error, bool) {
	p.skipActionID = p.partialActionID(b)
	p.skipSize = n
	p.skipLine = n - lineStart
	p.skipLineCR = p.skipLine == 1 && b[lineStart] == '\r'
	p.consume(n)
	p.resetFrame()
	p.inRun = false
	p.mode = modeSkipFrame
	return nil, nil, true
}

// stepSkipFrame discards bytes up to the next empty line without buffering.
func (p *Parser) stepSkipFrame() (*Frame, error, bool) {
	for {
		b := p.buf[p.r:]
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(b) > 0 {
				p.skipLineCR = p.skipLine == 0 && len(b) == 1 && b[0] == '\r'
				p.skipLine += len(b)
				p.skipSize += len(b)
				p.consume(len(b))
			}
			return nil, nil, false
		}
		total := p.skipLine + i
		empty := total == 0 ||
			(total == 1 && ((i == 1 && b[0] == '\r') || (i == 0 && p.skipLineCR)))
		p.skipSize += i + 1
		p.consume(i + 1)
		p.skipLine = 0
		p.skipLineCR = false
		if empty {
			p.mode = modeFrame
			id := p.skipActionID
			p.skipActionID = ""
			return nil, p.frameTooLarge(id, p.skipSize), false
		}
	}
}

func (p *Parser) frameTooLarge(actionID string, size int) error {
	return p.protocolError(ErrFrameTooLarge, actionID, size,
		"no end of frame within MaxFrameSize="+strconv.Itoa(p.lim.MaxFrameSize))
}
