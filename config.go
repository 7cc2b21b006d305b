package ami

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Config is the serialisable configuration of a Manager: servers keyed by
// name, and the options shared by all of them. Load it from YAML with
// LoadConfig, or build it in Go. Functions and handlers (logger, metrics)
// are not part of it: pass them to NewManager as ManagerOptions.
type Config struct {
	// Default is the key of the server returned by Manager.Default. It may
	// be empty when there is exactly one server.
	Default string `yaml:"default"`
	// Servers maps a server key (any non-empty string) to its settings.
	Servers map[string]ServerConfig `yaml:"servers"`
	// Options apply to every server, under each server's own overrides.
	Options Options `yaml:"options"`
}

// ServerConfig describes one Asterisk PBX.
type ServerConfig struct {
	// Address is host:port of the manager interface. Hostnames are
	// resolved inside the asynchronous dial, never on the tick goroutine.
	Address string `yaml:"address"`
	// Username is the manager.conf user.
	Username string `yaml:"username"`
	// Secret is the manager.conf secret. It never appears in logs or errors.
	Secret string `yaml:"secret"`
	// SecretFile, when Secret is empty, names a file holding the secret
	// (trailing newline removed). Read by LoadConfig and NewManager.
	SecretFile string `yaml:"secret_file"`
	// Auth is "plain" (Secret sent in the Login action) or "md5" (Challenge,
	// then a hash of challenge and secret). Defaults to "plain".
	Auth string `yaml:"auth"`
	// Events is the event mask sent at login ("on", "off", "call,system", ...).
	// Defaults to "on".
	Events string `yaml:"events"`
	// TLS configures a TLS connection from files.
	TLS TLSOptions `yaml:"tls"`
	// TLSConfig, when set, is used as is (cloned) and takes precedence over TLS.
	TLSConfig *tls.Config `yaml:"-"`
	// Options override the global options for this server, field by field
	// (zero fields inherit the global value).
	Options Options `yaml:"options"`
}

// TLSOptions configures TLS from files, for YAML configs.
type TLSOptions struct {
	Enabled            bool   `yaml:"enabled"`              // use TLS. Defaults to false.
	CAFile             string `yaml:"ca_file"`              // PEM CA bundle; system roots when empty
	CertFile           string `yaml:"cert_file"`            // client certificate (PEM), optional
	KeyFile            string `yaml:"key_file"`             // client key (PEM), with CertFile
	ServerName         string `yaml:"server_name"`          // SNI and verification name; host of Address when empty
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"` // never in production
}

