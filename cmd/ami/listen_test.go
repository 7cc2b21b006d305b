package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apntalk/ami/amitest"
)

const (
	testUser   = "dialer"
	testSecret = "S3cr3t-Value-7x9"
)

func newServer(t *testing.T) *amitest.Server {
	return amitest.NewServer(t, amitest.Options{Users: map[string]string{testUser: testSecret}})
}

func listenArgs(s *amitest.Server, extra ...string) []string {
	return append([]string{"listen", "--addr", s.Addr(), "--username", testUser, "--server", "pbx1", "--log-format", "json"}, extra...)
}

func secretEnv() []string { return env("AMI_SECRET=" + testSecret) }

func TestListenPrintsJSONLinesAndLogsOffOnSIGTERM(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := start(t, secretEnv(), nil, listenArgs(s)...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Ready(ctx, 1); err != nil {
		t.Fatalf("no login: %v\n%s", err, p.stderr())
	}
	s.Broadcast(amitest.H("Event", "Hangup"), amitest.H("Privilege", "call,all"),
		amitest.H("Channel", "PJSIP/100-00000001"), amitest.H("Cause-txt", `Normal "Clearing"`),
		amitest.H("Variable", "a=1"), amitest.H("Variable", "b=2"))
	e := p.waitEvent("Hangup", 20*time.Second)
	if e.Server != "pbx1" {
		t.Errorf("server = %q", e.Server)
	}
	if _, err := time.Parse(time.RFC3339Nano, e.ReceivedAt); err != nil {
		t.Errorf("received_at %q: %v", e.ReceivedAt, err)
	}
	if e.Headers["Channel"] != "PJSIP/100-00000001" || e.Headers["Cause-txt"] != `Normal "Clearing"` {
		t.Errorf("headers = %v", e.Headers)
	}
	if v, ok := e.Headers["Variable"].([]any); !ok || len(v) != 2 || v[0] != "a=1" || v[1] != "b=2" {
		t.Errorf("Variable = %#v, want [a=1 b=2]", e.Headers["Variable"])
	}
	if _, ok := e.Headers["Event"]; ok {
		t.Errorf("Event header repeated in headers: %v", e.Headers)
	}

	if code := p.stop(syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr())
	}
	conns := s.Conns()
	if len(conns) == 0 {
		t.Fatal("no connection recorded")
	}
	var logoff bool
	for _, a := range conns[len(conns)-1].Actions() {
		if strings.EqualFold(a.Get("Action"), "Logoff") {
			logoff = true
		}
	}
	if !logoff {
		t.Errorf("no Logoff before exit; actions: %s", conns[len(conns)-1].Received())
	}
	sum := summaries(t, p.stderr())["pbx1"]
	if sum.Received == 0 || sum.Printed == 0 {
		t.Errorf("summary = %+v", sum)
	}
	noSecret(t, testSecret, p.stdout(), p.stderr())
}

