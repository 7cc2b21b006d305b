package amitest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// pbx is the simulated state of the fake Asterisk: channels, calls,
// variables, queues and endpoints. Every field is guarded by mu.
type pbx struct {
	s       *Server
	started time.Time

	mu        sync.Mutex
	uniqSeq   int
	localSeq  int
	chanSeq   int
	channels  map[string]*channel // by name
	calls     map[*call]struct{}
	globals   map[string]string
	queues    []*queue
	endpoints []string
}

// channel is one simulated channel.
type channel struct {
	seq       int
	name      string
	uniqueid  string
	linkedid  string
	state     int
	context   string
	exten     string
	priority  int
	app       string
	appData   string
	cidNum    string
	cidName   string
	connNum   string
	connName  string
	created   time.Time
	vars      map[string]string
	call      *call
	endpoint  string // PJSIP endpoint name, if any
	device    string // device name for DeviceStateChange
	hungUp    bool
	hangCause int
}

// call groups the channels of one simulated call; closing hangup ends it
// early (Hangup action).
type call struct {
	hangup   chan struct{}
	hangOnce sync.Once
}

func (c *call) requestHangup() { c.hangOnce.Do(func() { close(c.hangup) }) }

func newPBX(s *Server) *pbx {
	p := &pbx{s: s, started: time.Now()}
	p.resetLocked()
	return p
}

// reset forgets every channel and call (after Close).
func (p *pbx) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetLocked()
}

func (p *pbx) resetLocked() {
	p.channels = make(map[string]*channel)
	p.calls = make(map[*call]struct{})
	p.globals = make(map[string]string)
	p.endpoints = []string{"1001", "1002", "1003", "trunk"}
	p.queues = []*queue{
		{name: "support", strategy: "ringall", members: []*member{{
			name: "Agent One", iface: "Local/agent1@agents/n", membership: "static",
			loginTime: p.started.Unix(),
		}}},
		{name: "sales", strategy: "ringall"},
	}
}

func (p *pbx) activeCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

// newCall registers a call.
func (p *pbx) newCall() *call {
	c := &call{hangup: make(chan struct{})}
	p.mu.Lock()
	p.calls[c] = struct{}{}
	p.mu.Unlock()
	p.s.counters.callsStarted.Add(1)
	return c
}

// endCall forgets a call and its channels.
func (p *pbx) endCall(c *call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.calls, c)
	for name, ch := range p.channels {
		if ch.call == c {
			delete(p.channels, name)
		}
	}
}

// newUniqueidLocked returns an Asterisk-like "epoch.seq" identifier.
func (p *pbx) newUniqueidLocked() string {
	id := fmt.Sprintf("%d.%d", time.Now().Unix(), p.uniqSeq)
	p.uniqSeq++
	return id
}

// addChannel creates and registers a channel. linked is the channel whose
// uniqueid becomes the linkedid (nil: itself).
func (p *pbx) addChannel(c *call, name string, state int, context, exten string, linked *channel) *channel {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := &channel{
		seq: p.chanSeq, name: name, state: state, context: context, exten: exten,
		priority: 1, created: time.Now(), call: c, vars: make(map[string]string),
	}
	p.chanSeq++
	ch.uniqueid = p.newUniqueidLocked()
	ch.linkedid = ch.uniqueid
	if linked != nil {
		ch.linkedid = linked.uniqueid
	}
	p.channels[name] = ch
	return ch
}

// nextSuffix returns the next "-%08x" channel name suffix.
func (p *pbx) nextSuffix() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.localSeq++
	return fmt.Sprintf("%08x", p.localSeq-1)
}

// update changes a channel under the lock.
func (p *pbx) update(ch *channel, f func(ch *channel)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(ch)
}

// lookup returns a live channel by name.
func (p *pbx) lookup(name string) (*channel, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.channels[name]
	return ch, ok
}

// sortedChannelsLocked returns the live channels in creation order.
func (p *pbx) sortedChannelsLocked() []*channel {
	out := make([]*channel, 0, len(p.channels))
	for _, ch := range p.channels {
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b *channel) int { return a.seq - b.seq })
	return out
}

func (p *pbx) getvar(chanName, name string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	vars := p.globals
	if chanName != "" {
		ch, ok := p.channels[chanName]
		if !ok {
			return "", false
		}
		vars = ch.vars
	}
	switch name {
	case "EPOCH":
		return strconv.FormatInt(time.Now().Unix(), 10), true
	case "ASTERISK_VERSION_NUM", "VERSION()":
		return asteriskVersion, true
	}
	return vars[name], true
}

func (p *pbx) setvar(chanName, name, value string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	vars := p.globals
	if chanName != "" {
		ch, ok := p.channels[chanName]
		if !ok {
			return false
		}
		vars = ch.vars
	}
	vars[name] = value
	return true
}

func (p *pbx) endpoint(name string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if slices.Contains(p.endpoints, name) {
		return name, true
	}
	return "", false
}

// endpointChannels returns the live channels of a PJSIP endpoint.
func (p *pbx) endpointChannels(ep string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, ch := range p.sortedChannelsLocked() {
		if strings.HasPrefix(ch.name, "PJSIP/"+ep+"-") {
			out = append(out, ch.name)
		}
	}
	return out
}

func (p *pbx) endpointInUse(ep string) bool { return len(p.endpointChannels(ep)) > 0 }

var stateDesc = map[int]string{0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

// headersLocked returns the standard channel snapshot headers, with every
// key prefixed ("Dest", "LocalOne" ...).
func (ch *channel) headersLocked(prefix string) []amiproto.Header {
	return []amiproto.Header{
		H(prefix+"Channel", ch.name),
		H(prefix+"ChannelState", strconv.Itoa(ch.state)),
		H(prefix+"ChannelStateDesc", stateDesc[ch.state]),
		H(prefix+"CallerIDNum", orUnknown(ch.cidNum)),
		H(prefix+"CallerIDName", orUnknown(ch.cidName)),
		H(prefix+"ConnectedLineNum", orUnknown(ch.connNum)),
		H(prefix+"ConnectedLineName", orUnknown(ch.connName)),
		H(prefix+"Language", "en"),
		H(prefix+"AccountCode", ""),
		H(prefix+"Context", ch.context),
		H(prefix+"Exten", ch.exten),
		H(prefix+"Priority", strconv.Itoa(ch.priority)),
		H(prefix+"Uniqueid", ch.uniqueid),
		H(prefix+"Linkedid", ch.linkedid),
	}
}

// snapshot returns ch.headersLocked(prefix) under the lock.
func (p *pbx) snapshot(prefix string, ch *channel) []amiproto.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ch.headersLocked(prefix)
}

// durationHMS formats d as Asterisk's HH:MM:SS.
func durationHMS(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

func itoa(n int) string { return strconv.Itoa(n) }

func nowUnix() int64 { return time.Now().Unix() }
