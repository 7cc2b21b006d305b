package amitest

import (
	"strconv"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// actionCoreShowChannels lists the simulated channels: CoreShowChannel
// items, then CoreShowChannelsComplete.
func actionCoreShowChannels(w *ResponseWriter, r *Request) {
	p := w.c.s.pbx
	p.mu.Lock()
	items := make([][]amiproto.Header, 0, len(p.channels))
	now := time.Now()
	for _, ch := range p.sortedChannelsLocked() {
		hs := ch.headersLocked("")
		hs = append(hs, H("Application", ch.app), H("ApplicationData", ch.appData),
			H("Duration", durationHMS(now.Sub(ch.created))), H("BridgeId", ""))
		items = append(items, hs)
	}
	p.mu.Unlock()
	w.StartList("Channels will follow")
	for _, hs := range items {
		w.Event("CoreShowChannel", hs...)
	}
	w.CompleteList("CoreShowChannelsComplete")
}

// actionStatus lists the simulated channels (or the one named by Channel):
// Status items, then StatusComplete with ListItems and Items.
func actionStatus(w *ResponseWriter, r *Request) {
	p := w.c.s.pbx
	want := r.Action.Get("Channel")
	p.mu.Lock()
	var chans []*channel
	if want != "" {
		if ch, ok := p.channels[want]; ok {
			chans = append(chans, ch)
		}
	} else {
		chans = p.sortedChannelsLocked()
	}
	now := time.Now()
	items := make([][]amiproto.Header, 0, len(chans))
	for _, ch := range chans {
		hs := append([]amiproto.Header{H("Privilege", "Call")}, ch.headersLocked("")...)
		tech, _, _ := cutTech(ch.name)
		hs = append(hs,
			H("Type", tech), H("DNID", ""), H("EffectiveConnectedLineNum", orUnknown(ch.connNum)),
			H("EffectiveConnectedLineName", orUnknown(ch.connName)), H("TimeToHangup", "0"),
			H("BridgeID", ""), H("Application", ch.app), H("Data", ch.appData),
			H("Nativeformats", "(ulaw)"), H("Readformat", "ulaw"), H("Writeformat", "ulaw"),
			H("Callgroup", "0"), H("Pickupgroup", "0"),
			H("Seconds", strconv.Itoa(int(now.Sub(ch.created).Seconds()))))
		if id, ok := r.Action.Lookup("ActionID"); ok {
			hs = append(hs, H("ActionID", id))
		}
		items = append(items, hs)
	}
	p.mu.Unlock()
	if want != "" && len(items) == 0 {
		w.Error("No such channel")
		return
	}
	w.StartList("Channel status will follow")
	for _, hs := range items {
		w.Event("Status", hs...)
	}
	w.CompleteList("StatusComplete", H("Items", strconv.Itoa(len(items))))
}

// actionHangup hangs up a simulated channel (the whole call goes down).
func actionHangup(w *ResponseWriter, r *Request) {
	name := r.Action.Get("Channel")
	if name == "" {
		w.Error("No channel specified")
		return
	}
	ch, ok := w.c.s.pbx.lookup(name)
	if !ok {
		w.Error("No such channel")
		return
	}
	ch.call.requestHangup()
	w.Success(H("Message", "Channel Hungup"))
}

// actionRedirect moves a simulated channel to another extension.
func actionRedirect(w *ResponseWriter, r *Request) {
	m := r.Action
	name := m.Get("Channel")
	if name == "" {
		w.Error("Channel not specified")
		return
	}
	ch, ok := w.c.s.pbx.lookup(name)
	if !ok {
		w.Error("Channel specified does not exist")
		return
	}
	prio, err := strconv.Atoi(m.Get("Priority"))
	if err != nil || prio < 1 {
		prio = 1
	}
	w.c.s.pbx.update(ch, func(ch *channel) {
		if v := m.Get("Context"); v != "" {
			ch.context = v
		}
		if v := m.Get("Exten"); v != "" {
			ch.exten = v
		}
		ch.priority = prio
	})
	w.Success(H("Message", "Redirect successful"))
}

// cutTech splits "PJSIP/1001-00000001" into "PJSIP" and the rest.
func cutTech(name string) (tech, rest string, ok bool) {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return name[:i], name[i+1:], true
		}
	}
	return name, "", false
}
