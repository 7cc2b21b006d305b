package amitest_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

func TestPing(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("off")
	before := float64(time.Now().Unix())
	c.action("Ping", "p1")
	m, _ := c.response("p1")
	ts, err := strconv.ParseFloat(m.Get("Timestamp"), 64)
	if err != nil || ts < before-1 || ts > before+60 {
		t.Fatalf("Timestamp %q: %v", m.Get("Timestamp"), err)
	}
	if got := m.Headers[0]; got != H("Response", "Success") || m.Headers[1] != H("ActionID", "p1") {
		t.Fatalf("header order: %v", m.Headers)
	}
}

func TestCommandModern(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{Users: map[string]string{"admin": "x", "limited": "y"}})
	c := dial(t, s)
	c.banner()
	c.action("Login", "l", H("Username", "admin"), H("Secret", "x"), H("Events", "off"))
	c.response("l")

	c.action("Command", "c1", H("Command", "core show version"))
	m, _ := c.response("c1")
	if m.Get("Response") != "Success" || m.Get("Message") != "Command output follows" ||
		!strings.HasPrefix(m.Get("Output"), "Asterisk ") {
		t.Fatalf("core show version: %v", m.Headers)
	}
	c.action("Command", "c2", H("Command", "manager show users"))
	m, _ = c.response("c2")
	want := []string{"", "username", "--------", "admin", "limited", "-------------------", "2 manager users configured."}
	if got := m.Values("Output"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("manager show users = %q, want %q", got, want)
	}
	c.action("Command", "c3", H("Command", "core show uptime"))
	m, _ = c.response("c3")
	if out := m.Values("Output"); len(out) != 2 || !strings.HasPrefix(out[0], "System uptime: ") {
		t.Fatalf("core show uptime: %q", out)
	}
	c.action("Command", "c4", H("Command", "no such command here"))
	m, _ = c.response("c4")
	if m.Get("Response") != "Error" || m.Get("Output") !=
		"No such command 'no such command here' (type 'core show help no such' for other possible commands)" {
		t.Fatalf("unknown command: %v", m.Headers)
	}
}

func TestCommandLegacy(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{LegacyCommand: true})
	c := dial(t, s)
	c.login("off")
	c.action("Command", "c1", H("Command", "manager show users"))
	m, _ := c.response("c1")
	if m.Kind != amiproto.KindFollows || m.Get("Response") != "Follows" || m.Get("Privilege") != "Command" {
		t.Fatalf("legacy reply: %v %v", m.Kind, m.Headers)
	}
	want := []string{"", "username", "--------", "admin", "-------------------", "1 manager user configured."}
	if strings.Join(m.Output, "|") != strings.Join(want, "|") {
		t.Fatalf("output = %q, want %q", m.Output, want)
	}
	// The exact wire form.
	raw := string(s.Conns()[0].Received())
	if !strings.HasSuffix(raw, "Command: manager show users\r\n\r\n") {
		t.Fatalf("received %q", raw)
	}
	c.ping("after") // the stream is still in sync
}

