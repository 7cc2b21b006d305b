package amitest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// actionCommand answers Command with canned CLI outputs: "core show
// version", "core show uptime", "core show channels", "core show channels
// count" and "manager show users". Any other CLI command gets the "No such
// command" error of Asterisk.
func actionCommand(w *ResponseWriter, r *Request) {
	cmd := strings.Join(strings.Fields(r.Action.Get("Command")), " ")
	if cmd == "" {
		w.Error("No command provided")
		return
	}
	lines, ok := w.c.s.cliOutput(cmd)
	w.commandOutput(ok, lines)
}

// commandOutput writes a Command reply in the configured form. Modern
// (Asterisk 14+): "Response: Success" (or Error), "Message: Command output
// follows", one Output header per line. Legacy (Asterisk 13 and older):
// "Response: Follows", "Privilege: Command", the ActionID, the raw lines
// ending in LF, then "--END COMMAND--".
func (w *ResponseWriter) commandOutput(ok bool, lines []string) {
	if w.c.s.opts.LegacyCommand {
		var b strings.Builder
		b.WriteString("Response: Follows\r\nPrivilege: Command\r\n")
		if w.hasID {
			b.WriteString("ActionID: " + w.actionID + "\r\n")
		}
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString("\n")
		}
		b.WriteString("--END COMMAND--\r\n\r\n")
		w.c.s.counters.responses.Add(1)
		w.Raw([]byte(b.String()))
		return
	}
	resp := "Success"
	if !ok {
		resp = "Error"
	}
	hs := make([]amiproto.Header, 0, len(lines)+2)
	hs = append(hs, H("Response", resp), H("Message", "Command output follows"))
	for _, l := range lines {
		hs = append(hs, H("Output", l))
	}
	w.Respond(hs...)
}

// cliOutput returns the canned output of a CLI command, and false for an
// unknown command.
func (s *Server) cliOutput(cmd string) ([]string, bool) {
	p := s.pbx
	switch strings.ToLower(cmd) {
	case "core show version":
		return []string{"Asterisk " + asteriskVersion + " built by amitest @ localhost on a x86_64 running Linux on " +
			p.started.UTC().Format("2006-01-02 15:04:05") + " UTC"}, true
	case "core show uptime":
		up := cliDuration(time.Since(p.started))
		return []string{"System uptime: " + up, "Last reload: " + up}, true
	case "manager show users":
		users := make([]string, 0, len(s.opts.Users))
		for u := range s.opts.Users {
			users = append(users, u)
		}
		slices.Sort(users)
		lines := append([]string{"", "username", "--------"}, users...)
		return append(lines, "-------------------",
			fmt.Sprintf("%d manager %s configured.", len(users), plural(len(users), "user", "users"))), true
	case "core show channels":
		return p.showChannels(), true
	case "core show channels count":
		p.mu.Lock()
		n, calls := len(p.channels), len(p.calls)
		p.mu.Unlock()
		return p.countLines(n, calls), true
	}
	words := strings.Fields(cmd)
	hint := strings.Join(words[:min(2, len(words))], " ")
	return []string{fmt.Sprintf("No such command '%s' (type 'core show help %s' for other possible commands)", cmd, hint)}, false
}

func (p *pbx) countLines(channels, calls int) []string {
	return []string{
		fmt.Sprintf("%d active %s", channels, plural(channels, "channel", "channels")),
		fmt.Sprintf("%d active %s", calls, plural(calls, "call", "calls")),
		fmt.Sprintf("%d %s processed", p.s.counters.callsStarted.Load(),
			plural(int(p.s.counters.callsStarted.Load()), "call", "calls")),
	}
}

func (p *pbx) showChannels() []string {
	p.mu.Lock()
	chans := p.sortedChannelsLocked()
	lines := []string{fmt.Sprintf("%-20.20s %-20.20s %-7.7s %-30.30s", "Channel", "Location", "State", "Application(Data)")}
	for _, ch := range chans {
		lines = append(lines, fmt.Sprintf("%-20.20s %-20.20s %-7.7s %-30.30s", ch.name,
			fmt.Sprintf("%s@%s:%d", ch.exten, ch.context, ch.priority), stateDesc[ch.state],
			fmt.Sprintf("%s(%s)", ch.app, ch.appData)))
	}
	n, calls := len(chans), len(p.calls)
	p.mu.Unlock()
	return append(lines, p.countLines(n, calls)...)
}

// cliDuration formats d the way "core show uptime" does:
// "1 minute, 3 seconds".
func cliDuration(d time.Duration) string {
	secs := int(d.Seconds())
	parts := []string{}
	for _, u := range []struct {
		n          int
		one, other string
	}{{86400, "day", "days"}, {3600, "hour", "hours"}, {60, "minute", "minutes"}} {
		if secs >= u.n {
			parts = append(parts, fmt.Sprintf("%d %s", secs/u.n, plural(secs/u.n, u.one, u.other)))
			secs %= u.n
		}
	}
	if secs > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d %s", secs, plural(secs, "second", "seconds")))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}
