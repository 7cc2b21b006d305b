package ami_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
)

func TestConfigValidation(t *testing.T) {
	ok := ami.ServerConfig{Address: "127.0.0.1:5038", Username: "u", Secret: "s"}
	cases := []struct {
		name  string
		cfg   ami.Config
		field string
		rng   string
	}{
		{"no servers", ami.Config{}, "servers", ""},
		{"no address", ami.Config{Servers: map[string]ami.ServerConfig{"a": {Username: "u"}}}, "servers.a.address", ""},
		{"bad address", ami.Config{Servers: map[string]ami.ServerConfig{"a": {Address: "nohost", Username: "u"}}}, "servers.a.address", ""},
		{"no username", ami.Config{Servers: map[string]ami.ServerConfig{"a": {Address: "h:1"}}}, "servers.a.username", ""},
		{"bad auth", ami.Config{Servers: map[string]ami.ServerConfig{"a": {Address: "h:1", Username: "u", Auth: "sha"}}}, "servers.a.auth", ""},
		{"unknown default", ami.Config{Default: "b", Servers: map[string]ami.ServerConfig{"a": ok}}, "default", ""},
		{"tick interval", ami.Config{Servers: map[string]ami.ServerConfig{"a": ok}, Options: ami.Options{TickInterval: 300 * time.Millisecond}}, "options.tick_interval", "1ms..250ms"},
		{"frame size", ami.Config{Servers: map[string]ami.ServerConfig{"a": ok}, Options: ami.Options{MaxFrameSize: 1024}}, "options.max_frame_size", "65536..4194304"},
		{"queue", ami.Config{Servers: map[string]ami.ServerConfig{"a": ok}, Options: ami.Options{EventQueueCapacity: -1}}, "options.event_queue_capacity", "1..10000000"},
		{"jitter", ami.Config{Servers: map[string]ami.ServerConfig{"a": ok}, Options: ami.Options{ReconnectJitter: 1.5}}, "options.reconnect_jitter", "0..1"},
		{"reconnect max < base", ami.Config{Servers: map[string]ami.ServerConfig{"a": ok}, Options: ami.Options{ReconnectBase: time.Second, ReconnectMax: time.Millisecond}}, "options.reconnect_max", ""},
		{"per-server override out of range", ami.Config{Servers: map[string]ami.ServerConfig{"a": {Address: "h:1", Username: "u", Options: ami.Options{ConnectTimeout: time.Hour}}}}, "servers.a.options.connect_timeout", "10ms..5m0s"},
		{"cluster option per server", ami.Config{Servers: map[string]ami.ServerConfig{"a": {Address: "h:1", Username: "u", Options: ami.Options{MaxConnectAttemptsPerTick: 2}}}}, "servers.a.options.max_connect_attempts_per_tick", ""},
		{"bad pattern", ami.Config{Servers: map[string]ami.ServerConfig{"a": ok}, Options: ami.Options{RedactPatterns: []string{"("}}}, "options.redact_patterns[0]", ""},
		{"crlf in username", ami.Config{Servers: map[string]ami.ServerConfig{"a": {Address: "h:1", Username: "u\r\nAction: x"}}}, "servers.a", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ami.NewManager(tc.cfg, ami.WithLogger(quietLogger()))
			var ce *ami.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ami.ErrInvalidConfig) {
				t.Fatalf("want *ConfigError, got %v", err)
			}
			if ce.Field != tc.field {
				t.Fatalf("field %q, want %q (%v)", ce.Field, tc.field, err)
			}
			if tc.rng != "" && !strings.Contains(err.Error(), tc.rng) {
				t.Fatalf("error %q does not name the range %q", err, tc.rng)
			}
		})
	}
}

// Secrets never appear in config errors.
func TestConfigErrorHasNoSecret(t *testing.T) {
	_, err := ami.NewManager(ami.Config{Servers: map[string]ami.ServerConfig{
		"a": {Address: "h:1", Username: "u", Secret: "hunter2-secret", Auth: "bogus"},
	}}, ami.WithLogger(quietLogger()))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the secret or is nil: %v", err)
	}
}

