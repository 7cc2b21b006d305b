package amitest

import (
	"strings"

	"github.com/apntalk/ami/amiproto"
)

// knownTechs are the channel technologies the fake PBX can dial; any other
// fails like "Bogus/whatever" does on a real Asterisk.
var knownTechs = map[string]bool{"local": true, "pjsip": true, "sip": true, "iax2": true, "dahdi": true}

// originateSpec is a parsed Originate action.
type originateSpec struct {
	actionID string
	hasID    bool
	dial     string // the Channel header as sent
	tech     string
	resource string
	app      string
	data     string
	context  string
	exten    string
	priority string
	cidNum   string
	cidName  string
	vars     [][2]string
	reason   int
	async    bool // send OriginateResponse
}

func parseOriginate(m *amiproto.Message) (*originateSpec, string) {
	dial := m.Get("Channel")
	if dial == "" {
		return nil, "Channel not specified"
	}
	tech, resource, ok := strings.Cut(dial, "/")
	if !ok || tech == "" || resource == "" {
		return nil, "Invalid channel"
	}
	sp := &originateSpec{
		dial: dial, tech: tech, resource: resource,
		app: m.Get("Application"), data: m.Get("Data"),
		context: m.Get("Context"), exten: m.Get("Exten"), priority: m.Get("Priority"),
		async: isTrue(m.Get("Async")),
	}
	sp.actionID, sp.hasID = m.Lookup("ActionID")
	if sp.app == "" {
		if sp.context == "" {
			sp.context = "default"
		}
		if sp.exten == "" {
			sp.exten = "s"
		}
		if sp.priority == "" {
			sp.priority = "1"
		}
	}
	sp.cidName, sp.cidNum = parseCallerID(m.Get("CallerID"))
	for _, v := range m.Values("Variable") {
		for kv := range strings.SplitSeq(v, ",") {
			if k, val, ok := strings.Cut(kv, "="); ok && k != "" {
				sp.vars = append(sp.vars, [2]string{strings.TrimSpace(k), val})
			}
		}
	}
	sp.reason = outcome(tech, resource)
	return sp, ""
}

// outcome decides how a dial ends from the dialled resource: an unknown
// technology or an extension containing "fail" or "nosuch" fails (Reason
// 0), "busy" is busy (5), "noanswer" is not answered (3), "congestion" is
// congested (8); anything else answers (4).
func outcome(tech, resource string) int {
	if !knownTechs[strings.ToLower(tech)] {
		return reasonFailure
	}
	r := strings.ToLower(resource)
	switch {
	case strings.Contains(r, "fail"), strings.Contains(r, "nosuch"):
		return reasonFailure
	case strings.Contains(r, "busy"):
		return reasonBusy
	case strings.Contains(r, "noanswer"):
		return reasonNoAnswer
	case strings.Contains(r, "congestion"):
		return reasonCongestion
	}
	return reasonAnswered
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "y", "t", "1", "on":
		return true
	}
	return false
}

// parseCallerID splits `"Name" <number>` or a bare number or name.
func parseCallerID(v string) (name, num string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", ""
	}
	if i := strings.IndexByte(v, '<'); i >= 0 {
		name = strings.Trim(strings.TrimSpace(v[:i]), `"`)
		num, _, _ = strings.Cut(v[i+1:], ">")
		return name, strings.TrimSpace(num)
	}
	if strings.Trim(v, "+0123456789*#") == "" {
		return "", v
	}
	return v, ""
}

// actionOriginate answers Originate: with Async the response comes at once
// and the call's fate arrives later in OriginateResponse (same ActionID);
// without it the response waits for the answer ("Originate failed" if the
// call is not answered) and no OriginateResponse is sent. The call's events
// are broadcast to every connection whose event mask has the call class.
func actionOriginate(w *ResponseWriter, r *Request) {
	sp, msg := parseOriginate(r.Action)
	if msg != "" {
		w.Error(msg)
		return
	}
	s := w.c.s
	if sp.async {
		w.Success(H("Message", "Originate successfully queued"))
		s.goFunc(func(done <-chan struct{}) { s.runOriginate(done, sp) })
		return
	}
	// Synchronous: the session blocks until the far end answers or fails.
	if !sleep(4*s.opts.CallStep, w.c.done) {
		return
	}
	if sp.reason != reasonAnswered {
		w.Error("Originate failed")
	} else {
		w.Success(H("Message", "Originate successfully queued"))
	}
	s.goFunc(func(done <-chan struct{}) { s.runOriginate(done, sp) })
}

