package amitest

import (
	"strconv"
	"strings"

	"github.com/apntalk/ami/amiproto"
)

// queue is a simulated app_queue queue.
type queue struct {
	name     string
	strategy string
	members  []*member
	calls    int
}

// member is a queue member.
type member struct {
	name       string
	iface      string
	membership string // static or dynamic
	penalty    int
	paused     bool
	reason     string
	loginTime  int64
}

func (m *member) headers(q string) []amiproto.Header {
	return []amiproto.Header{
		H("Queue", q), H("Name", m.name), H("Location", m.iface), H("StateInterface", m.iface),
		H("Membership", m.membership), H("Penalty", strconv.Itoa(m.penalty)), H("CallsTaken", "0"),
		H("LastCall", "0"), H("LastPause", "0"), H("LoginTime", strconv.FormatInt(m.loginTime, 10)),
		H("InCall", "0"), H("Status", "1"), H("Paused", boolDigit(m.paused)),
		H("PausedReason", m.reason), H("Wrapuptime", "0"),
	}
}

// event headers of QueueMemberAdded/Removed/Pause.
func (m *member) eventHeaders(q string) []amiproto.Header {
	return []amiproto.Header{
		H("Queue", q), H("MemberName", m.name), H("Interface", m.iface), H("StateInterface", m.iface),
		H("Membership", m.membership), H("Penalty", strconv.Itoa(m.penalty)), H("CallsTaken", "0"),
		H("LastCall", "0"), H("LastPause", "0"), H("LoginTime", strconv.FormatInt(m.loginTime, 10)),
		H("InCall", "0"), H("Status", "1"), H("Paused", boolDigit(m.paused)),
		H("PausedReason", m.reason), H("Ringinuse", "0"), H("Wrapuptime", "0"),
	}
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (p *pbx) queueLocked(name string) *queue {
	for _, q := range p.queues {
		if q.name == name {
			return q
		}
	}
	return nil
}

// actionQueueStatus lists QueueParams, QueueMember (and QueueEntry) items,
// optionally for one Queue and one Member, then QueueStatusComplete.
func actionQueueStatus(w *ResponseWriter, r *Request) {
	p := w.c.s.pbx
	wantQ, wantM := r.Action.Get("Queue"), r.Action.Get("Member")
	id, hasID := r.Action.Lookup("ActionID")
	type item struct {
		name string
		hs   []amiproto.Header
	}
	var items []item
	add := func(name string, hs []amiproto.Header) {
		if hasID {
			hs = append(hs, H("ActionID", id))
		}
		items = append(items, item{name, hs})
	}
	p.mu.Lock()
	for _, q := range p.queues {
		if wantQ != "" && q.name != wantQ {
			continue
		}
		add("QueueParams", []amiproto.Header{
			H("Queue", q.name), H("Max", "0"), H("Strategy", q.strategy), H("Calls", strconv.Itoa(q.calls)),
			H("Holdtime", "0"), H("TalkTime", "0"), H("Completed", "0"), H("Abandoned", "0"),
			H("ServiceLevel", "0"), H("ServicelevelPerf", "0.0"), H("ServicelevelPerf2", "0.0"), H("Weight", "0"),
		})
		for _, m := range q.members {
			if wantM == "" || m.iface == wantM || m.name == wantM {
				add("QueueMember", m.headers(q.name))
			}
		}
	}
	p.mu.Unlock()
	w.StartList("Queue status will follow")
	for _, it := range items {
		w.Event(it.name, it.hs...)
	}
	w.CompleteList("QueueStatusComplete")
}

// actionQueueSummary lists QueueSummary items then QueueSummaryComplete.
func actionQueueSummary(w *ResponseWriter, r *Request) {
	p := w.c.s.pbx
	wantQ := r.Action.Get("Queue")
	id, hasID := r.Action.Lookup("ActionID")
	var items [][]amiproto.Header
	p.mu.Lock()
	for _, q := range p.queues {
		if wantQ != "" && q.name != wantQ {
			continue
		}
		avail := 0
		for _, m := range q.members {
			if !m.paused {
				avail++
			}
		}
		hs := []amiproto.Header{
			H("Queue", q.name), H("LoggedIn", strconv.Itoa(len(q.members))), H("Available", strconv.Itoa(avail)),
			H("Callers", strconv.Itoa(q.calls)), H("HoldTime", "0"), H("TalkTime", "0"), H("LongestHoldTime", "0"),
		}
		if hasID {
			hs = append(hs, H("ActionID", id))
		}
		items = append(items, hs)
	}
	p.mu.Unlock()
	w.StartList("Queue summary will follow")
	for _, hs := range items {
		w.Event("QueueSummary", hs...)
	}
	w.CompleteList("QueueSummaryComplete")
}

func actionQueueAdd(w *ResponseWriter, r *Request) {
	m := r.Action
	qname, iface := m.Get("Queue"), m.Get("Interface")
	if qname == "" {
		w.Error("'Queue' not specified.")
		return
	}
	if iface == "" {
		w.Error("'Interface' not specified.")
		return
	}
	p := w.c.s.pbx
	p.mu.Lock()
	q := p.queueLocked(qname)
	if q == nil {
		p.mu.Unlock()
		w.Error("Unable to add interface to queue: No such queue")
		return
	}
	for _, mem := range q.members {
		if mem.iface == iface {
			p.mu.Unlock()
			w.Error("Unable to add interface: Already there")
			return
		}
	}
	name := m.Get("MemberName")
	if name == "" {
		name = iface
	}
	penalty, _ := strconv.Atoi(m.Get("Penalty"))
	mem := &member{name: name, iface: iface, membership: "dynamic", penalty: penalty,
		paused: isTrue(m.Get("Paused")), reason: m.Get("Reason"), loginTime: nowUnix()}
	q.members = append(q.members, mem)
	hs := mem.eventHeaders(qname)
	p.mu.Unlock()
	w.Success(H("Message", "Added interface to queue"))
	w.c.s.Broadcast(append([]amiproto.Header{H("Event", "QueueMemberAdded"), H("Privilege", "agent,all")}, hs...)...)
}

func actionQueueRemove(w *ResponseWriter, r *Request) {
	qname, iface := r.Action.Get("Queue"), r.Action.Get("Interface")
	if qname == "" || iface == "" {
		w.Error("Need 'Queue' and 'Interface' parameters.")
		return
	}
	p := w.c.s.pbx
	p.mu.Lock()
	q := p.queueLocked(qname)
	if q == nil {
		p.mu.Unlock()
		w.Error("Unable to remove interface from queue: No such queue")
		return
	}
	for i, mem := range q.members {
		if mem.iface != iface {
			continue
		}
		if mem.membership != "dynamic" {
			p.mu.Unlock()
			w.Error("Member not dynamic")
			return
		}
		q.members = append(q.members[:i], q.members[i+1:]...)
		hs := mem.eventHeaders(qname)
		p.mu.Unlock()
		w.Success(H("Message", "Removed interface from queue"))
		w.c.s.Broadcast(append([]amiproto.Header{H("Event", "QueueMemberRemoved"), H("Privilege", "agent,all")}, hs...)...)
		return
	}
	p.mu.Unlock()
	w.Error("Unable to remove interface: Not there")
}

func actionQueuePause(w *ResponseWriter, r *Request) {
	m := r.Action
	iface := m.Get("Interface")
	if iface == "" {
		w.Error("Need 'Interface' parameter.")
		return
	}
	paused, qname, reason := isTrue(m.Get("Paused")), m.Get("Queue"), m.Get("Reason")
	p := w.c.s.pbx
	var events [][]amiproto.Header
	p.mu.Lock()
	for _, q := range p.queues {
		if qname != "" && !strings.EqualFold(q.name, qname) {
			continue
		}
		for _, mem := range q.members {
			if mem.iface == iface {
				mem.paused, mem.reason = paused, reason
				if !paused {
					mem.reason = ""
				}
				events = append(events, append([]amiproto.Header{H("Event", "QueueMemberPause"), H("Privilege", "agent,all")}, mem.eventHeaders(q.name)...))
			}
		}
	}
	p.mu.Unlock()
	if len(events) == 0 {
		w.Error("Interface not found")
		return
	}
	if paused {
		w.Success(H("Message", "Interface paused successfully"))
	} else {
		w.Success(H("Message", "Interface unpaused successfully"))
	}
	for _, hs := range events {
		w.c.s.Broadcast(hs...)
	}
}
