package amitest

import "strings"

// actionPJSIPShowEndpoints lists the simulated endpoints (1001, 1002, 1003
// and trunk) as EndpointList items, then EndpointListComplete.
func actionPJSIPShowEndpoints(w *ResponseWriter, r *Request) {
	p := w.c.s.pbx
	p.mu.Lock()
	eps := append([]string(nil), p.endpoints...)
	p.mu.Unlock()
	w.StartList("A listing of Endpoints follows, presented as EndpointList events")
	for _, ep := range eps {
		chans := p.endpointChannels(ep)
		w.Event("EndpointList",
			H("ObjectType", "endpoint"), H("ObjectName", ep), H("Transport", "transport-udp"),
			H("Aor", ep), H("Auths", authOf(ep)), H("OutboundAuths", ""),
			H("Contacts", ep+"/sip:"+ep+"@127.0.0.1:5060,"), H("DeviceState", deviceState(chans)),
			H("ActiveChannels", strings.Join(chans, ",")))
	}
	w.CompleteList("EndpointListComplete")
}

// actionPJSIPShowEndpoint details one endpoint: EndpointDetail, AorDetail
// and AuthDetail items, then EndpointDetailComplete.
func actionPJSIPShowEndpoint(w *ResponseWriter, r *Request) {
	ep := r.Action.Get("Endpoint")
	if ep == "" {
		w.Error("Endpoint parameter missing.")
		return
	}
	if _, ok := w.c.s.pbx.endpoint(ep); !ok {
		w.Error("Unable to retrieve endpoint " + ep)
		return
	}
	chans := w.c.s.pbx.endpointChannels(ep)
	w.StartList("Following are Events for each object associated with the Endpoint")
	w.Event("EndpointDetail",
		H("ObjectType", "endpoint"), H("ObjectName", ep), H("Context", "from-internal"),
		H("Disallow", "all"), H("Allow", "(ulaw|alaw)"), H("DtmfMode", "rfc4733"),
		H("Aors", ep), H("Auth", authOf(ep)), H("Transport", "transport-udp"),
		H("DeviceState", deviceState(chans)), H("ActiveChannels", strings.Join(chans, ",")))
	w.Event("AorDetail",
		H("ObjectType", "aor"), H("ObjectName", ep), H("MaxContacts", "1"),
		H("TotalContacts", "1"), H("ContactsRegistered", "1"), H("EndpointName", ep),
		H("Contacts", ep+"/sip:"+ep+"@127.0.0.1:5060"))
	if a := authOf(ep); a != "" {
		w.Event("AuthDetail",
			H("ObjectType", "auth"), H("ObjectName", a), H("Username", ep),
			H("AuthType", "userpass"), H("EndpointName", ep))
	}
	w.CompleteList("EndpointDetailComplete")
}

func authOf(ep string) string {
	if ep == "trunk" {
		return ""
	}
	return ep
}

func deviceState(chans []string) string {
	if len(chans) == 0 {
		return "Not in use"
	}
	return "In use"
}
