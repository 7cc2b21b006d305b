package ami

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadConfig reads a YAML configuration file, expands ${VAR} and
// ${VAR:-default} references inside its values, reads every secret_file,
// applies the AMI_* environment overrides and validates the result.
//
// Every problem is reported as a *ConfigError (errors.Is(err,
// ErrInvalidConfig) is true) naming the YAML key and, when it comes from the
// file, its line: unknown keys, values of the wrong type, durations written
// without a unit ("10s", not 10), unset environment variables, unreadable
// secret files and out-of-range values. A file that cannot be read is
// reported with the *fs.PathError wrapped. Secrets (secret values, the
// contents of secret files and AMI_*_SECRET variables) never appear in the
// error text.
//
// A relative secret_file is resolved against the directory of path.
//
// The environment overrides, applied after the file and before validation:
//
//	AMI_<SERVER>_ADDRESS, AMI_<SERVER>_USERNAME, AMI_<SERVER>_SECRET
//	AMI_OPTIONS_<OPTION>          for example AMI_OPTIONS_CONNECT_TIMEOUT=5s
//
// where <SERVER> is the server key upper-cased with every character other
// than A-Z and 0-9 replaced by "_" (pbx-1 gives AMI_PBX_1_SECRET), and
// <OPTION> is the upper-cased YAML key of a global option. List options
// (redact_keys, redact_patterns) take a comma-separated value. The variables
// only override servers present in the file; they never add one.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("ami: config: %w", err)
	}
	return parseConfig(data, filepath.Dir(path), os.LookupEnv)
}

// ParseConfig is LoadConfig for a document already in memory. A relative
// secret_file is resolved against the working directory.
func ParseConfig(data []byte) (Config, error) {
	return parseConfig(data, "", os.LookupEnv)
}

// lookupEnv is the signature of os.LookupEnv.
type lookupEnv func(string) (string, bool)

// configLoader holds the state of one parse: where each YAML path was found,
// which values are secret, and how to read the environment.
type configLoader struct {
	dir     string
	env     lookupEnv
	lines   map[string]int
	secrets []string
}

func parseConfig(data []byte, dir string, env lookupEnv) (Config, error) {
	l := &configLoader{dir: dir, env: env, lines: make(map[string]int)}
	l.secrets = preScanSecrets(data, env)
	cfg, err := l.load(data)
	if err != nil {
		return Config{}, l.scrub(err)
	}
	return cfg, nil
}

func (l *configLoader) load(data []byte) (Config, error) {
	var cfg Config
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return cfg, &ConfigError{Field: "(document)", Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return cfg, &ConfigError{Field: "servers", Msg: "empty document: at least one server is required"}
	}
	if err := l.decode(doc.Content[0], reflect.ValueOf(&cfg).Elem(), ""); err != nil {
		return cfg, err
	}
	for _, s := range cfg.Servers {
		if s.Secret != "" {
			l.secrets = append(l.secrets, s.Secret)
		}
	}
	if err := l.applyEnv(&cfg); err != nil {
		return cfg, err
	}
	if err := l.readSecretFiles(&cfg); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) && ce.Line == 0 {
			out := *ce
			out.Line = l.lineOf(ce.Field)
			return cfg, &out
		}
		return cfg, err
	}
	return cfg, nil
}

