package amitest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

func TestOriginateAsync(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("on")
	c.action("Originate", "o1", H("Channel", "PJSIP/1001"), H("Context", "campaign"), H("Exten", "5551234"),
		H("Priority", "1"), H("CallerID", `"Dialer" <5550000>`), H("Async", "true"))
	m, _ := c.response("o1")
	if m.Get("Response") != "Success" || m.Get("Message") != "Originate successfully queued" {
		t.Fatalf("response: %v", m.Headers)
	}
	evs := c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "OriginateResponse" })
	or := evs[len(evs)-1]
	if or.ActionID() != "o1" || or.Get("Response") != "Success" || or.Get("Reason") != "4" ||
		!strings.HasPrefix(or.Get("Channel"), "PJSIP/1001-") || or.Get("Exten") != "5551234" ||
		or.Get("CallerIDNum") != "5550000" || or.Get("CallerIDName") != "Dialer" {
		t.Fatalf("OriginateResponse: %v", or.Headers)
	}
	uid := or.Get("Uniqueid")
	evs = c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "Hangup" && m.Get("Uniqueid") == uid })
	if h := evs[len(evs)-1]; h.Get("Cause") != "16" || h.Get("Cause-txt") != "Normal Clearing" {
		t.Fatalf("Hangup: %v", h.Headers)
	}
}

func TestOriginateSync(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("on")
	c.action("Originate", "sync", H("Channel", "Local/short@test"), H("Application", "Wait"), H("Data", "1"))
	m, before := c.response("sync")
	if m.Get("Message") != "Originate successfully queued" || len(before) != 0 {
		t.Fatalf("response %v after events %v", m.Headers, names(before))
	}
	evs := c.until(func(m *amiproto.Message) bool {
		return m.Get("Event") == "Hangup" && strings.HasSuffix(m.Get("Channel"), ";2")
	})
	if slices.Contains(names(evs), "OriginateResponse") {
		t.Fatal("a synchronous Originate sent OriginateResponse")
	}
	c.action("Originate", "sync-bad", H("Channel", "Local/busy@test"), H("Application", "Wait"), H("Data", "1"))
	m, _ = c.response("sync-bad")
	if m.Get("Response") != "Error" || m.Get("Message") != "Originate failed" {
		t.Fatalf("failed sync originate: %v", m.Headers)
	}
}

func TestOriginateOutcomes(t *testing.T) {
	cases := []struct{ channel, reason string }{
		{"Local/fail@test", "0"},
		{"Bogus/whatever", "0"},
		{"PJSIP/busy", "5"},
		{"Local/noanswer@test", "3"},
		{"SIP/trunk/congestion", "8"},
		{"Local/ok@test", "4"},
	}
	s := amitest.NewServer(t, amitest.Options{})
	c := dial(t, s)
	c.login("call")
	for _, tc := range cases {
		id := "o-" + tc.channel
		c.action("Originate", id, H("Channel", tc.channel), H("Application", "Wait"), H("Data", "1"), H("Async", "yes"))
		c.response(id)
		evs := c.until(func(m *amiproto.Message) bool {
			return m.Get("Event") == "OriginateResponse" && m.ActionID() == id
		})
		or := evs[len(evs)-1]
		wantResp := "Failure"
		if tc.reason == "4" {
			wantResp = "Success"
		}
		if or.Get("Reason") != tc.reason || or.Get("Response") != wantResp {
			t.Errorf("%s: OriginateResponse %v", tc.channel, or.Headers)
		}
	}
}

func TestSimulatedChannelsLists(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{CallDuration: time.Hour})
	c := dial(t, s)
	c.login("on")
	c.action("Originate", "o", H("Channel", "Local/long@test"), H("Application", "Wait"), H("Data", "600"), H("Async", "1"))
	c.response("o")
	c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "OriginateResponse" })
	// Newexten of ;2 at priority 2 comes last before the long wait.
	c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "Newexten" && m.Get("Application") == "Wait" })

	c.action("CoreShowChannels", "csc")
	if m, _ := c.response("csc"); m.Get("EventList") != "start" || m.Get("Message") != "Channels will follow" {
		t.Fatalf("CoreShowChannels: %v", m.Headers)
	}
	items := c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "CoreShowChannelsComplete" })
	if len(items) != 3 || items[2].Get("ListItems") != "2" || items[2].ActionID() != "csc" {
		t.Fatalf("CoreShowChannels items: %v", names(items))
	}
	ch := items[0]
	if ch.Headers[1] != H("ActionID", "csc") || ch.Get("Channel") != "Local/long@test-00000000;1" ||
		ch.Get("ChannelStateDesc") != "Up" || ch.Get("Application") != "Wait" || ch.Get("ApplicationData") != "600" {
		t.Fatalf("CoreShowChannel: %v", ch.Headers)
	}

	c.action("Status", "st")
	c.response("st")
	items = c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "StatusComplete" })
	if len(items) != 3 || items[2].Get("Items") != "2" || items[0].Get("Event") != "Status" {
		t.Fatalf("Status: %v", names(items))
	}

	c.action("Hangup", "h", H("Channel", ch.Get("Channel")))
	if m, _ := c.response("h"); m.Get("Message") != "Channel Hungup" {
		t.Fatalf("Hangup: %v", m.Headers)
	}
	c.until(func(m *amiproto.Message) bool {
		return m.Get("Event") == "Hangup" && strings.HasSuffix(m.Get("Channel"), ";2")
	})
	deadline := time.Now().Add(waitTimeout)
	for s.Stats().CallsActive != 0 {
		if time.Now().After(deadline) {
			t.Fatal("call still active after Hangup")
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	c.action("CoreShowChannels", "csc2")
	c.response("csc2")
	items = c.until(func(m *amiproto.Message) bool { return m.Get("Event") == "CoreShowChannelsComplete" })
	if len(items) != 1 || items[0].Get("ListItems") != "0" {
		t.Fatalf("after hangup: %v", names(items))
	}
}

func TestStartCalls(t *testing.T) {
	s := amitest.NewServer(t, amitest.Options{TrafficCallDuration: 20 * time.Millisecond})
	c := dial(t, s)
	c.login("call")
	stop := s.StartCalls(100)
	defer stop()
	// Follow the first call from Newchannel to its last Hangup.
	seen := map[string][]string{} // linkedid -> events
	var done []string
	c.until(func(m *amiproto.Message) bool {
		id := m.Get("Linkedid")
		if id == "" {
			id = m.Get("DestLinkedid")
		}
		if id == "" {
			return false
		}
		seen[id] = append(seen[id], m.Get("Event"))
		evs := seen[id]
		if evs[0] == "Newchannel" && m.Get("Event") == "Hangup" && m.Get("Uniqueid") == id {
			done = evs
			return true
		}
		return false
	})
	for _, want := range []string{"Newchannel", "DialBegin", "Newstate", "DialEnd", "Hangup"} {
		if !slices.Contains(done, want) {
			t.Fatalf("lifecycle %v lacks %s", done, want)
		}
	}
	stop()
	stop() // idempotent
	if s.Stats().CallsStarted == 0 {
		t.Fatal("no call counted")
	}
}

func TestStartCallsAfterClose(t *testing.T) {
	s := amitest.NewServer(nil, amitest.Options{})
	s.Close()
	stop := s.StartCalls(10)
	stop()
	if err := s.Ready(context.Background(), 1); !errors.Is(err, amitest.ErrServerClosed) {
		t.Fatalf("Ready on a closed server: %v", err)
	}
}