func TestCommandLegacyWireFormat(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{LegacyCommand: true})
	s.Handle("Command", func(w *amitest.ResponseWriter, r *amitest.Request) {
		w.CommandOutput("line one", "line two")
	})
	c := dial(t, s)
	c.login("off")
	c.send("Action: Command\r\nActionID: x\r\nCommand: anything\r\n\r\n")
	want := "Response: Follows\r\nPrivilege: Command\r\nActionID: x\r\nline one\nline two\n--END COMMAND--\r\n\r\n"
	got := make([]byte, 0, len(want))
	buf := make([]byte, 256)
	c.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	for len(got) < len(want) {
		n, err := c.nc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if string(got) != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestMiscActions(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("off")
	check := func(action, id string, hs []amiproto.Header, key, want string) {
		t.Helper()
		c.action(action, id, hs...)
		m, _ := c.response(id)
		if got := m.Get(key); got != want {
			t.Fatalf("%s: %s = %q, want %q (%v)", action, key, got, want, m.Headers)
		}
	}
	check("Setvar", "sv", []amiproto.Header{H("Variable", "CAMPAIGN"), H("Value", "42")}, "Message", "Variable Set")
	check("Getvar", "gv", []amiproto.Header{H("Variable", "CAMPAIGN")}, "Value", "42")
	check("Getvar", "gv2", []amiproto.Header{H("Channel", "PJSIP/none-0"), H("Variable", "X")}, "Message", "No such channel")
	check("Hangup", "h", []amiproto.Header{H("Channel", "PJSIP/none-0")}, "Message", "No such channel")
	check("Redirect", "r", []amiproto.Header{H("Channel", "PJSIP/none-0"), H("Exten", "1")}, "Message", "Channel specified does not exist")
	check("ExtensionState", "es", []amiproto.Header{H("Exten", "1001"), H("Context", "default")}, "StatusText", "Idle")
	check("CoreSettings", "cs", nil, "AMIversion", "13.0.0")
	check("CoreStatus", "cst", nil, "CoreCurrentCalls", "0")
	check("QueueAdd", "qa", []amiproto.Header{H("Queue", "sales"), H("Interface", "PJSIP/1002")}, "Message", "Added interface to queue")
	check("QueueAdd", "qa2", []amiproto.Header{H("Queue", "sales"), H("Interface", "PJSIP/1002")}, "Message", "Unable to add interface: Already there")
	check("QueuePause", "qp", []amiproto.Header{H("Interface", "PJSIP/1002"), H("Paused", "true")}, "Message", "Interface paused successfully")
	check("QueuePause", "qp2", []amiproto.Header{H("Interface", "PJSIP/9999"), H("Paused", "true")}, "Message", "Interface not found")

	c.action("QueueStatus", "qs", H("Queue", "sales"))
	_, _ = c.response("qs")
	items := c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "QueueStatusComplete" })
	if got := names(items); strings.Join(got, ",") != "QueueParams,QueueMember,QueueStatusComplete" {
		t.Fatalf("QueueStatus items: %v", got)
	}
	if mem := items[1]; mem.Get("Location") != "PJSIP/1002" || mem.Get("Paused") != "1" || mem.ActionID() != "qs" {
		t.Fatalf("QueueMember: %v", mem.Headers)
	}
	if done := items[2]; done.Get("ListItems") != "2" || done.Get("EventList") != "Complete" {
		t.Fatalf("complete: %v", done.Headers)
	}
	check("QueueRemove", "qr", []amiproto.Header{H("Queue", "sales"), H("Interface", "PJSIP/1002")}, "Message", "Removed interface from queue")
	check("QueueRemove", "qr2", []amiproto.Header{H("Queue", "nosuch"), H("Interface", "PJSIP/1002")}, "Message", "Unable to remove interface from queue: No such queue")

	c.action("QueueSummary", "qsum")
	c.response("qsum")
	items = c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "QueueSummaryComplete" })
	if got := names(items); strings.Join(got, ",") != "QueueSummary,QueueSummary,QueueSummaryComplete" {
		t.Fatalf("QueueSummary items: %v", got)
	}

	c.action("PJSIPShowEndpoints", "eps")
	if m, _ := c.response("eps"); m.Get("EventList") != "start" {
		t.Fatalf("PJSIPShowEndpoints: %v", m.Headers)
	}
	items = c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "EndpointListComplete" })
	if len(items) != 5 || items[4].Get("ListItems") != "4" || items[0].Get("ObjectName") != "1001" {
		t.Fatalf("endpoints: %v", names(items))
	}
	c.action("PJSIPShowEndpoint", "ep", H("Endpoint", "1001"))
	c.response("ep")
	items = c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "EndpointDetailComplete" })
	if got := names(items); strings.Join(got, ",") != "EndpointDetail,AorDetail,AuthDetail,EndpointDetailComplete" {
		t.Fatalf("endpoint detail: %v", got)
	}
	check("PJSIPShowEndpoint", "ep2", []amiproto.Header{H("Endpoint", "9")}, "Message", "Unable to retrieve endpoint 9")

	c.action("ListCommands", "lc")
	if m, _ := c.response("lc"); !strings.HasPrefix(m.Get("Originate"), "Originate a call.") {
		t.Fatalf("ListCommands: %v", m.Headers)
	}
}

func TestUserEvent(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	sender, listener := dial(t, s), dial(t, s)
	sender.login("off")
	listener.login("on")
	sender.action("UserEvent", "u", H("UserEvent", "CampaignStart"), H("Campaign", "42"))
	if m, _ := sender.response("u"); m.Get("Response") != "Success" {
		t.Fatalf("UserEvent: %v", m.Headers)
	}
	ev := listener.until(func(m *amiproto.Message) bool { return m.Get("Event") == "UserEvent" })
	m := ev[len(ev)-1]
	if m.Get("UserEvent") != "CampaignStart" || m.Get("Campaign") != "42" || m.Get("Privilege") != "user,all" {
		t.Fatalf("UserEvent event: %v", m.Headers)
	}
	if _, ok := m.Lookup("ActionID"); ok {
		t.Fatalf("the broadcast UserEvent carries an ActionID: %v", m.Headers)
	}
}
