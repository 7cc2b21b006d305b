package amitest

import (
	"strconv"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// Originate outcomes, as in the Reason header of OriginateResponse.
const (
	reasonFailure    = 0
	reasonNoAnswer   = 3
	reasonAnswered   = 4
	reasonBusy       = 5
	reasonCongestion = 8
)

// hangup causes (Q.850) and their Asterisk texts.
var causeText = map[int]string{
	0:  "Unknown",
	1:  "Unallocated (unassigned) number",
	16: "Normal Clearing",
	17: "User busy",
	19: "User alerting, no answer",
	34: "Circuit/channel congestion",
}

// reasonCause maps a failed originate reason to a hangup cause.
func reasonCause(reason int) (cause int, dialStatus string) {
	switch reason {
	case reasonBusy:
		return 17, "BUSY"
	case reasonNoAnswer:
		return 19, "NOANSWER"
	case reasonCongestion:
		return 34, "CONGESTION"
	}
	return 1, "CHANUNAVAIL"
}

// callRun drives the events of one simulated call. Once the server closes
// it goes silent: every later emit is a no-op.
type callRun struct {
	s       *Server
	p       *pbx
	c       *call
	done    <-chan struct{}
	stopped bool
}

func (s *Server) newCallRun(done <-chan struct{}) *callRun {
	return &callRun{s: s, p: s.pbx, c: s.pbx.newCall(), done: done}
}

// finish forgets the call.
func (r *callRun) finish() { r.p.endCall(r.c) }

// emit broadcasts one event made of name, privilege and header groups, then
// pauses Options.CallStep.
func (r *callRun) emit(name, priv string, groups ...[]amiproto.Header) {
	if r.stopped {
		return
	}
	hs := []amiproto.Header{H("Event", name), H("Privilege", priv)}
	for _, g := range groups {
		hs = append(hs, g...)
	}
	r.s.Broadcast(hs...)
	if !sleep(r.s.opts.CallStep, r.done) {
		r.stopped = true
	}
}

// chanEvent emits an event about ch with extra headers after its snapshot.
func (r *callRun) chanEvent(name, priv string, ch *channel, extra ...amiproto.Header) {
	if r.stopped {
		return
	}
	r.emit(name, priv, r.p.snapshot("", ch), extra)
}

// setState changes the state of ch and emits Newstate.
func (r *callRun) setState(ch *channel, state int) {
	r.p.update(ch, func(ch *channel) { ch.state = state })
	r.chanEvent("Newstate", "call,all", ch)
}

// hangup emits Hangup for ch and removes it.
func (r *callRun) hangup(ch *channel, cause int) {
	r.p.mu.Lock()
	ch.hungUp, ch.hangCause = true, cause
	hs := ch.headersLocked("")
	delete(r.p.channels, ch.name)
	r.p.mu.Unlock()
	if r.stopped {
		return
	}
	r.emit("Hangup", "call,all", hs, []amiproto.Header{
		H("Cause", strconv.Itoa(cause)), H("Cause-txt", causeText[cause]),
	})
}

// deviceState emits DeviceStateChange.
func (r *callRun) deviceState(device, state string) {
	r.emit("DeviceStateChange", "call,all", []amiproto.Header{H("Device", device), H("State", state)})
}

// wait pauses for d, or less if the call is hung up by a Hangup action.
// It reports whether the call was hung up that way.
func (r *callRun) wait(d time.Duration) (hungUp bool) {
	if r.stopped {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-r.c.hangup:
		return true
	case <-r.done:
		r.stopped = true
		return false
	}
}

// varSet emits VarSet for every variable and stores it on ch.
func (r *callRun) varSet(ch *channel, vars [][2]string) {
	for _, kv := range vars {
		r.p.update(ch, func(ch *channel) { ch.vars[kv[0]] = kv[1] })
		r.chanEvent("VarSet", "dialplan,all", ch, H("Variable", kv[0]), H("Value", kv[1]))
	}
}