func TestListenEventFilterAndText(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := start(t, secretEnv(), nil, listenArgs(s, "--event", "hangup", "--format", "text")...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Ready(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.Broadcast(amitest.H("Event", "Newchannel"), amitest.H("Channel", "X"))
	s.Broadcast(amitest.H("Event", "Hangup"), amitest.H("Channel", "PJSIP/1"), amitest.H("Cause-txt", "Normal Clearing"))
	select {
	case line := <-p.lines:
		if !regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} pbx1 Hangup Channel=PJSIP/1 Cause-txt="Normal Clearing"$`).MatchString(line) {
			t.Errorf("text line = %q", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no line; stderr:\n%s", p.stderr())
	}
	if code := p.stop(os.Interrupt, 20*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT", code)
	}
	if out := p.stdout(); strings.Contains(out, "Newchannel") || strings.Contains(out, "FullyBooted") {
		t.Errorf("filtered events printed:\n%s", out)
	}
	sum := summaries(t, p.stderr())["pbx1"]
	if sum.Filtered == 0 || sum.Printed != 1 {
		t.Errorf("summary = %+v, want 1 printed and some filtered", sum)
	}
}

func TestListenOnceAndMaxIterationsStop(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, args := range [][]string{{"--once"}, {"--max-iterations", "5"}} {
		t.Run(args[0], func(t *testing.T) {
			begin := time.Now()
			r := runAMI(t, secretEnv(), listenArgs(s, args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			if d := time.Since(begin); d > 30*time.Second {
				t.Errorf("took %v", d)
			}
			if _, ok := summaries(t, r.stderr)["pbx1"]; !ok {
				t.Errorf("no summary; stderr:\n%s", r.stderr)
			}
			noSecret(t, testSecret, r.stdout, r.stderr)
		})
	}
}

func TestListenOnceFailsWhenNotReady(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	cfg := writeFile(t, "ami.yaml", fmt.Sprintf(`options:
  connect_timeout: 200ms
  auth_timeout: 200ms
  reconnect_base: 10ms
servers:
  down:
    address: %s
    username: u
    secret: ${AMI_TEST_DOWN_SECRET}
`, addr))
	r := runAMI(t, env("AMI_TEST_DOWN_SECRET="+testSecret), "listen", "--config", cfg, "--once", "--log-format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "not ready") || !strings.Contains(r.stderr, "down") {
		t.Errorf("stderr does not say which server is not ready:\n%s", r.stderr)
	}
	noSecret(t, testSecret, r.stdout, r.stderr)
}

func TestUsageAndConfigErrorsExit2(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.yaml", "servers:\n  pbx1:\n    address: 127.0.0.1:5038\n    username: u\n    secret: "+testSecret+"\n    options:\n      conect_timeout: 5s\n")
	outOfRange := writeFile(t, "range.yaml", "options:\n  tick_interval: 2s\nservers:\n  pbx1:\n    address: 127.0.0.1:5038\n    username: u\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown key", []string{"listen", "--config", bad}, []string{"line 7", "servers.pbx1.options.conect_timeout", "connect_timeout"}},
		{"out of range", []string{"check", "--config", outOfRange}, []string{"line 2", "options.tick_interval", "out of range"}},
		{"unknown server", []string{"listen", "--config", bad, "--server", "nope"}, []string{"line 7"}},
		{"missing file", []string{"listen", "--config", "/nonexistent/ami.yaml"}, []string{"/nonexistent/ami.yaml"}},
		{"tick timeout", []string{"listen", "--addr", "127.0.0.1:1", "--username", "u", "--tick-timeout", "1s"}, []string{"--tick-timeout"}},
		{"bad format", []string{"listen", "--addr", "127.0.0.1:1", "--username", "u", "--format", "xml"}, []string{"--format"}},
		{"no server", []string{"listen"}, []string{"--config", "--addr"}},
		{"unknown flag", []string{"listen", "--bogus"}, []string{"bogus"}},
		{"unknown command", []string{"frobnicate"}, []string{"frobnicate"}},
		{"action without name", []string{"action", "--addr", "127.0.0.1:1", "--username", "u"}, []string{"arg"}},
		{"action bad argument", []string{"action", "--addr", "127.0.0.1:1", "--username", "u", "Ping", "novalue"}, []string{"Key=Value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAMI(t, secretEnv(), tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			noSecret(t, testSecret, r.stdout, r.stderr)
		})
	}
}

func TestHelpShowsNoSecret(t *testing.T) {
	t.Parallel()
	r := runAMI(t, secretEnv(), "listen", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--secret-file") {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	noSecret(t, testSecret, r.stdout, r.stderr)
}

func TestMetricsAndHealthz(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := start(t, secretEnv(), nil, listenArgs(s, "--metrics-addr", "127.0.0.1:0")...)
	rec := p.waitLog("metrics listening", 20*time.Second)
	addr, _ := rec["addr"].(string)
	if addr == "" {
		t.Fatalf("no addr in %v", rec)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// /healthz turns 200 once the server is ready.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get("/healthz")
		if code == http.StatusOK {
			if !strings.Contains(body, `"status": "ok"`) || !strings.Contains(body, `"state": "ready"`) {
				t.Errorf("healthz body:\n%s", body)
			}
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("healthz %d:\n%s", code, body)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	code, body := get("/metrics")
	if code != http.StatusOK || !strings.Contains(body, `ami_connection_state{server="pbx1",state="ready"} 1`) ||
		!strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics %d:\n%s", code, body)
	}
	// The PBX goes away: /healthz answers 503 with the reason.
	s.SetRefuse(true)
	s.CloseClientConnections()
	deadline = time.Now().Add(20 * time.Second)
	for {
		code, body := get("/healthz")
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(body, `"status": "unavailable"`) {
				t.Errorf("healthz body:\n%s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz still %d:\n%s", code, body)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if code := p.stop(syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	noSecret(t, testSecret, p.stdout(), p.stderr())
}

// TestFloodIntoUnreadStdout floods events while nobody reads stdout: the
// loop keeps reading the PBX (no stall), lines are dropped and counted, and
// the summary accounts for every event.
func TestFloodIntoUnreadStdout(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	cfg := writeFile(t, "ami.yaml", fmt.Sprintf(`options:
  shutdown_timeout: 300ms
servers:
  pbx1:
    address: %s
    username: %s
    secret: ${AMI_TEST_SECRET}
`, s.Addr(), testUser))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // never read: stdout blocks once the pipe buffer is full
	p := start(t, env("AMI_TEST_SECRET="+testSecret), w,
		"listen", "--config", cfg, "--log-format", "json", "--output-buffer", "100", "--metrics-addr", "127.0.0.1:0")
	w.Close()
	rec := p.waitLog("metrics listening", 20*time.Second)
	addr := rec["addr"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Ready(ctx, 1); err != nil {
		t.Fatal(err)
	}
	const count = 20000
	sent, err := s.Flood(ctx, amitest.Flood{Count: count})
	if err != nil || sent != count {
		t.Fatalf("flood: sent %d, %v", sent, err)
	}
	// Wait until the manager has read every event: the tick is not stalled
	// by the blocked stdout.
	re := regexp.MustCompile(`(?m)^ami_events_received_total\{[^}]*server="pbx1"[^}]*\} (\S+)$`)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		total := 0.0
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			total += v
		}
		if total >= count {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("only %v of %d events received: the loop stalled", total, count)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr())
	}
	sum, ok := summaries(t, p.stderr())["pbx1"]
	if !ok {
		t.Fatalf("no summary:\n%s", p.stderr())
	}
	if sum.Received < count {
		t.Errorf("received %d < %d sent", sum.Received, count)
	}
	if got := sum.Printed + sum.Filtered + sum.DroppedOutput + sum.DroppedQueue + sum.Undelivered; got != sum.Received {
		t.Errorf("summary does not add up: %+v (sum %d)", sum, got)
	}
	if sum.DroppedOutput == 0 {
		t.Errorf("no line dropped although stdout was never read: %+v", sum)
	}
}
