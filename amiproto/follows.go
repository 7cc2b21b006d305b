package amiproto

import (
	"bytes"
	"strconv"
)

// endMarker ends the raw output of a legacy "Response: Follows" reply.
const endMarker = "--END COMMAND--"

// markerTail is how many trailing bytes of a partial line must be kept to
// recognise the end marker once the line completes ("\r" + marker).
const markerTail = len(endMarker) + 1

// followsHeaderLine handles a line of the header part of a "Response:
// Follows" reply. Privilege, ActionID and Message lines before the first raw
// line are headers; any other line starts the raw output. It reports
// again=true when it switched to modeFollows.
func (p *Parser) followsHeaderLine(b []byte, start int, line []byte) (*Frame, bool) {
	if !bytes.HasSuffix(line, []byte(endMarker)) {
		if colon, detail := keyEnd(line); detail == "" {
			key := line[:colon]
			isID := equalFoldBytes(key, "actionid")
			if isID || equalFoldBytes(key, "privilege") || equalFoldBytes(key, "message") {
				vs := colon + 1
				if vs < len(line) && line[vs] == ' ' {
					vs++
				}
				if isID && p.actionIdx < 0 {
					p.actionIdx = len(p.spans)
				}
				p.spans = append(p.spans, span{int32(start), int32(start + colon), int32(start + vs), int32(start + len(line))})
				return nil, false
			}
		}
	}
	// First raw line (or the end marker): the headers are complete. The
	// line itself is left for stepFollows.
	m := &p.fr
	m.Kind = KindFollows
	m.Output = m.Output[:0]
	m.Banner = ""
	p.setText(m, string(b[:start]))
	p.skipActionID = m.ActionID()
	p.replySize = start
	p.outBytes = 0
	p.consume(start)
	p.resetFrame()
	p.mode = modeFollows
	return nil, true
}

// stepFollows collects raw output lines until the end marker.
func (p *Parser) stepFollows() (*Frame, error, bool) {
	limit := p.lim.MaxFrameSize
	maxOut := p.lim.MaxOutputSize
	for {
		b := p.buf[p.r:]
		i := bytes.IndexByte(b[p.seen:], '\n')
		if i < 0 {
			// A partial line: give up early when it cannot fit any more.
			if len(b) >= limit || p.outBytes+len(b)-markerTail > maxOut {
				return p.startSkipFollows()
			}
			p.seen = len(b)
			return nil, nil, false
		}
		end := p.seen + i + 1
		line := b[:end-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if end > limit {
			return p.startSkipFollows()
		}
		marker := bytes.HasSuffix(line, []byte(endMarker))
		if marker {
			line = line[:len(line)-len(endMarker)]
		}
		if p.outBytes+len(line) > maxOut {
			return p.startSkipFollows()
		}
		m := &p.fr
		if !marker || len(line) > 0 {
			m.Output = append(m.Output, string(line))
			p.outBytes += len(line)
		}
		p.replySize += end
		p.consume(end)
		if marker {
			p.mode = modeFrame
			p.skipActionID = ""
			p.stats.Frames++
			return m, nil, false
		}
	}
}

// startSkipFollows switches to discarding the rest of a legacy reply whose
// output is over the limits. The unread data starts at a line start.
func (p *Parser) startSkipFollows() (*Frame, error, bool) {
	p.skipSize = p.replySize
	p.mode = modeSkipFollows
	p.fr.reset()
	return nil, nil, true
}

// stepSkipFollows discards lines up to the end marker, keeping only the tail
// of a partial line needed to recognise the marker.
func (p *Parser) stepSkipFollows() (*Frame, error, bool) {
	for {
		b := p.buf[p.r:]
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if n := len(b) - markerTail; n > 0 {
				p.skipSize += n
				p.consume(n)
			}
			return nil, nil, false
		}
		line := b[:i]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		marker := bytes.HasSuffix(line, []byte(endMarker))
		p.skipSize += i + 1
		p.consume(i + 1)
		if marker {
			p.mode = modeFrame
			id := p.skipActionID
			p.skipActionID = ""
			return nil, p.protocolError(ErrOutputTooLarge, id, p.skipSize,
				"legacy Command output exceeds MaxOutputSize="+strconv.Itoa(p.lim.MaxOutputSize)+
					" or has a line longer than MaxFrameSize="+strconv.Itoa(p.lim.MaxFrameSize)), false
		}
	}
}
