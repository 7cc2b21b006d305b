package ami_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami"
)

const validYAML = `# two PBXs
default: pbx1
options:
  connect_timeout: 5s
  max_frames_per_tick: 2048
  reconnect_jitter: 0.5
  redact_keys: [Variable, CallerIDNum]
servers:
  pbx1:
    address: 127.0.0.1:5038
    username: dialer
    secret: "pbx1-secret-value"
    auth: md5
    events: "call,system"
    options:
      action_timeout: 2s
  pbx-2:
    address: 127.0.0.1:5039
    username: 1001
    secret: other
    tls:
      enabled: true
      server_name: pbx2.example
      insecure_skip_verify: false
`

func TestParseConfigValid(t *testing.T) {
	cfg, err := ami.ParseConfig([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Default != "pbx1" || len(cfg.Servers) != 2 {
		t.Fatalf("default=%q servers=%d", cfg.Default, len(cfg.Servers))
	}
	o := cfg.Options
	if o.ConnectTimeout != 5*time.Second || o.MaxFramesPerTick != 2048 || o.ReconnectJitter != 0.5 {
		t.Errorf("options = %+v", o)
	}
	if !reflect.DeepEqual(o.RedactKeys, []string{"Variable", "CallerIDNum"}) {
		t.Errorf("redact_keys = %q", o.RedactKeys)
	}
	p1 := cfg.Servers["pbx1"]
	if p1.Address != "127.0.0.1:5038" || p1.Username != "dialer" || p1.Secret != "pbx1-secret-value" ||
		p1.Auth != "md5" || p1.Events != "call,system" || p1.Options.ActionTimeout != 2*time.Second {
		t.Errorf("pbx1 = %+v", p1)
	}
	p2 := cfg.Servers["pbx-2"]
	if p2.Username != "1001" || !p2.TLS.Enabled || p2.TLS.ServerName != "pbx2.example" {
		t.Errorf("pbx-2 = %+v", p2)
	}
}

// configErr parses doc and returns its *ami.ConfigError, failing otherwise.
func configErr(t *testing.T, doc string) *ami.ConfigError {
	t.Helper()
	_, err := ami.ParseConfig([]byte(doc))
	if err == nil {
		t.Fatalf("ParseConfig succeeded, want an error")
	}
	if !errors.Is(err, ami.ErrInvalidConfig) {
		t.Errorf("errors.Is(%v, ErrInvalidConfig) = false", err)
	}
	var ce *ami.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %v is not a *ConfigError", err, err)
	}
	return ce
}

func TestParseConfigErrorsNameKeyAndLine(t *testing.T) {
	const base = "servers:\n  pbx1:\n    address: 127.0.0.1:5038\n    username: u\n    secret: s\n"
	tests := []struct {
		name  string
		doc   string
		field string
		line  int
		msg   string
	}{
		{"unknown option", base + "    options:\n      conect_timeout: 5s\n",
			"servers.pbx1.options.conect_timeout", 7, `did you mean "connect_timeout"`},
		{"unknown top-level key", "sevrers: {}\n", "sevrers", 1, "unknown key"},
		{"duration without unit", base + "    options:\n      connect_timeout: 10\n",
			"servers.pbx1.options.connect_timeout", 7, "needs a unit"},
		{"bad duration", "options:\n  tick_interval: fast\n" + base,
			"options.tick_interval", 2, "not a duration"},
		{"int as string", "options:\n  max_frames_per_tick: lots\n" + base,
			"options.max_frames_per_tick", 2, "want an integer"},
		{"bool wrong type", base + "    tls:\n      enabled: 3\n", "servers.pbx1.tls.enabled", 7, "want true or false"},
		{"mapping for string", base + "    auth: {a: b}\n", "servers.pbx1.auth", 6, "want a single value"},
		{"list expected", "options:\n  redact_keys: Variable\n" + base, "options.redact_keys", 2, "want a list"},
		{"out of range from Validate", base + "    options:\n      connect_timeout: 1h\n",
			"servers.pbx1.options.connect_timeout", 7, "out of range"},
		{"global out of range", "options:\n  tick_interval: 1s\n" + base, "options.tick_interval", 2, "out of range"},
		{"missing address", "servers:\n  pbx1:\n    username: u\n", "servers.pbx1.address", 2, "required"},
		{"unknown default", "default: nope\n" + base, "default", 1, `no server named "nope"`},
		{"duplicate server", base + "  pbx1:\n    address: h:1\n", "servers.pbx1", 6, "duplicate"},
		{"unset env var", "servers:\n  pbx1:\n    address: ${AMI_TEST_SURELY_UNSET_VAR}\n",
			"servers.pbx1.address", 3, "AMI_TEST_SURELY_UNSET_VAR is not set"},
		{"empty document", "", "servers", 0, "at least one server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := configErr(t, tt.doc)
			if ce.Field != tt.field || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got Field=%q Line=%d Msg=%q; want %q line %d containing %q", ce.Field, ce.Line, ce.Msg, tt.field, tt.line, tt.msg)
			}
			want := "ami: config: "
			if tt.line > 0 {
				want += "line "
			}
			if !strings.HasPrefix(ce.Error(), want) || !strings.Contains(ce.Error(), tt.field) {
				t.Errorf("Error() = %q", ce.Error())
			}
		})
	}
}