// Options tune the runtime. The zero value of every field means "use the
// default"; DefaultOptions lists them. Where documented, a negative value
// disables a feature. NewManager refuses out-of-range values with a
// *ConfigError naming the field and the allowed range.
type Options struct {
	// ConnectTimeout bounds Connecting (dial, DNS and TLS). Defaults to 10s; 10ms..5m.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// AuthTimeout bounds Connected+Authenticating (banner and login). Defaults to 10s; 10ms..5m.
	AuthTimeout time.Duration `yaml:"auth_timeout"`
	// ActionTimeout is the default per-action timeout. Defaults to 10s; 1ms..1h.
	ActionTimeout time.Duration `yaml:"action_timeout"`
	// HeartbeatInterval is the Ping period while Ready. Defaults to 15s; 10ms..1h; negative disables.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// HeartbeatTimeout is how long a heartbeat Ping may go unanswered before it counts as missed. Defaults to 5s; 10ms..1h.
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout"`
	// HeartbeatMaxMissed consecutive missed heartbeats reset the connection (one marks it degraded). Defaults to 2; 1..100.
	HeartbeatMaxMissed int `yaml:"heartbeat_max_missed"`
	// ReadTimeout: no byte at all for this long while Ready is a failure that resets the connection. Defaults to 45s; 10ms..1h; negative disables.
	// When the heartbeat is disabled and ReadTimeout is left unset, it is disabled too (a quiet PBX would otherwise be reset).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// ReconnectBase is the first reconnect delay. Defaults to 500ms; 1ms..1m.
	ReconnectBase time.Duration `yaml:"reconnect_base"`
	// ReconnectMax caps the reconnect delay before jitter. Defaults to 30s; 1ms..1h, at least ReconnectBase.
	ReconnectMax time.Duration `yaml:"reconnect_max"`
	// ReconnectJitter spreads each delay uniformly over ±fraction. Defaults to 0.2; 0..1; negative means none.
	ReconnectJitter float64 `yaml:"reconnect_jitter"`
	// BreakerThreshold consecutive connect/auth/read failures open the circuit. Defaults to 5; 1..1000.
	BreakerThreshold int `yaml:"breaker_threshold"`
	// BreakerCooldown is how long the circuit stays open. Defaults to 30s; 1ms..1h.
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`
	// BreakerHalfOpenProbes is the number of attempts allowed while half-open. Defaults to 1; 1..100.
	BreakerHalfOpenProbes int `yaml:"breaker_half_open_probes"`
	// MaxConnectAttemptsPerTick bounds new connect attempts per tick across all servers (global only). Defaults to 4; 1..1000.
	MaxConnectAttemptsPerTick int `yaml:"max_connect_attempts_per_tick"`
	// MaxBytesReadPerTick bounds the bytes parsed per server per tick. Defaults to 1 MiB; 4 KiB..64 MiB.
	MaxBytesReadPerTick int `yaml:"max_bytes_read_per_tick"`
	// MaxFramesPerTick bounds the frames parsed per server per tick. Defaults to 4096; 1..1000000.
	MaxFramesPerTick int `yaml:"max_frames_per_tick"`
	// MaxEventsPerTick bounds the events dispatched per server per tick. Defaults to 4096; 1..1000000.
	MaxEventsPerTick int `yaml:"max_events_per_tick"`
	// EventQueueCapacity is the per-server event queue; when full the oldest event is dropped and counted. Defaults to 10000; 1..10000000.
	EventQueueCapacity int `yaml:"event_queue_capacity"`
	// MaxPendingActions bounds the per-server pending-action table. Defaults to 5000; 1..1000000.
	MaxPendingActions int `yaml:"max_pending_actions"`
	// MaxListEvents caps the items collected by one event-list action. Defaults to 100000; 1..10000000.
	MaxListEvents int `yaml:"max_list_events"`
	// WriteBufferSize bounds the bytes queued for one connection. Defaults to 5 MiB; 4 KiB..256 MiB.
	WriteBufferSize int `yaml:"write_buffer_size"`
	// MaxFrameSize bounds one inbound frame. Defaults to 1 MiB; 64 KiB..4 MiB.
	MaxFrameSize int `yaml:"max_frame_size"`
	// MaxBufferSize bounds the parser's buffered bytes. Defaults to 2 MiB; MaxFrameSize..64 MiB.
	MaxBufferSize int `yaml:"max_buffer_size"`
	// MaxCommandOutput bounds the output of one Command. Defaults to 1 MiB; 1 KiB..64 MiB.
	MaxCommandOutput int `yaml:"max_command_output"`
	// TickInterval is Run's bounded wait when idle. Defaults to 25ms; 1ms..250ms.
	TickInterval time.Duration `yaml:"tick_interval"`
	// ShutdownTimeout bounds the graceful flush of Close and Run. Defaults to 5s; 1ms..5m.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// DropWarnInterval is the window of event-drop warnings. Defaults to 1s; 1ms..1h.
	DropWarnInterval time.Duration `yaml:"drop_warn_interval"`
	// DropWarnMax is the most event-drop warnings per server per window. Defaults to 1; 1..1000.
	DropWarnMax int `yaml:"drop_warn_max"`
	// LogBufferSize is the number of log records buffered before drops. Defaults to 1024; 16..1000000 (global only).
	LogBufferSize int `yaml:"log_buffer_size"`
	// RedactKeys are header keys masked in logs, beside Secret, Password and Key.
	RedactKeys []string `yaml:"redact_keys"`
	// RedactPatterns are regular expressions; matching values are masked in logs.
	RedactPatterns []string `yaml:"redact_patterns"`
}

const (
	kib = 1 << 10
	mib = 1 << 20
)

// DefaultOptions returns every option at its default value.
func DefaultOptions() Options {
	return Options{
		ConnectTimeout:            10 * time.Second,
		AuthTimeout:               10 * time.Second,
		ActionTimeout:             10 * time.Second,
		HeartbeatInterval:         15 * time.Second,
		HeartbeatTimeout:          5 * time.Second,
		HeartbeatMaxMissed:        2,
		ReadTimeout:               45 * time.Second,
		ReconnectBase:             500 * time.Millisecond,
		ReconnectMax:              30 * time.Second,
		ReconnectJitter:           0.2,
		BreakerThreshold:          5,
		BreakerCooldown:           30 * time.Second,
		BreakerHalfOpenProbes:     1,
		MaxConnectAttemptsPerTick: 4,
		MaxBytesReadPerTick:       1 * mib,
		MaxFramesPerTick:          4096,
		MaxEventsPerTick:          4096,
		EventQueueCapacity:        10000,
		MaxPendingActions:         5000,
		MaxListEvents:             100000,
		WriteBufferSize:           5 * mib,
		MaxFrameSize:              1 * mib,
		MaxBufferSize:             2 * mib,
		MaxCommandOutput:          1 * mib,
		TickInterval:              25 * time.Millisecond,
		ShutdownTimeout:           5 * time.Second,
		DropWarnInterval:          time.Second,
		DropWarnMax:               1,
		LogBufferSize:             1024,
	}
}

// mergeOver returns o with every zero field taken from base.
func (o Options) mergeOver(base Options) Options {
	r := o
	setD := func(dst *time.Duration, b time.Duration) {
		if *dst == 0 {
			*dst = b
		}
	}
	setI := func(dst *int, b int) {
		if *dst == 0 {
			*dst = b
		}
	}
	setD(&r.ConnectTimeout, base.ConnectTimeout)
	setD(&r.AuthTimeout, base.AuthTimeout)
	setD(&r.ActionTimeout, base.ActionTimeout)
	setD(&r.HeartbeatInterval, base.HeartbeatInterval)
	setD(&r.HeartbeatTimeout, base.HeartbeatTimeout)
	setI(&r.HeartbeatMaxMissed, base.HeartbeatMaxMissed)
	setD(&r.ReadTimeout, base.ReadTimeout)
	setD(&r.ReconnectBase, base.ReconnectBase)
	setD(&r.ReconnectMax, base.ReconnectMax)
	if r.ReconnectJitter == 0 {
		r.ReconnectJitter = base.ReconnectJitter
	}
	setI(&r.BreakerThreshold, base.BreakerThreshold)
	setD(&r.BreakerCooldown, base.BreakerCooldown)
	setI(&r.BreakerHalfOpenProbes, base.BreakerHalfOpenProbes)
	setI(&r.MaxConnectAttemptsPerTick, base.MaxConnectAttemptsPerTick)
	setI(&r.MaxBytesReadPerTick, base.MaxBytesReadPerTick)
	setI(&r.MaxFramesPerTick, base.MaxFramesPerTick)
	setI(&r.MaxEventsPerTick, base.MaxEventsPerTick)
	setI(&r.EventQueueCapacity, base.EventQueueCapacity)
	setI(&r.MaxPendingActions, base.MaxPendingActions)
	setI(&r.MaxListEvents, base.MaxListEvents)
	setI(&r.WriteBufferSize, base.WriteBufferSize)
	setI(&r.MaxFrameSize, base.MaxFrameSize)
	setI(&r.MaxBufferSize, base.MaxBufferSize)
	setI(&r.MaxCommandOutput, base.MaxCommandOutput)
	setD(&r.TickInterval, base.TickInterval)
	setD(&r.ShutdownTimeout, base.ShutdownTimeout)
	setD(&r.DropWarnInterval, base.DropWarnInterval)
	setI(&r.DropWarnMax, base.DropWarnMax)
	setI(&r.LogBufferSize, base.LogBufferSize)
	if r.RedactKeys == nil {
		r.RedactKeys = slices.Clone(base.RedactKeys)
	} else {
		r.RedactKeys = append(slices.Clone(base.RedactKeys), r.RedactKeys...)
	}
	if r.RedactPatterns == nil {
		r.RedactPatterns = slices.Clone(base.RedactPatterns)
	} else {
		r.RedactPatterns = append(slices.Clone(base.RedactPatterns), r.RedactPatterns...)
	}
	return r
}

// ConfigError is an invalid configuration value. Field is the YAML path of
// the key (for example "servers.pbx1.options.connect_timeout"); Line is its
// line in the YAML file when known (0 otherwise).
type ConfigError struct {
	Field string
	Line  int
	Msg   string
}

// Error implements the error interface.
func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("ami: config: line %d: %s: %s", e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("ami: config: %s: %s", e.Field, e.Msg)
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

func durRange(field string, v, lo, hi time.Duration, negOK bool) error {
	if v < 0 && negOK {
		return nil
	}
	if v < lo || v > hi {
		extra := ""
		if negOK {
			extra = " (negative disables)"
		}
		return &ConfigError{Field: field, Msg: fmt.Sprintf("%v out of range %v..%v%s", v, lo, hi, extra)}
	}
	return nil
}

func intRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return &ConfigError{Field: field, Msg: fmt.Sprintf("%d out of range %d..%d", v, lo, hi)}
	}
	return nil
}

// validate checks an options set whose defaults are already applied.
// prefix is the YAML path ("options" or "servers.x.options").
func (o Options) validate(prefix string) error {
	f := func(name string) string { return prefix + "." + name }
	checks := []error{
		durRange(f("connect_timeout"), o.ConnectTimeout, 10*time.Millisecond, 5*time.Minute, false),
		durRange(f("auth_timeout"), o.AuthTimeout, 10*time.Millisecond, 5*time.Minute, false),
		durRange(f("action_timeout"), o.ActionTimeout, time.Millisecond, time.Hour, false),
		durRange(f("heartbeat_interval"), o.HeartbeatInterval, 10*time.Millisecond, time.Hour, true),
		durRange(f("heartbeat_timeout"), o.HeartbeatTimeout, 10*time.Millisecond, time.Hour, false),
		intRange(f("heartbeat_max_missed"), o.HeartbeatMaxMissed, 1, 100),
		durRange(f("read_timeout"), o.ReadTimeout, 10*time.Millisecond, time.Hour, true),
		durRange(f("reconnect_base"), o.ReconnectBase, time.Millisecond, time.Minute, false),
		durRange(f("reconnect_max"), o.ReconnectMax, max(time.Millisecond, o.ReconnectBase), time.Hour, false),
		intRange(f("breaker_threshold"), o.BreakerThreshold, 1, 1000),
		durRange(f("breaker_cooldown"), o.BreakerCooldown, time.Millisecond, time.Hour, false),
		intRange(f("breaker_half_open_probes"), o.BreakerHalfOpenProbes, 1, 100),
		intRange(f("max_connect_attempts_per_tick"), o.MaxConnectAttemptsPerTick, 1, 1000),
		intRange(f("max_bytes_read_per_tick"), o.MaxBytesReadPerTick, 4*kib, 64*mib),
		intRange(f("max_frames_per_tick"), o.MaxFramesPerTick, 1, 1000000),
		intRange(f("max_events_per_tick"), o.MaxEventsPerTick, 1, 1000000),
		intRange(f("event_queue_capacity"), o.EventQueueCapacity, 1, 10000000),
		intRange(f("max_pending_actions"), o.MaxPendingActions, 1, 1000000),
		intRange(f("max_list_events"), o.MaxListEvents, 1, 10000000),
		intRange(f("write_buffer_size"), o.WriteBufferSize, 4*kib, 256*mib),
		intRange(f("max_frame_size"), o.MaxFrameSize, 64*kib, 4*mib),
		intRange(f("max_buffer_size"), o.MaxBufferSize, max(64*kib, o.MaxFrameSize), 64*mib),
		intRange(f("max_command_output"), o.MaxCommandOutput, 1*kib, 64*mib),
		durRange(f("tick_interval"), o.TickInterval, time.Millisecond, MaxTickWait, false),
		durRange(f("shutdown_timeout"), o.ShutdownTimeout, time.Millisecond, 5*time.Minute, false),
		durRange(f("drop_warn_interval"), o.DropWarnInterval, time.Millisecond, time.Hour, false),
		intRange(f("drop_warn_max"), o.DropWarnMax, 1, 1000),
		intRange(f("log_buffer_size"), o.LogBufferSize, 16, 1000000),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if o.ReconnectJitter > 1 {
		return &ConfigError{Field: f("reconnect_jitter"), Msg: fmt.Sprintf("%v out of range 0..1 (negative means none)", o.ReconnectJitter)}
	}
	for i, p := range o.RedactPatterns {
		if _, err := regexp.Compile(p); err != nil {
			return &ConfigError{Field: fmt.Sprintf("%s[%d]", f("redact_patterns"), i), Msg: "invalid regular expression: " + err.Error()}
		}
	}
	return nil
}

// Validate checks every value and returns the first problem as a
// *ConfigError naming the field and its allowed range. NewManager calls it.
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

// resolvedServer is a server's config with options merged and defaults applied.
type resolvedServer struct {
	key  string
	cfg  ServerConfig
	opts Options
}

// resolve validates the config and merges options: defaults <- global <- server.
func (c Config) resolve() ([]resolvedServer, error) {
	if len(c.Servers) == 0 {
		return nil, &ConfigError{Field: "servers", Msg: "at least one server is required"}
	}
	global := c.Options.mergeOver(DefaultOptions())
	if err := global.validate("options"); err != nil {
		return nil, err
	}
	if c.Default != "" {
		if _, ok := c.Servers[c.Default]; !ok {
			return nil, &ConfigError{Field: "default", Msg: fmt.Sprintf("no server named %q", c.Default)}
		}
	}
	keys := make([]string, 0, len(c.Servers))
	for k := range c.Servers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]resolvedServer, 0, len(keys))
	for _, k := range keys {
		s := c.Servers[k]
		p := "servers." + k
		if k == "" {
			return nil, &ConfigError{Field: "servers", Msg: "empty server key"}
		}
		if strings.ContainsAny(k, "\r\n") {
			return nil, &ConfigError{Field: "servers", Msg: fmt.Sprintf("server key %q contains a line break", k)}
		}
		if s.Address == "" {
			return nil, &ConfigError{Field: p + ".address", Msg: "required (host:port)"}
		}
		if err := checkHostPort(s.Address); err != nil {
			return nil, &ConfigError{Field: p + ".address", Msg: err.Error()}
		}
		if s.Username == "" {
			return nil, &ConfigError{Field: p + ".username", Msg: "required"}
		}
		switch strings.ToLower(s.Auth) {
		case "", "plain", "md5":
		default:
			return nil, &ConfigError{Field: p + ".auth", Msg: fmt.Sprintf("%q: want plain or md5", s.Auth)}
		}
		if strings.ContainsAny(s.Username+s.Secret+s.Events, "\r\n") {
			return nil, &ConfigError{Field: p, Msg: "username, secret and events must not contain line breaks"}
		}
		if s.TLS.CertFile != "" && s.TLS.KeyFile == "" || s.TLS.CertFile == "" && s.TLS.KeyFile != "" {
			return nil, &ConfigError{Field: p + ".tls", Msg: "cert_file and key_file go together"}
		}
		so := s.Options
		if so.MaxConnectAttemptsPerTick != 0 {
			return nil, &ConfigError{Field: p + ".options.max_connect_attempts_per_tick", Msg: "cluster-wide: set it in the global options"}
		}
		if so.LogBufferSize != 0 {
			return nil, &ConfigError{Field: p + ".options.log_buffer_size", Msg: "manager-wide: set it in the global options"}
		}
		merged := so.mergeOver(global)
		if merged.HeartbeatInterval < 0 && so.ReadTimeout == 0 && c.Options.ReadTimeout == 0 {
			merged.ReadTimeout = -1 // nothing would make a quiet PBX send bytes
		}
		if err := merged.validate(p + ".options"); err != nil {
			return nil, err
		}
		out = append(out, resolvedServer{key: k, cfg: s, opts: merged})
	}
	return out, nil
}

func checkHostPort(addr string) error {
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 || i == len(addr)-1 {
		return fmt.Errorf("%q: want host:port", addr)
	}
	for _, r := range addr[i+1:] {
		if r < '0' || r > '9' {
			return fmt.Errorf("%q: port must be numeric", addr)
		}
	}
	return nil
}

// Copy returns a deep copy: maps, slices and TLS configs are not shared.
func (c Config) Copy() Config {
	out := c
	out.Options = c.Options.copy()
	if c.Servers != nil {
		out.Servers = make(map[string]ServerConfig, len(c.Servers))
		for k, s := range c.Servers {
			s.Options = s.Options.copy()
			if s.TLSConfig != nil {
				s.TLSConfig = s.TLSConfig.Clone()
			}
			out.Servers[k] = s
		}
	}
	return out
}

func (o Options) copy() Options {
	o.RedactKeys = slices.Clone(o.RedactKeys)
	o.RedactPatterns = slices.Clone(o.RedactPatterns)
	return o
}
