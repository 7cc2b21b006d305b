package amitest

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// asteriskVersion is the Asterisk version the fake PBX claims to run.
const asteriskVersion = "GIT-master-amitest"

// builtinAction is one built-in action: its handler and its ListCommands
// line.
type builtinAction struct {
	fn       HandlerFunc
	synopsis string
	priv     string
}

// builtins holds the built-in actions by lower-case name. It is filled in
// init because ListCommands reads it.
var builtins map[string]builtinAction

func init() {
	builtins = map[string]builtinAction{
		"login":              {actionLogin, "Login Manager.", "<none>"},
		"challenge":          {actionChallenge, "Generate Challenge for MD5 Auth.", "<none>"},
		"logoff":             {actionLogoff, "Logoff Manager.", "<none>"},
		"ping":               {actionPing, "Keepalive command.", "<none>"},
		"events":             {actionEvents, "Control Event Flow.", "<none>"},
		"listcommands":       {actionListCommands, "List available manager commands.", "<none>"},
		"command":            {actionCommand, "Execute Asterisk CLI Command.", "command,all"},
		"corestatus":         {actionCoreStatus, "Show PBX core status variables.", "system,reporting,all"},
		"coresettings":       {actionCoreSettings, "Show PBX core settings (version etc).", "system,reporting,all"},
		"getvar":             {actionGetvar, "Gets a channel variable or function value.", "call,reporting,all"},
		"setvar":             {actionSetvar, "Sets a channel variable or function value.", "call,all"},
		"userevent":          {actionUserEvent, "Send an arbitrary event.", "user,all"},
		"extensionstate":     {actionExtensionState, "Check Extension Status.", "call,reporting,all"},
		"coreshowchannels":   {actionCoreShowChannels, "List currently active channels.", "system,reporting,all"},
		"status":             {actionStatus, "List channel status.", "system,call,reporting,all"},
		"hangup":             {actionHangup, "Hangup channel.", "system,call,all"},
		"redirect":           {actionRedirect, "Redirect (transfer) a call.", "call,all"},
		"originate":          {actionOriginate, "Originate a call.", "originate,all"},
		"queuestatus":        {actionQueueStatus, "Show queue status.", "<none>"},
		"queuesummary":       {actionQueueSummary, "Show queue summary.", "<none>"},
		"queueadd":           {actionQueueAdd, "Add interface to queue.", "agent,all"},
		"queueremove":        {actionQueueRemove, "Remove interface from queue.", "agent,all"},
		"queuepause":         {actionQueuePause, "Makes a queue member temporarily unavailable.", "agent,all"},
		"pjsipshowendpoints": {actionPJSIPShowEndpoints, "Lists PJSIP endpoints.", "system,all"},
		"pjsipshowendpoint":  {actionPJSIPShowEndpoint, "Detail listing of an endpoint and its objects.", "system,all"},
	}
}

// Builtins returns the names of the built-in actions, sorted.
func Builtins() []string {
	names := make([]string, 0, len(builtins))
	for k := range builtins {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func actionLogin(w *ResponseWriter, r *Request) {
	c, s, m := w.c, w.c.s, r.Action
	user := m.Get("Username")
	secret, known := s.opts.Users[user]
	ok := false
	if strings.EqualFold(m.Get("AuthType"), "md5") {
		c.mu.Lock()
		challenge := c.challenge
		c.mu.Unlock()
		if known && challenge != "" {
			sum := md5.Sum([]byte(challenge + secret))
			ok = subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(m.Get("Key")))) == 1
		}
	} else {
		ok = known && subtle.ConstantTimeCompare([]byte(m.Get("Secret")), []byte(secret)) == 1
	}
	if !ok {
		s.counters.loginFailed.Add(1)
		s.logf("conn %d: login failed for %q", c.id, user)
		if !sleep(s.opts.LoginFailureDelay, c.done) {
			return
		}
		w.Error("Authentication failed")
		c.closeGraceful()
		return
	}
	mask := eventMask{all: true}
	if v, ok := m.Lookup("Events"); ok {
		mask = parseEventMask(v)
	}
	c.mu.Lock()
	c.loggedIn, c.username, c.mask = true, user, mask
	c.mu.Unlock()
	w.Success(H("Message", "Authentication accepted"))
	s.counters.loginOK.Add(1)
	s.mu.Lock()
	s.loggedIn++
	s.notifyLocked()
	s.mu.Unlock()
	s.logf("conn %d: logged in as %q", c.id, user)

	now := time.Now()
	up := strconv.Itoa(int(now.Sub(s.pbx.started).Seconds()))
	c.sendEvent([]amiproto.Header{
		H("Event", "FullyBooted"), H("Privilege", "system,all"),
		H("Uptime", up), H("LastReload", up), H("Status", "Fully Booted"),
	})
	tv := now.UTC().Format("2006-01-02T15:04:05.000-0700")
	c.sendEvent([]amiproto.Header{
		H("Event", "SuccessfulAuth"), H("Privilege", "security,all"),
		H("EventTV", tv), H("Severity", "Informational"), H("Service", "AMI"),
		H("EventVersion", "1"), H("AccountID", user),
		H("SessionID", fmt.Sprintf("0x7f34%08x", 0x11a0+c.id*0x1000)),
		H("LocalAddress", astAddr(c.raw.LocalAddr())),
		H("RemoteAddress", astAddr(c.raw.RemoteAddr())),
		H("UsingPassword", "0"), H("SessionTV", tv),
	})
}

