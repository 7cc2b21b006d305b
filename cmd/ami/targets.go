package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apntalk/ami"
	"github.com/spf13/pflag"
)

// targetFlags selects the servers a command talks to: from a config file
// (--config, --server, --all) or a single server from flags and environment
// (--addr, --username, --secret-file, AMI_ADDR, AMI_USERNAME, AMI_SECRET).
type targetFlags struct {
	config     string
	servers    []string
	all        bool
	addr       string
	username   string
	secret     string
	secretFile string
	auth       string
}

func (f *targetFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.config, "config", "c", "", "YAML configuration file (see docs/configuration.md)")
	fs.StringArrayVarP(&f.servers, "server", "s", nil, "server key to use (repeatable; with --addr: the name of that server)")
	fs.BoolVar(&f.all, "all", false, "use every server of the configuration (the default)")
	fs.StringVar(&f.addr, "addr", "", "HOST:PORT of a single server, without --config (env AMI_ADDR)")
	fs.StringVar(&f.username, "username", "", "manager username with --addr (env AMI_USERNAME)")
	fs.StringVar(&f.secret, "secret", "", "manager secret with --addr; visible in the process list: prefer AMI_SECRET or --secret-file")
	fs.StringVar(&f.secretFile, "secret-file", "", "file holding the manager secret with --addr (trailing newline removed)")
	fs.StringVar(&f.auth, "auth", "", "login method with --addr: plain or md5 (default plain)")
}

// load builds and validates the configuration. Every error is a usage error
// (exit 2) naming the flag or the config key.
func (f *targetFlags) load(a *app) (ami.Config, error) {
	if f.config != "" {
		return f.loadFile(a)
	}
	return f.loadFlags(a)
}

func (f *targetFlags) loadFile(a *app) (ami.Config, error) {
	if f.addr != "" || f.username != "" || f.secret != "" || f.secretFile != "" || f.auth != "" {
		return ami.Config{}, usagef("--config cannot be combined with --addr, --username, --secret, --secret-file or --auth")
	}
	if f.all && len(f.servers) > 0 {
		return ami.Config{}, usagef("--all cannot be combined with --server")
	}
	cfg, err := ami.LoadConfig(f.config)
	if err != nil {
		return cfg, usageError(err)
	}
	for _, s := range cfg.Servers {
		a.addSecret(s.Secret)
	}
	if len(f.servers) == 0 {
		return cfg, nil
	}
	selected := make(map[string]ami.ServerConfig, len(f.servers))
	for _, k := range f.servers {
		s, ok := cfg.Servers[k]
		if !ok {
			known := slices.Sorted(maps.Keys(cfg.Servers))
			return cfg, usagef("--server %q: no such server in %s (servers: %s)", k, f.config, strings.Join(known, ", "))
		}
		selected[k] = s
	}
	cfg.Servers = selected
	if _, ok := selected[cfg.Default]; !ok {
		cfg.Default = ""
	}
	return cfg, nil
}

func (f *targetFlags) loadFlags(a *app) (ami.Config, error) {
	if f.all {
		return ami.Config{}, usagef("--all needs --config")
	}
	addr := f.addr
	if addr == "" {
		addr = a.getenv("AMI_ADDR")
	}
	if addr == "" {
		return ami.Config{}, usagef("no server: use --config FILE, or --addr HOST:PORT (or AMI_ADDR)")
	}
	username := f.username
	if username == "" {
		username = a.getenv("AMI_USERNAME")
	}
	if username == "" {
		return ami.Config{}, usagef("--username (or AMI_USERNAME) is required with --addr")
	}
	secret := f.secret
	switch {
	case secret != "" && f.secretFile != "":
		return ami.Config{}, usagef("use either --secret or --secret-file, not both")
	case f.secretFile != "":
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return ami.Config{}, usagef("--secret-file: %v", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
	case secret == "":
		secret = a.getenv("AMI_SECRET")
	}
	if secret == "" {
		return ami.Config{}, usagef("no secret for %s: set AMI_SECRET, or use --secret-file FILE", addr)
	}
	a.addSecret(secret)
	if len(f.servers) > 1 {
		return ami.Config{}, usagef("with --addr, --server names the single server: give it once")
	}
	key := addr
	if len(f.servers) == 1 {
		key = f.servers[0]
	}
	cfg := ami.Config{Servers: map[string]ami.ServerConfig{
		key: {Address: addr, Username: username, Secret: secret, Auth: f.auth},
	}}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError(fmt.Errorf("%w (from --addr, --username and --auth)", err))
	}
	return cfg, nil
}

// connectBudget is how long a server may take to become Ready: connect
// plus login timeouts of the slowest server, and a margin.
func connectBudget(cfg ami.Config) (d, tick time.Duration) {
	g := mergeDefault(cfg.Options)
	d = g.ConnectTimeout + g.AuthTimeout
	for _, s := range cfg.Servers {
		o := s.Options
		c, au := g.ConnectTimeout, g.AuthTimeout
		if o.ConnectTimeout > 0 {
			c = o.ConnectTimeout
		}
		if o.AuthTimeout > 0 {
			au = o.AuthTimeout
		}
		d = max(d, c+au)
	}
	return d + time.Second, g.TickInterval
}

// mergeDefault returns o with zero fields taken from ami.DefaultOptions
// (the subset the CLI needs).
func mergeDefault(o ami.Options) ami.Options {
	d := ami.DefaultOptions()
	if o.ConnectTimeout > 0 {
		d.ConnectTimeout = o.ConnectTimeout
	}
	if o.AuthTimeout > 0 {
		d.AuthTimeout = o.AuthTimeout
	}
	if o.ActionTimeout > 0 {
		d.ActionTimeout = o.ActionTimeout
	}
	if o.TickInterval > 0 {
		d.TickInterval = o.TickInterval
	}
	if o.ShutdownTimeout > 0 {
		d.ShutdownTimeout = o.ShutdownTimeout
	}
	return d
}