func TestParseConfigSyntaxError(t *testing.T) {
	ce := configErr(t, "servers:\n  pbx1: [unclosed\n    secret: topsecret-123\n")
	if ce.Line == 0 && !strings.Contains(ce.Msg, "line") {
		t.Errorf("syntax error without a line: %v", ce)
	}
	if strings.Contains(ce.Error(), "topsecret-123") {
		t.Errorf("secret in error: %v", ce)
	}
}

func TestParseConfigEnvExpansion(t *testing.T) {
	t.Setenv("AMI_TEST_HOST", "127.0.0.1")
	t.Setenv("AMI_TEST_EMPTY", "")
	doc := `servers:
  pbx1:
    address: ${AMI_TEST_HOST}:${AMI_TEST_PORT:-5038}
    username: ${AMI_TEST_EMPTY:-dialer}
    secret: "lit$${NOT_A_VAR}"
options:
  connect_timeout: ${AMI_TEST_TIMEOUT:-3s}
  max_frames_per_tick: ${AMI_TEST_FRAMES:-100}
`
	cfg, err := ami.ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Servers["pbx1"]
	if s.Address != "127.0.0.1:5038" || s.Username != "dialer" || s.Secret != "lit${NOT_A_VAR}" {
		t.Errorf("server = %+v", s)
	}
	if cfg.Options.ConnectTimeout != 3*time.Second || cfg.Options.MaxFramesPerTick != 100 {
		t.Errorf("options = %v %v", cfg.Options.ConnectTimeout, cfg.Options.MaxFramesPerTick)
	}
}

func TestLoadConfigSecretFileAndEnvOverrides(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pbx1.secret"), []byte("from-file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `servers:
  pbx1:
    address: 127.0.0.1:5038
    username: u
    secret_file: pbx1.secret
  pbx-2:
    address: 127.0.0.1:5039
    username: u
    secret: file-secret
`
	path := filepath.Join(dir, "ami.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AMI_PBX_2_SECRET", "env-secret")
	t.Setenv("AMI_PBX_2_ADDRESS", "127.0.0.1:6000")
	t.Setenv("AMI_PBX1_USERNAME", "env-user")
	t.Setenv("AMI_OPTIONS_CONNECT_TIMEOUT", "5s")
	t.Setenv("AMI_OPTIONS_REDACT_KEYS", "A, B")
	cfg, err := ami.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Servers["pbx1"]; s.Secret != "from-file-secret" || s.Username != "env-user" {
		t.Errorf("pbx1 = %+v", s)
	}
	if s := cfg.Servers["pbx-2"]; s.Secret != "env-secret" || s.Address != "127.0.0.1:6000" {
		t.Errorf("pbx-2 = %+v", s)
	}
	if cfg.Options.ConnectTimeout != 5*time.Second || !reflect.DeepEqual(cfg.Options.RedactKeys, []string{"A", "B"}) {
		t.Errorf("options = %v %q", cfg.Options.ConnectTimeout, cfg.Options.RedactKeys)
	}

	t.Setenv("AMI_OPTIONS_CONNECT_TIMEOUT", "10")
	_, err = ami.LoadConfig(path)
	var ce *ami.ConfigError
	if !errors.As(err, &ce) || ce.Field != "options.connect_timeout" || !strings.Contains(ce.Msg, "AMI_OPTIONS_CONNECT_TIMEOUT") {
		t.Errorf("bad env override: %v", err)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := ami.LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "ami: config: ") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadConfigSecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ami.yaml")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("servers:\n  pbx1:\n    address: h:1\n    username: u\n    secret_file: missing.secret\n")
	_, err := ami.LoadConfig(path)
	var ce *ami.ConfigError
	if !errors.As(err, &ce) || ce.Field != "servers.pbx1.secret_file" || ce.Line != 5 {
		t.Errorf("missing secret file: %v", err)
	}
	write("servers:\n  pbx1:\n    address: h:1\n    username: u\n    secret: both-secret\n    secret_file: x\n")
	_, err = ami.LoadConfig(path)
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "either") || strings.Contains(err.Error(), "both-secret") {
		t.Errorf("secret and secret_file: %v", err)
	}
}

