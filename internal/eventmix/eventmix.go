package eventmix

import "strconv"

// Names lists the event names of the mix in the order Append cycles through
// them: event i is named Names[i%len(Names)].
var Names = []string{"Newchannel", "Newstate", "VarSet", "DialBegin", "DialEnd", "Hangup"}

// names is a private copy so that a caller modifying Names cannot change the
// generated traffic.
var names = [...]string{"Newchannel", "Newstate", "VarSet", "DialBegin", "DialEnd", "Hangup"}

// channelStates are the (ChannelState, ChannelStateDesc) pairs used by the mix.
var channelStates = [...][2]string{{"0", "Down"}, {"4", "Ring"}, {"5", "Ringing"}, {"6", "Up"}}

// leg describes one channel snapshot.
type leg struct {
	tech     string // "PJSIP/carrier-a-" or "Local/" style prefix
	id       int    // channel sequence number (rendered as 8 hex digits)
	suffix   string // e.g. "" or ";1"
	state    int    // index into channelStates
	cidNum   string
	cidName  string
	connNum  string
	connName string
	context  string
	exten    string
	priority int
	uniqueid int // fractional part of the uniqueid
	linkedid int
}

const epoch = "1733328000."

// Append appends the i-th event frame of the mix to dst and returns the
// extended slice. The frame has "\r\n" line endings and ends with the empty
// line. Channel names, caller IDs and uniqueids are derived from i, so
// events of the same call (six consecutive indexes) describe one call.
// Negative i are treated as their absolute value.
func Append(dst []byte, i int) []byte {
	if i < 0 {
		i = -i
	}
	call := i / len(names)
	kind := i % len(names)
	// Even calls are originated to the customer only (no caller channel in
	// the Dial events); odd calls are bridged from an agent channel, which
	// adds a full caller snapshot to DialBegin/DialEnd.
	bridged := call%2 == 1

	customer := leg{
		tech:     "PJSIP/trunk-",
		id:       call,
		cidNum:   "+3314" + pad(call%1000000, 6),
		cidName:  "Campaign " + strconv.Itoa(call%37),
		connNum:  "+3317" + pad((call*7919)%1000000, 6),
		connName: "Dialer",
		context:  "outbound",
		exten:    "0" + pad((call*104729)%1000000000, 9),
		priority: 1,
		uniqueid: 2 * call,
		linkedid: 2 * call,
	}
	agent := leg{
		tech:     "PJSIP/agent-",
		id:       call + 0x4000,
		cidNum:   pad(1000+call%500, 4),
		cidName:  "Agent " + pad(call%500, 3),
		connNum:  customer.cidNum,
		connName: customer.cidName,
		context:  "agents",
		exten:    pad(1000+call%500, 4),
		priority: 3,
		uniqueid: 2*call + 1,
		linkedid: 2 * call,
	}

	dst = appendHeader(dst, "Event", names[kind])
	switch kind {
	case 0: // Newchannel
		dst = appendHeader(dst, "Privilege", "call,all")
		customer.state = 0
		dst = appendLeg(dst, "", &customer)
	case 1: // Newstate
		dst = appendHeader(dst, "Privilege", "call,all")
		customer.state = 2
		dst = appendLeg(dst, "", &customer)
	case 2: // VarSet
		dst = appendHeader(dst, "Privilege", "dialplan,all")
		customer.state = 2
		customer.priority = 2
		dst = appendLeg(dst, "", &customer)
		dst = appendHeader(dst, "Variable", "CAMPAIGN_LEAD_ID")
		dst = appendHeader(dst, "Value", "lead-"+strconv.Itoa(call*31+7))
	case 3: // DialBegin
		dst = appendHeader(dst, "Privilege", "call,all")
		if bridged {
			agent.state = 3
			dst = appendLeg(dst, "", &agent)
		}
		customer.state = 0
		dst = appendLeg(dst, "Dest", &customer)
		dst = appendHeader(dst, "DialString", "trunk/"+customer.exten)
	case 4: // DialEnd
		dst = appendHeader(dst, "Privilege", "call,all")
		if bridged {
			agent.state = 3
			dst = appendLeg(dst, "", &agent)
		}
		customer.state = 3
		dst = appendLeg(dst, "Dest", &customer)
		dst = appendHeader(dst, "DialStatus", "ANSWER")
	default: // Hangup
		dst = appendHeader(dst, "Privilege", "call,all")
		customer.state = 3
		customer.priority = 4
		dst = appendLeg(dst, "", &customer)
		dst = appendHeader(dst, "Cause", "16")
		dst = appendHeader(dst, "Cause-txt", "Normal Clearing")
	}
	return append(dst, '\r', '\n')
}

// Stream returns n events (indexes 0..n-1) concatenated.
func Stream(n int) []byte {
	if n <= 0 {
		return nil
	}
	b := make([]byte, 0, n*460)
	for i := 0; i < n; i++ {
		b = Append(b, i)
	}
	return b
}

// appendLeg appends the 14 channel-snapshot headers Asterisk writes for one
// channel, each key prefixed with prefix ("" or "Dest").
func appendLeg(dst []byte, prefix string, l *leg) []byte {
	st := channelStates[l.state]
	dst = appendKey(dst, prefix, "Channel")
	dst = append(dst, l.tech...)
	dst = appendHex8(dst, l.id)
	dst = append(dst, l.suffix...)
	dst = append(dst, '\r', '\n')
	dst = appendPrefixed(dst, prefix, "ChannelState", st[0])
	dst = appendPrefixed(dst, prefix, "ChannelStateDesc", st[1])
	dst = appendPrefixed(dst, prefix, "CallerIDNum", l.cidNum)
	dst = appendPrefixed(dst, prefix, "CallerIDName", l.cidName)
	dst = appendPrefixed(dst, prefix, "ConnectedLineNum", l.connNum)
	dst = appendPrefixed(dst, prefix, "ConnectedLineName", l.connName)
	dst = appendPrefixed(dst, prefix, "Language", "en")
	dst = appendPrefixed(dst, prefix, "AccountCode", "")
	dst = appendPrefixed(dst, prefix, "Context", l.context)
	dst = appendPrefixed(dst, prefix, "Exten", l.exten)
	dst = appendKey(dst, prefix, "Priority")
	dst = strconv.AppendInt(dst, int64(l.priority), 10)
	dst = append(dst, '\r', '\n')
	dst = appendKey(dst, prefix, "Uniqueid")
	dst = append(dst, epoch...)
	dst = strconv.AppendInt(dst, int64(l.uniqueid), 10)
	dst = append(dst, '\r', '\n')
	dst = appendKey(dst, prefix, "Linkedid")
	dst = append(dst, epoch...)
	dst = strconv.AppendInt(dst, int64(l.linkedid), 10)
	return append(dst, '\r', '\n')
}

func appendKey(dst []byte, prefix, key string) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, key...)
	return append(dst, ':', ' ')
}

func appendPrefixed(dst []byte, prefix, key, value string) []byte {
	dst = appendKey(dst, prefix, key)
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}

func appendHeader(dst []byte, key, value string) []byte {
	return appendPrefixed(dst, "", key, value)
}

const hexDigits = "0123456789abcdef"

func appendHex8(dst []byte, v int) []byte {
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[(v>>shift)&0xf])
	}
	return dst
}

// pad renders v in decimal, left-padded with zeros to width digits.
func pad(v, width int) string {
	s := strconv.Itoa(v)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