// runOriginate plays the events of an originated call.
func (s *Server) runOriginate(done <-chan struct{}, sp *originateSpec) {
	r := s.newCallRun(done)
	defer r.finish()
	switch {
	case !knownTechs[strings.ToLower(sp.tech)]:
		r.emit("OriginateResponse", "call,all", sp.response(nil, r.p))
	case strings.EqualFold(sp.tech, "Local"):
		r.originateLocal(sp)
	default:
		r.originateDirect(sp)
	}
}

// response builds the OriginateResponse headers; ch is the answered channel,
// nil on failure.
func (sp *originateSpec) response(ch *channel, p *pbx) []amiproto.Header {
	var hs []amiproto.Header
	if sp.hasID {
		hs = append(hs, H("ActionID", sp.actionID))
	}
	result, name, uid := "Failure", sp.dial, "<unknown>"
	if ch != nil {
		p.mu.Lock()
		result, name, uid = "Success", ch.name, ch.uniqueid
		p.mu.Unlock()
	}
	hs = append(hs, H("Response", result), H("Channel", name))
	if sp.app != "" {
		hs = append(hs, H("Application", sp.app), H("Data", sp.data))
	} else {
		hs = append(hs, H("Context", sp.context), H("Exten", sp.exten))
	}
	reason := sp.reason
	if ch == nil && reason == reasonAnswered {
		reason = reasonFailure
	}
	return append(hs, H("Reason", itoa(reason)), H("Uniqueid", uid),
		H("CallerIDNum", orUnknown(sp.cidNum)), H("CallerIDName", orUnknown(sp.cidName)))
}

// originateResponse emits OriginateResponse for async originates only.
func (r *callRun) originateResponse(sp *originateSpec, ch *channel) {
	if sp.async {
		r.emit("OriginateResponse", "call,all", sp.response(ch, r.p))
	}
}