func TestConfigErrorsNeverShowSecrets(t *testing.T) {
	const secret = "Hunter2-xyz!"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("file-"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AMI_TEST_SECRET", secret)
	docs := []string{
		// the secret pasted into a field whose error echoes the value
		"options:\n  tick_interval: " + secret + "\nservers:\n  p:\n    address: h:1\n    username: u\n    secret: " + secret + "\n",
		// the same through an environment variable
		"options:\n  tick_interval: ${AMI_TEST_SECRET}\nservers:\n  p:\n    address: h:1\n    username: u\n    secret: ${AMI_TEST_SECRET}\n",
		// a secret of the wrong type
		"servers:\n  p:\n    address: h:1\n    username: u\n    secret: {" + secret + ": 1}\n",
		// a secret file's content used elsewhere
		"servers:\n  p:\n    address: file-" + secret + "\n    username: u\n    secret_file: " + filepath.Join(dir, "s") + "\n",
	}
	for i, doc := range docs {
		_, err := ami.ParseConfig([]byte(doc))
		if err == nil {
			t.Fatalf("doc %d: no error", i)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("doc %d: secret in %q", i, err)
		}
	}
}

// TestConfigurationDocInStep keeps docs/configuration.md and the code in
// step: every YAML key of Options, ServerConfig and TLSOptions is listed,
// and every default written in the options table equals DefaultOptions().
func TestConfigurationDocInStep(t *testing.T) {
	b, err := os.ReadFile("docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	row := regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| ([^|]*) \\|")
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	for _, k := range yamlKeys(reflect.TypeFor[ami.ServerConfig]()) {
		if _, ok := rows[k]; !ok {
			t.Errorf("docs/configuration.md: server key %q is not listed", k)
		}
	}
	for _, k := range yamlKeys(reflect.TypeFor[ami.TLSOptions]()) {
		if _, ok := rows["tls."+k]; !ok {
			t.Errorf("docs/configuration.md: TLS key %q is not listed as tls.%s", k, k)
		}
	}
	defaults := reflect.ValueOf(ami.DefaultOptions())
	ot := reflect.TypeFor[ami.Options]()
	for i := range ot.NumField() {
		k := yamlKey(ot.Field(i))
		if k == "" {
			continue
		}
		def, ok := rows[k]
		if !ok {
			t.Errorf("docs/configuration.md: option %q is not listed", k)
			continue
		}
		lit := strings.Trim(def, "`")
		if lit == def {
			t.Errorf("option %q: default %q is not a `literal`", k, def)
			continue
		}
		// The default, written as YAML, must parse to DefaultOptions' value.
		cfg, err := ami.ParseConfig([]byte("servers:\n  a:\n    address: h:1\n    username: u\noptions:\n  " + k + ": " + lit + "\n"))
		if err != nil {
			t.Errorf("option %q: documented default %s does not parse: %v", k, lit, err)
			continue
		}
		got, want := reflect.ValueOf(cfg.Options).Field(i), defaults.Field(i)
		if got.Kind() == reflect.Slice && got.Len() == 0 && want.Len() == 0 {
			continue
		}
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			t.Errorf("option %q: documented default %s = %v, DefaultOptions() has %v", k, lit, got, want)
		}
	}
	for k := range rows {
		if strings.Contains(k, "_") && !slices.Contains(yamlKeys(ot), k) && !strings.HasPrefix(k, "tls.") &&
			!slices.Contains(yamlKeys(reflect.TypeFor[ami.ServerConfig]()), k) {
			t.Errorf("docs/configuration.md lists %q, which is not a key", k)
		}
	}
}

func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func TestParseConfigMergeKeys(t *testing.T) {
	doc := `servers:
  pbx1: &pbx
    address: 127.0.0.1:5038
    username: dialer
    secret: shared-secret
    options:
      action_timeout: 3s
  pbx2:
    <<: *pbx
    address: 127.0.0.1:5039
`
	cfg, err := ami.ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	p2 := cfg.Servers["pbx2"]
	if p2.Address != "127.0.0.1:5039" || p2.Username != "dialer" || p2.Secret != "shared-secret" || p2.Options.ActionTimeout != 3*time.Second {
		t.Errorf("pbx2 = %+v", p2)
	}
	if cfg.Servers["pbx1"].Address != "127.0.0.1:5038" {
		t.Errorf("pbx1 changed: %+v", cfg.Servers["pbx1"])
	}
}

func TestUnknownOptionEnvRefused(t *testing.T) {
	t.Setenv("AMI_OPTIONS_CONECT_TIMEOUT", "5s") // typo
	_, err := ami.ParseConfig([]byte("servers:\n  pbx1:\n    address: 127.0.0.1:5038\n    username: u\n"))
	var ce *ami.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "AMI_OPTIONS_CONECT_TIMEOUT") {
		t.Fatalf("want a ConfigError naming the variable, got %v", err)
	}
}