func actionChallenge(w *ResponseWriter, r *Request) {
	if !strings.EqualFold(r.Action.Get("AuthType"), "md5") {
		w.Error("Must specify AuthType")
		return
	}
	challenge := strconv.Itoa(100000000 + rand.IntN(900000000))
	w.c.mu.Lock()
	w.c.challenge = challenge
	w.c.mu.Unlock()
	w.Success(H("Challenge", challenge))
}

func actionLogoff(w *ResponseWriter, r *Request) {
	w.Respond(H("Response", "Goodbye"), H("Message", "Thanks for all the fish."))
	w.c.closeGraceful()
}

func actionPing(w *ResponseWriter, r *Request) {
	now := time.Now()
	w.Success(H("Ping", "Pong"), H("Timestamp", fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)))
}

func actionEvents(w *ResponseWriter, r *Request) {
	v := strings.TrimSpace(r.Action.Get("EventMask"))
	if v == "" {
		w.Error("Invalid event mask")
		return
	}
	mask := parseEventMask(v)
	w.c.mu.Lock()
	w.c.mask = mask
	w.c.mu.Unlock()
	if mask.on() {
		w.Success(H("Events", "On"))
	} else {
		w.Success(H("Events", "Off"))
	}
}

func actionListCommands(w *ResponseWriter, r *Request) {
	names := Builtins()
	hs := make([]amiproto.Header, 0, len(names))
	for _, n := range names {
		b := builtins[n]
		hs = append(hs, H(canonicalAction(n), b.synopsis+"  (Priv: "+b.priv+")"))
	}
	w.Success(hs...)
}

// canonicalAction returns the usual spelling of a built-in action name.
func canonicalAction(lower string) string {
	for _, n := range []string{"CoreShowChannels", "CoreStatus", "CoreSettings", "ExtensionState",
		"ListCommands", "PJSIPShowEndpoints", "PJSIPShowEndpoint", "QueueStatus", "QueueSummary",
		"QueueAdd", "QueueRemove", "QueuePause", "UserEvent"} {
		if strings.ToLower(n) == lower {
			return n
		}
	}
	return strings.ToUpper(lower[:1]) + lower[1:]
}

func actionCoreStatus(w *ResponseWriter, r *Request) {
	p := w.c.s.pbx
	st := p.started
	w.Success(
		H("CoreStartupDate", st.Format("2006-01-02")), H("CoreStartupTime", st.Format("15:04:05")),
		H("CoreReloadDate", st.Format("2006-01-02")), H("CoreReloadTime", st.Format("15:04:05")),
		H("CoreCurrentCalls", strconv.Itoa(p.activeCalls())),
		H("CoreProcessedCalls", strconv.FormatInt(w.c.s.counters.callsStarted.Load(), 10)),
	)
}

func actionCoreSettings(w *ResponseWriter, r *Request) {
	w.Success(
		H("AMIversion", w.c.s.opts.Version), H("AsteriskVersion", asteriskVersion),
		H("SystemName", ""), H("CoreMaxCalls", "0"), H("CoreMaxLoadAvg", "0.000000"),
		H("CoreRunUser", ""), H("CoreRunGroup", ""), H("CoreMaxFilehandles", "0"),
		H("CoreRealTimeEnabled", "No"), H("CoreCDRenabled", "No"), H("CoreHTTPenabled", "No"),
		H("SoundsSearchCustomDir", "No"),
	)
}

func actionGetvar(w *ResponseWriter, r *Request) {
	name := r.Action.Get("Variable")
	if name == "" {
		w.Error("No variable specified")
		return
	}
	value, ok := w.c.s.pbx.getvar(r.Action.Get("Channel"), name)
	if !ok {
		w.Error("No such channel")
		return
	}
	w.Success(H("Variable", name), H("Value", value))
}

func actionSetvar(w *ResponseWriter, r *Request) {
	name := r.Action.Get("Variable")
	if name == "" {
		w.Error("No variable specified")
		return
	}
	if !w.c.s.pbx.setvar(r.Action.Get("Channel"), name, r.Action.Get("Value")) {
		w.Error("No such channel")
		return
	}
	w.Success(H("Message", "Variable Set"))
}

func actionUserEvent(w *ResponseWriter, r *Request) {
	name := r.Action.Get("UserEvent")
	if name == "" {
		w.Error("Missing UserEvent name")
		return
	}
	w.Success()
	hs := []amiproto.Header{H("Event", "UserEvent"), H("Privilege", "user,all"), H("UserEvent", name)}
	for _, h := range r.Action.Headers {
		switch strings.ToLower(h.Key) {
		case "action", "actionid", "userevent":
		default:
			hs = append(hs, h)
		}
	}
	w.c.s.Broadcast(hs...)
}

func actionExtensionState(w *ResponseWriter, r *Request) {
	exten, context := r.Action.Get("Exten"), r.Action.Get("Context")
	if context == "" {
		context = "default"
	}
	hint, status, text := "", "-1", "Unknown"
	if ep, ok := w.c.s.pbx.endpoint(exten); ok {
		hint = "PJSIP/" + ep
		status, text = "0", "Idle"
		if w.c.s.pbx.endpointInUse(ep) {
			status, text = "1", "InUse"
		}
	}
	w.Success(H("Message", "Extension Status"), H("Exten", exten), H("Context", context),
		H("Hint", hint), H("Status", status), H("StatusText", text))
}

// astAddr formats an address the way security events do:
// "IPV4/TCP/127.0.0.1/5038".
func astAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "IPV4/TCP/" + a.String()
	}
	family := "IPV4"
	if strings.Contains(host, ":") {
		family = "IPV6"
	}
	return family + "/TCP/" + host + "/" + port
}
