package ami

import (
	"errors"
	"strings"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// readFrames moves bytes from the session's inbox through the parser, within
// the per-tick byte and frame budgets, and routes every message.
func (c *Client) readFrames(now time.Time, sum *TickSummary) {
	c.moreInput = false
	sess := c.sess
	if sess == nil {
		return
	}
	budgetBytes, budgetFrames := c.opts.MaxBytesReadPerTick, c.opts.MaxFramesPerTick
	bytes, frames := 0, 0
	defer func() {
		// Also when a frame ended the connection: its bytes were read.
		if bytes > 0 {
			c.lastRead = now
			sum.BytesRead += int64(bytes)
			c.st.bytesRead.Add(uint64(bytes))
		}
	}()
	for frames < budgetFrames {
		msg, err := c.parser.NextFrame()
		if err != nil {
			frames++
			c.protocolError(err, now, sum)
			if c.sess != sess {
				return
			}
			continue
		}
		if msg != nil {
			frames++
			sum.Frames++
			c.route(msg, now, sum)
			if c.sess != sess {
				return // the message ended the connection (Goodbye, auth failure)
			}
			continue
		}
		// The parser needs more bytes.
		if len(c.carry) > 0 {
			n, _ := c.parser.Write(c.carry)
			c.carry = c.carry[:copy(c.carry, c.carry[n:])]
			if n == 0 {
				break // cannot happen with a drained parser; never spin
			}
			continue
		}
		if bytes >= budgetBytes {
			break
		}
		chunk, ok := sess.TryRead()
		if !ok {
			break
		}
		bytes += len(chunk)
		n, _ := c.parser.Write(chunk)
		if n < len(chunk) {
			c.carry = append(c.carry, chunk[n:]...)
		}
		sess.Release(chunk)
	}
	c.moreInput = frames >= budgetFrames || bytes >= budgetBytes || len(c.carry) > 0 || sess.InboxLen() > 0
}

func (c *Client) protocolError(err error, now time.Time, sum *TickSummary) {
	var pe *amiproto.ProtocolError
	if !errors.As(err, &pe) {
		return
	}
	c.st.protoErrs.Add(1)
	switch {
	case errors.Is(err, amiproto.ErrDesync):
		c.st.desyncs.Add(1)
		c.m.metrics.ProtocolError(c.key, "desync")
		c.log.Warn("ami: protocol desync: garbage discarded", "bytes", pe.Size, "detail", pe.Detail)
		c.desyncs = append(c.desyncs, now)
		cut := 0
		for cut < len(c.desyncs) && now.Sub(c.desyncs[cut]) > desyncWindow {
			cut++
		}
		c.desyncs = c.desyncs[:copy(c.desyncs, c.desyncs[cut:])]
		if len(c.desyncs) >= desyncLimit {
			c.desyncs = c.desyncs[:0]
			c.fail(now, sum, errDesync, "protocol")
		}
		return
	case errors.Is(err, amiproto.ErrFrameTooLarge):
		c.m.metrics.ProtocolError(c.key, "frame_too_large")
	case errors.Is(err, amiproto.ErrOutputTooLarge):
		c.m.metrics.ProtocolError(c.key, "output_too_large")
	}
	c.log.Warn("ami: frame discarded", "action_id", pe.ActionID, "bytes", pe.Size, "error", err.Error())
	if pe.ActionID != "" {
		if p := c.take(pe.ActionID); p != nil {
			c.finish(p, nil, &ProtocolError{Server: c.key, ActionID: p.actionID, Err: err}, now, sum, "protocol")
		}
	}
}

// lookup returns the pending action with this ActionID, if any.
func (c *Client) lookup(id string) *Pending {
	if id == "" {
		return nil
	}
	c.mu.Lock()
	p := c.pending[id]
	c.mu.Unlock()
	return p
}

// take removes and returns the pending action with this ActionID.
func (c *Client) take(id string) *Pending {
	c.mu.Lock()
	p := c.pending[id]
	if p != nil {
		delete(c.pending, id)
	}
	c.mu.Unlock()
	return p
}

func (c *Client) route(msg *amiproto.Frame, now time.Time, sum *TickSummary) {
	switch msg.Kind {
	case amiproto.KindBanner:
		c.onBanner(msg.Banner, now, sum)
	case amiproto.KindResponse, amiproto.KindFollows:
		c.onResponse(msg, now, sum)
	case amiproto.KindEvent:
		c.onEvent(msg, now, sum)
	default:
		c.unmatched(msg, "frame without Response or Event")
	}
}

// unmatched counts a frame that resolves nothing (typically the late answer
// to an action that already timed out) and logs it, at most once a second
// per server with the number of others suppressed.
func (c *Client) unmatched(msg *amiproto.Frame, why string) {
	c.st.unmatched.Add(1)
	c.m.metrics.ProtocolError(c.key, "unmatched")
	if c.unmatchedLog.allow(c.m.tickNow) {
		c.log.Warn("ami: unmatched frame", "action_id", msg.ActionID(), "reason", why,
			"response", msg.Get("Response"), "message", msg.Get("Message"),
			"suppressed", c.unmatchedLog.take(), "unmatched_total", c.st.unmatched.Load())
	}
}

// headersOf materialises a frame's headers (responses, list completions:
// not the event hot path, where events keep the compact Frame).
func headersOf(f *amiproto.Frame) Headers {
	return f.AppendHeaders(make(Headers, 0, f.Len()))
}

func (c *Client) onResponse(msg *amiproto.Frame, now time.Time, sum *TickSummary) {
	id := msg.ActionID()
	p := c.lookup(id)
	if p == nil {
		c.unmatched(msg, "unknown ActionID")
		return
	}
	resp := headersOf(msg)
	response := msg.Get("Response")
	var output []string
	if msg.Kind == amiproto.KindFollows {
		output = append([]string(nil), msg.Output...)
	} else if p.completion == CompleteOnCommandOutput || strings.EqualFold(p.action, "Command") {
		output = resp.Values("Output")
	}
	if strings.EqualFold(response, "Error") {
		c.take(id)
		if output == nil {
			output = resp.Values("Output")
		}
		c.finish(p, nil, &ActionError{Server: c.key, Action: p.action, ActionID: id, Response: response,
			Message: msg.Get("Message"), Output: output, Headers: resp}, now, sum, "error")
		return
	}
	if strings.EqualFold(response, "Goodbye") {
		c.take(id)
		c.finish(p, c.result(p, resp, output), nil, now, sum, "success")
		return
	}
	switch p.completion {
	case CompleteOnOriginateResponse:
		p.responded = true
		p.resp = resp
		if p.origEvent != nil {
			c.completeOriginate(p, p.origEvent, now, sum)
		}
		return
	case CompleteOnEventList:
		p.responded, p.collecting, p.resp = true, true, resp
		return
	}
	if strings.EqualFold(msg.Get("EventList"), "start") {
		p.responded, p.collecting, p.resp = true, true, resp
		return
	}
	c.take(id)
	c.finish(p, c.result(p, resp, output), nil, now, sum, "success")
}

func (c *Client) result(p *Pending, resp Headers, output []string) *Result {
	return &Result{Server: c.key, ActionID: p.actionID, Action: p.action, Response: resp, Output: output}
}

func (c *Client) newEvent(msg *amiproto.Frame, now time.Time) *Event {
	ev := &Event{server: c.key, receivedAt: now}
	msg.CopyTo(&ev.frame)
	ev.name = ev.frame.Name()
	return ev
}

func isListComplete(msg *amiproto.Frame) bool {
	if v, ok := msg.Lookup("EventList"); ok {
		return strings.EqualFold(v, "Complete")
	}
	return strings.HasSuffix(msg.Name(), "Complete")
}

func (c *Client) onEvent(msg *amiproto.Frame, now time.Time, sum *TickSummary) {
	if p := c.lookup(msg.ActionID()); p != nil {
		switch {
		case p.collecting || p.completion == CompleteOnEventList:
			// Items of an event list go to their action only.
			if isListComplete(msg) {
				c.take(p.actionID)
				res := c.result(p, p.resp, nil)
				res.Events, res.Complete = p.events, headersOf(msg)
				if p.listDrops > 0 {
					c.finish(p, res, &ProtocolError{Server: c.key, ActionID: p.actionID, Err: ErrListTooLong}, now, sum, "protocol")
				} else {
					c.finish(p, res, nil, now, sum, "success")
				}
				return
			}
			if len(p.events) < c.opts.MaxListEvents {
				p.events = append(p.events, c.newEvent(msg, now))
			} else {
				p.listDrops++
			}
			return
		case p.completion == CompleteOnOriginateResponse && strings.EqualFold(msg.Name(), "OriginateResponse"):
			ev := c.newEvent(msg, now)
			if p.responded {
				c.completeOriginate(p, ev, now, sum)
			} else {
				p.origEvent = ev
			}
			c.enqueue(ev, now)
			return
		}
	}
	c.enqueue(c.newEvent(msg, now), now)
}

func (c *Client) completeOriginate(p *Pending, ev *Event, now time.Time, sum *TickSummary) {
	c.take(p.actionID)
	res := c.result(p, p.resp, nil)
	res.Events = []*Event{ev}
	if r := ev.Get("Response"); !strings.EqualFold(r, "Success") {
		c.finish(p, res, &ActionError{Server: c.key, Action: p.action, ActionID: p.actionID, Response: r,
			Message: "originate failed: reason " + ev.Get("Reason"), Headers: ev.Headers()}, now, sum, "error")
		return
	}
	c.finish(p, res, nil, now, sum, "success")
}

// enqueue puts an event on the server's bounded queue; when full the oldest
// is dropped and counted. Events are queued while Ready (and while closing,
// so that what arrives before the Goodbye is still delivered): listeners
// never see a half-open session. Events before login are counted apart.
func (c *Client) enqueue(ev *Event, now time.Time) {
	if st := c.State(); st != StateReady && st != StateClosing {
		c.st.preReadyEvents.Add(1)
		return
	}
	c.st.eventsReceived.Add(1)
	c.m.metrics.EventReceived(c.key, ev.name)
	if _, dropped := c.queue.Push(ev); dropped {
		c.st.eventsDropped.Add(1)
		c.dropSinceWarn++
		c.m.metrics.EventsDropped(c.key, 1)
		c.maybeWarnDrops(now)
	}
}

// maybeWarnDrops logs at most DropWarnMax coalesced warnings per
// DropWarnInterval; the counters stay exact and the deltas add up.
func (c *Client) maybeWarnDrops(now time.Time) {
	if c.dropSinceWarn == 0 {
		return
	}
	if now.Sub(c.warnWindow) >= c.opts.DropWarnInterval {
		c.warnWindow = now
		c.warnsInWindow = 0
	}
	if c.warnsInWindow >= c.opts.DropWarnMax {
		return
	}
	c.warnsInWindow++
	c.warnDrops()
}

func (c *Client) warnDrops() {
	delta := c.dropSinceWarn
	c.dropSinceWarn = 0
	c.st.dropWarnedTotal.Add(delta)
	c.log.Warn("ami: events dropped", "dropped_delta", delta, "dropped_total", c.st.eventsDropped.Load(), "queue_depth", c.queue.Len())
}

// flushDropWarning reports any drop not yet reported, ignoring the limit.
func (c *Client) flushDropWarning(time.Time) {
	if c.dropSinceWarn > 0 {
		c.warnDrops()
	}
}

// dispatch hands up to MaxEventsPerTick queued events to the listeners.
func (c *Client) dispatch(sum *TickSummary) {
	n := c.opts.MaxEventsPerTick
	msubs := c.m.subs.load()
	csubs := c.subs.load()
	for ; n > 0; n-- {
		ev, ok := c.queue.Pop()
		if !ok {
			return
		}
		c.st.eventsDispatched.Add(1)
		sum.EventsDispatched++
		c.deliver(ev, msubs)
		c.deliver(ev, csubs)
	}
}

func (c *Client) deliver(ev *Event, subs []*Subscription) {
	for _, s := range subs {
		if !s.filter.match(ev) {
			continue
		}
		c.call(s.h, ev)
	}
}

func (c *Client) call(h EventHandler, ev *Event) {
	defer func() {
		if r := recover(); r != nil {
			c.st.listenerPanics.Add(1)
			c.m.logPanic(c, "ami: event handler panicked", r)
		}
	}()
	h(ev)
}
