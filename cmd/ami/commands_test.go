package main_test

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDemoPrintsEvents(t *testing.T) {
	t.Parallel()
	r := runAMI(t, env(), "demo", "--duration", "2s", "--calls-per-second", "20")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, ev := range []string{" demo Newchannel ", " demo Hangup "} {
		if !strings.Contains(r.stdout, ev) {
			t.Errorf("no %q line in:\n%.2000s", ev, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "ami: summary") {
		t.Errorf("no summary on stderr:\n%s", r.stderr)
	}
}

func TestActionPing(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := runAMI(t, secretEnv(), "action", "--addr", s.Addr(), "--username", testUser, "Ping")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	var res struct {
		Action   string            `json:"action"`
		ActionID string            `json:"action_id"`
		Response map[string]any    `json:"response"`
		Events   []json.RawMessage `json:"events"`
		Output   []string          `json:"output"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if res.Response["Ping"] != "Pong" || res.Response["Response"] != "Success" || res.ActionID == "" {
		t.Errorf("result:\n%s", r.stdout)
	}
	noSecret(t, testSecret, r.stdout, r.stderr)
}

func TestActionCommandAndList(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := runAMI(t, secretEnv(), "action", "--addr", s.Addr(), "--username", testUser, "Command", "Command=core show uptime")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	var res struct {
		Output []string `json:"output"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Output) == 0 {
		t.Errorf("command output: %v\n%s", err, r.stdout)
	}
	r = runAMI(t, secretEnv(), "action", "--addr", s.Addr(), "--username", testUser, "CoreShowChannels")
	if r.code != 0 || !strings.Contains(r.stdout, `"events": [`) {
		t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestActionErrorExit1(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := runAMI(t, secretEnv(), "action", "--addr", s.Addr(), "--username", testUser, "NoSuchAction")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "Invalid/unknown command") {
		t.Errorf("the AMI message is not on stderr:\n%s", r.stderr)
	}
	// Wrong secret: exit 1, and the secret given is not echoed.
	r = runAMI(t, env("AMI_SECRET=Wrong-Secret-123"), "action", "--addr", s.Addr(), "--username", testUser, "Ping")
	if r.code != 1 {
		t.Fatalf("exit %d with a wrong secret; stderr:\n%s", r.code, r.stderr)
	}
	noSecret(t, "Wrong-Secret-123", r.stdout, r.stderr)
}

func TestCheckTable(t *testing.T) {
	t.Parallel()
	good := newServer(t)
	other := newServer(t)
	cfg := writeFile(t, "ami.yaml", fmt.Sprintf(`options:
  connect_timeout: 2s
  auth_timeout: 2s
servers:
  good:
    address: %s
    username: %s
    secret: %s
  badauth:
    address: %s
    username: %s
    secret: Not-The-Secret-42
`, good.Addr(), testUser, testSecret, other.Addr(), testUser))
	r := runAMI(t, env(), "check", "--config", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^SERVER\s+ADDRESS\s+STATE\s+VERSION\s+LOGIN\s+PING$`).MatchString(r.stdout) {
		t.Errorf("no header:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`(?m)^good\s+127\.0\.0\.1:\d+\s+ready\s+13\.0\.0\s+ok\s+\S+s$`).MatchString(r.stdout) {
		t.Errorf("no ok row for good:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`(?m)^badauth\s+127\.0\.0\.1:\d+\s+\S+\s+\S+\s+failed`).MatchString(r.stdout) {
		t.Errorf("no failed row for badauth:\n%s", r.stdout)
	}
	noSecret(t, testSecret, r.stdout, r.stderr)
	noSecret(t, "Not-The-Secret-42", r.stdout, r.stderr)

	r = runAMI(t, env(), "check", "--config", cfg, "--server", "good")
	if r.code != 0 {
		t.Errorf("exit %d for the good server alone:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runAMI(t, env(), "version")
	if r.code != 0 || !regexp.MustCompile(`^ami \S+.* \(go1\.\S+ \w+/\w+\)\n$`).MatchString(r.stdout) {
		t.Errorf("exit %d: %q", r.code, r.stdout)
	}
}

func TestAddrWithoutSecretIsUsageError(t *testing.T) {
	t.Parallel()
	r := runAMI(t, env(), "action", "--addr", "127.0.0.1:1", "--username", testUser, "Ping")
	if r.code != 2 || !strings.Contains(r.stderr, "AMI_SECRET") || !strings.Contains(r.stderr, "--secret-file") {
		t.Errorf("exit %d, want 2 naming AMI_SECRET and --secret-file; stderr:\n%s", r.code, r.stderr)
	}
}

func TestListenOnceStopsOnRefusedLogin(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	start := time.Now()
	r := runAMI(t, env("AMI_SECRET=Wrong-Secret-123"), listenArgs(s, "--once")...)
	if r.code != 1 || !strings.Contains(r.stderr, "authentication failed") {
		t.Errorf("exit %d, want 1 with the login error; stderr:\n%s", r.code, r.stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("--once waited %v for a refused login (the connect budget), want an early exit", d)
	}
	noSecret(t, "Wrong-Secret-123", r.stdout, r.stderr)
}

func TestActionResultFields(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := runAMI(t, secretEnv(), "action", "--addr", s.Addr(), "--username", testUser, "CoreShowChannels")
	var list struct {
		Complete map[string]any `json:"complete"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || list.Complete["ListItems"] == nil {
		t.Errorf("exit %d, no complete.ListItems (%v):\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	r = runAMI(t, secretEnv(), "action", "--addr", s.Addr(), "--username", testUser, "Command", "Command=core show uptime")
	var cmd struct {
		Response map[string]any `json:"response"`
		Output   []string       `json:"output"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cmd); err != nil || len(cmd.Output) == 0 || cmd.Response["Output"] != nil {
		t.Errorf("exit %d, want the output lines once, in output (%v):\n%s%s", r.code, err, r.stdout, r.stderr)
	}
}

func TestMetricsAddrInUseIsRuntimeFailure(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runAMI(t, secretEnv(), listenArgs(s, "--metrics-addr", ln.Addr().String(), "--duration", "1s")...)
	if r.code != 1 || !strings.Contains(r.stderr, "--metrics-addr") {
		t.Errorf("exit %d, want 1 (a port in use is not a usage error); stderr:\n%s", r.code, r.stderr)
	}
	r = runAMI(t, secretEnv(), listenArgs(s, "--metrics-addr", "no-port", "--duration", "1s")...)
	if r.code != 2 {
		t.Errorf("exit %d, want 2 for a malformed --metrics-addr; stderr:\n%s", r.code, r.stderr)
	}
}