// Per-server options are merged over the global ones field by field: a
// server that sets one option keeps the global values of the others.
func TestPerServerOptionsMergeOverGlobal(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	srv.Handle("UserEvent", func(w *amitest.ResponseWriter, r *amitest.Request) { w.Ignore() })
	a, b := serverCfg(srv), serverCfg(srv)
	b.Options = ami.Options{ConnectTimeout: 3 * time.Second} // nothing about ActionTimeout or MaxPendingActions
	m := newManager(t, ami.Config{
		Servers: map[string]ami.ServerConfig{"a": a, "b": b},
		Options: ami.Options{ActionTimeout: 50 * time.Millisecond, MaxPendingActions: 3},
	})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	cb, _ := m.Server("b")
	var ps []*ami.Pending
	for i := 0; i < 3; i++ {
		p, err := cb.Send(ami.UserEvent{UserEvent: "x"})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if _, err := cb.Send(ami.UserEvent{UserEvent: "x"}); !errors.Is(err, ami.ErrBackpressure) {
		t.Fatalf("global MaxPendingActions=3 not inherited by b: %v", err)
	}
	start := time.Now()
	tickUntil(t, m, 5*time.Second, "timeouts", func() bool { return isDone(ps[2]) })
	if _, err := ps[0].Result(); !errors.Is(err, ami.ErrActionTimeout) {
		t.Fatalf("want timeout, got %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("global ActionTimeout=50ms not inherited (took %v; default would be 10s)", el)
	}
}

// Any server key works: spaces, colons, 100 characters. Generated
// ActionIDs stay within 64 printable bytes and map back to their server.
func TestOddServerKeys(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	keys := []string{"pbx one", "pbx:two", strings.Repeat("k", 100), "ümlaut-ключ"}
	servers := map[string]ami.ServerConfig{}
	for _, k := range keys {
		servers[k] = serverCfg(srv)
	}
	m := newManager(t, ami.Config{Servers: servers})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	for _, k := range keys {
		c, err := m.Server(k)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Send(ami.Ping{})
		if err != nil {
			t.Fatalf("%q: %v", k, err)
		}
		id := p.ActionID()
		if len(id) > ami.MaxActionIDLength || strings.ContainsAny(id, " \r\n") {
			t.Fatalf("%q: bad ActionID %q", k, id)
		}
		if got, ok := m.ServerOf(id); !ok || got != k {
			t.Fatalf("ServerOf(%q) = %q, %v; want %q", id, got, ok, k)
		}
		tickUntil(t, m, 5*time.Second, "ping", func() bool { return isDone(p) })
		if res, err := p.Result(); err != nil || res.Server != k {
			t.Fatalf("%q: %v %v", k, res, err)
		}
	}
}

func TestConfigCopyIsDeep(t *testing.T) {
	c := ami.Config{
		Servers: map[string]ami.ServerConfig{"a": {Address: "h:1", Username: "u", Options: ami.Options{RedactKeys: []string{"X"}}}},
		Options: ami.Options{RedactPatterns: []string{"p"}},
	}
	d := c.Copy()
	d.Servers["b"] = ami.ServerConfig{}
	d.Options.RedactPatterns[0] = "changed"
	d.Servers["a"].Options.RedactKeys[0] = "changed"
	if len(c.Servers) != 1 || c.Options.RedactPatterns[0] != "p" || c.Servers["a"].Options.RedactKeys[0] != "X" {
		t.Fatalf("Copy shares memory: %+v", c)
	}
}

// Hostnames are resolved inside the asynchronous dial.
func TestHostnameAddress(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	_, port, _ := strings.Cut(srv.Addr(), ":")
	cfg := serverCfg(srv)
	cfg.Address = "localhost:" + port
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": cfg}})
	tickUntil(t, m, 5*time.Second, "ready via hostname", allReady(m))
}

// With the heartbeat off and no explicit ReadTimeout, a quiet connection is
// not reset by the read timeout.
func TestNoHeartbeatNoImplicitReadTimeout(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	fake := time.Unix(1_800_000_000, 0)
	now := func() time.Time { return fake }
	cfg := serverCfg(srv)
	cfg.Events = "off"
	m := newManager(t, ami.Config{
		Servers: map[string]ami.ServerConfig{"pbx1": cfg},
		Options: ami.Options{HeartbeatInterval: -1},
	}, ami.WithNow(now))
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	fake = fake.Add(time.Hour) // far past the 45s default
	m.Poll()
	m.Poll()
	if st := m.Default().State(); st != ami.StateReady {
		t.Fatalf("quiet connection reset without a heartbeat: %s", st)
	}
}

func TestNotReadyAfterCloseIsErrClosed(t *testing.T) {
	srv := amitest.NewServer(t, amitest.Options{})
	m := newManager(t, ami.Config{Servers: map[string]ami.ServerConfig{"pbx1": serverCfg(srv)}})
	tickUntil(t, m, 5*time.Second, "ready", allReady(m))
	_ = m.Close()
	_, err := m.Default().Send(ami.Ping{})
	if !errors.Is(err, ami.ErrClosed) || !ami.SafeToRetry(err) {
		t.Fatalf("Send after Close: %v", err)
	}
}