// lineOf returns the line of field, or of its closest ancestor present in the
// file, or 0.
func (l *configLoader) lineOf(field string) int {
	for p := field; p != ""; {
		if n, ok := l.lines[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// scrub removes every known secret from err's text, keeping its type when it
// is a *ConfigError.
func (l *configLoader) scrub(err error) error {
	s := newSecretScrubber(l.secrets)
	var ce *ConfigError
	if errors.As(err, &ce) {
		return &ConfigError{Field: s.String(ce.Field), Line: ce.Line, Msg: s.String(ce.Msg)}
	}
	msg := err.Error()
	if clean := s.String(msg); clean != msg {
		return &scrubbedError{msg: clean, err: err}
	}
	return err
}

// scrubbedError keeps the chain of an error whose text had to be cleaned.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// readSecretFiles fills Secret from SecretFile for every server without one.
func (l *configLoader) readSecretFiles(cfg *Config) error {
	for key, s := range cfg.Servers {
		if s.SecretFile == "" {
			continue
		}
		field := "servers." + key + ".secret_file"
		if s.Secret != "" {
			return &ConfigError{Field: field, Line: l.lineOf(field), Msg: "set either secret or secret_file, not both"}
		}
		p := s.SecretFile
		if !filepath.IsAbs(p) && l.dir != "" {
			p = filepath.Join(l.dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			var pe *os.PathError
			msg := err.Error()
			if errors.As(err, &pe) {
				msg = pe.Op + " " + pe.Path + ": " + pe.Err.Error()
			}
			return &ConfigError{Field: field, Line: l.lineOf(field), Msg: msg}
		}
		secret := strings.TrimRight(string(b), "\r\n")
		if secret == "" {
			return &ConfigError{Field: field, Line: l.lineOf(field), Msg: "the secret file " + p + " is empty"}
		}
		l.secrets = append(l.secrets, secret)
		s.Secret = secret
		s.SecretFile = p
		cfg.Servers[key] = s
	}
	return nil
}

// envName returns the environment prefix of a server key: "pbx-1" -> "PBX_1".
func envName(key string) string {
	b := []byte(strings.ToUpper(key))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// applyEnv applies the AMI_<SERVER>_* and AMI_OPTIONS_* overrides.
func (l *configLoader) applyEnv(cfg *Config) error {
	keys := make([]string, 0, len(cfg.Servers))
	for k := range cfg.Servers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	seen := make(map[string]string, len(keys))
	for _, key := range keys {
		name := envName(key)
		if other, dup := seen[name]; dup {
			return &ConfigError{Field: "servers." + key, Line: l.lineOf("servers." + key),
				Msg: fmt.Sprintf("servers %q and %q share the environment prefix AMI_%s_", other, key, name)}
		}
		seen[name] = key
		s := cfg.Servers[key]
		if v, ok := l.env("AMI_" + name + "_ADDRESS"); ok {
			s.Address = v
		}
		if v, ok := l.env("AMI_" + name + "_USERNAME"); ok {
			s.Username = v
		}
		if v, ok := l.env("AMI_" + name + "_SECRET"); ok && v != "" {
			l.secrets = append(l.secrets, v)
			s.Secret = v
			s.SecretFile = ""
		}
		cfg.Servers[key] = s
	}
	ov := reflect.ValueOf(&cfg.Options).Elem()
	ot := ov.Type()
	if err := checkOptionEnvNames(ot); err != nil {
		return err
	}
	for i := range ot.NumField() {
		tag := yamlName(ot.Field(i))
		if tag == "" {
			continue
		}
		envKey := "AMI_OPTIONS_" + strings.ToUpper(tag)
		v, ok := l.env(envKey)
		if !ok {
			continue
		}
		field := "options." + tag
		if err := setFromString(ov.Field(i), v, true); err != nil {
			return &ConfigError{Field: field, Msg: fmt.Sprintf("from environment %s: %v", envKey, err)}
		}
	}
	return nil
}

// checkOptionEnvNames refuses an AMI_OPTIONS_* variable that names no
// option: a typo must not be ignored silently.
func checkOptionEnvNames(ot reflect.Type) error {
	known := make(map[string]bool, ot.NumField())
	for i := range ot.NumField() {
		if tag := yamlName(ot.Field(i)); tag != "" {
			known["AMI_OPTIONS_"+strings.ToUpper(tag)] = true
		}
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AMI_OPTIONS_") && !known[name] {
			return &ConfigError{Field: "options", Msg: fmt.Sprintf("environment %s names no option (see docs/configuration.md)", name)}
		}
	}
	return nil
}

// yamlName returns the YAML key of a struct field, or "" when it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || name == "" {
		return ""
	}
	return name
}

var durationType = reflect.TypeFor[time.Duration]()

// setFromString sets a scalar field from text (environment variables).
func setFromString(v reflect.Value, s string, lists bool) error {
	switch {
	case v.Type() == durationType:
		d, err := parseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false)", s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 0, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String && lists:
		var out []string
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		v.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, fmt.Errorf("%q: a duration needs a unit, like \"10s\" or \"250ms\"", s)
		}
		return 0, fmt.Errorf("%q is not a duration (like \"10s\" or \"250ms\")", s)
	}
	return d, nil
}