// originateLocal plays a Local channel pair, as in the originate_async and
// originate_failure captures.
func (r *callRun) originateLocal(sp *originateSpec) {
	res, _, _ := strings.Cut(sp.resource, "/") // drop Local options (/n)
	exten, context, ok := strings.Cut(res, "@")
	if !ok {
		context = "default"
	}
	base := "Local/" + res + "-" + r.p.nextSuffix()
	one := r.p.addChannel(r.c, base+";1", 0, context, exten, nil)
	two := r.p.addChannel(r.c, base+";2", 4, context, exten, one)
	for _, ch := range []*channel{one, two} {
		r.p.update(ch, func(ch *channel) { ch.cidNum, ch.cidName = sp.cidNum, sp.cidName })
	}
	r.chanEvent("Newchannel", "call,all", one)
	r.chanEvent("Newchannel", "call,all", two)
	r.varSet(one, sp.vars)
	r.varSet(two, sp.vars)
	r.chanEvent("Newexten", "dialplan,all", one,
		H("Extension", exten), H("Application", "AppDial2"), H("AppData", "(Outgoing Line)"))
	device := "Local/" + res
	if sp.reason == reasonFailure {
		r.hangup(two, 0)
		r.originateResponse(sp, nil)
		r.hangup(one, 0)
		r.deviceState(device, "INVALID")
		r.deviceState(device, "INVALID")
		return
	}
	r.emit("LocalBridge", "call,all", r.p.snapshot("LocalOne", one), r.p.snapshot("LocalTwo", two),
		[]amiproto.Header{H("Context", context), H("Exten", exten), H("LocalOptimization", "Yes")})
	r.emit("DialBegin", "call,all", r.p.snapshot("Dest", one), []amiproto.Header{H("DialString", res)})
	if sp.reason != reasonAnswered {
		cause, status := reasonCause(sp.reason)
		r.wait(3 * r.s.opts.CallStep)
		r.emit("DialEnd", "call,all", r.p.snapshot("Dest", one), []amiproto.Header{H("DialStatus", status)})
		r.hangup(two, cause)
		r.originateResponse(sp, nil)
		r.hangup(one, cause)
		r.deviceState(device, "NOT_INUSE")
		return
	}
	r.p.update(two, func(ch *channel) { ch.app = "Answer" })
	r.chanEvent("Newexten", "dialplan,all", two, H("Extension", exten), H("Application", "Answer"), H("AppData", ""))
	r.p.update(one, func(ch *channel) { ch.app, ch.appData = sp.app, sp.data })
	if sp.async {
		r.setState(one, 6)
		r.emit("DialEnd", "call,all", r.p.snapshot("Dest", one), []amiproto.Header{H("DialStatus", "ANSWER")})
		r.originateResponse(sp, one)
		r.setState(two, 6)
	} else {
		// Same order as the originate_sync capture.
		r.setState(two, 6)
		r.setState(one, 6)
		r.emit("DialEnd", "call,all", r.p.snapshot("Dest", one), []amiproto.Header{H("DialStatus", "ANSWER")})
	}
	r.deviceState(device, "INUSE")
	r.deviceState(device, "INUSE") // Asterisk reports both halves
	r.p.update(two, func(ch *channel) { ch.priority, ch.app, ch.appData = 2, "Wait", "1" })
	r.chanEvent("Newexten", "dialplan,all", two, H("Extension", exten), H("Application", "Wait"), H("AppData", "1"))
	r.wait(r.s.opts.CallDuration)
	r.chanEvent("HangupRequest", "call,all", two, H("Cause", "0"))
	r.hangup(one, 0)
	r.chanEvent("SoftHangupRequest", "call,all", two, H("Cause", "16"))
	r.hangup(two, 0)
	r.deviceState(device, "NOT_INUSE")
	r.deviceState(device, "NOT_INUSE")
}

// originateDirect plays a single outbound channel (PJSIP/1001, SIP/...).
func (r *callRun) originateDirect(sp *originateSpec) {
	peer := sp.resource
	if i := strings.IndexAny(peer, "/@"); i >= 0 {
		peer = peer[:i]
	}
	device := sp.tech + "/" + peer
	context, exten := sp.context, sp.exten
	if sp.app != "" {
		context, exten = "default", "s"
	}
	ch := r.p.addChannel(r.c, device+"-"+r.p.nextSuffix(), 0, context, exten, nil)
	r.p.update(ch, func(ch *channel) {
		ch.cidNum, ch.cidName, ch.endpoint, ch.device = sp.cidNum, sp.cidName, peer, device
	})
	r.chanEvent("Newchannel", "call,all", ch)
	r.varSet(ch, sp.vars)
	if sp.reason == reasonFailure {
		r.hangup(ch, 1)
		r.originateResponse(sp, nil)
		return
	}
	r.setState(ch, 5)
	r.deviceState(device, "RINGING")
	if sp.reason != reasonAnswered {
		cause, _ := reasonCause(sp.reason)
		r.wait(3 * r.s.opts.CallStep)
		r.hangup(ch, cause)
		r.originateResponse(sp, nil)
		r.deviceState(device, "NOT_INUSE")
		return
	}
	r.setState(ch, 6)
	r.originateResponse(sp, ch)
	r.deviceState(device, "INUSE")
	if sp.app != "" {
		r.p.update(ch, func(ch *channel) { ch.app, ch.appData = sp.app, sp.data })
	} else {
		r.chanEvent("Newexten", "dialplan,all", ch, H("Extension", exten), H("Application", "Answer"), H("AppData", ""))
	}
	r.wait(r.s.opts.CallDuration)
	r.hangup(ch, 16)
	r.deviceState(device, "NOT_INUSE")
}
