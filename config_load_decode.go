package ami

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decode stores node into v, following the yaml tags of v's struct types.
// path is the dotted YAML path of node, recorded with its line for errors.
func (l *configLoader) decode(node *yaml.Node, v reflect.Value, path string) error {
	for node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	if path != "" {
		l.lines[path] = node.Line
	}
	if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
		return nil // "key:" or "key: ~" keeps the default
	}
	where := path
	if where == "" {
		where = "(document)"
	}
	switch {
	case v.Kind() == reflect.Struct:
		return l.decodeStruct(node, v, path, where)
	case v.Kind() == reflect.Map:
		return l.decodeMap(node, v, path, where)
	case v.Kind() == reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return l.typeError(node, where, "a list")
		}
		out := reflect.MakeSlice(v.Type(), len(node.Content), len(node.Content))
		for i, item := range node.Content {
			if err := l.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(out)
		return nil
	default:
		return l.decodeScalar(node, v, where)
	}
}

func (l *configLoader) decodeStruct(node *yaml.Node, v reflect.Value, path, where string) error {
	if node.Kind != yaml.MappingNode {
		return l.typeError(node, where, "a mapping")
	}
	t := v.Type()
	fields := make(map[string]int, t.NumField())
	var names []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields[name] = i
			names = append(names, name)
		}
	}
	// Merge keys first ("<<: *defaults"), so that explicit keys win
	// wherever they are written.
	for i := 0; i+1 < len(node.Content); i += 2 {
		if k := node.Content[i]; k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if err := l.decodeMerge(node.Content[i+1], v, path, where); err != nil {
				return err
			}
		}
	}
	seen := make(map[string]bool, len(node.Content)/2)
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, val := node.Content[i], node.Content[i+1]
		key := k.Value
		sub := join(path, key)
		if k.Kind != yaml.ScalarNode {
			return &ConfigError{Field: where, Line: k.Line, Msg: "keys must be plain strings"}
		}
		if k.Tag == "!!merge" {
			continue
		}
		idx, ok := fields[key]
		if !ok {
			msg := "unknown key"
			if s := suggest(key, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return &ConfigError{Field: sub, Line: k.Line, Msg: msg}
		}
		if seen[key] {
			return &ConfigError{Field: sub, Line: k.Line, Msg: "duplicate key"}
		}
		seen[key] = true
		l.lines[sub] = k.Line
		if err := l.decode(val, v.Field(idx), sub); err != nil {
			return err
		}
		l.lines[sub] = k.Line
	}
	return nil
}

// decodeMerge applies the value of a merge key: one mapping, or a list of
// mappings where the earlier ones win.
func (l *configLoader) decodeMerge(val *yaml.Node, v reflect.Value, path, where string) error {
	for val.Kind == yaml.AliasNode {
		val = val.Alias
	}
	if val.Kind == yaml.SequenceNode {
		for i := len(val.Content) - 1; i >= 0; i-- {
			if err := l.decodeMerge(val.Content[i], v, path, where); err != nil {
				return err
			}
		}
		return nil
	}
	if val.Kind != yaml.MappingNode {
		return &ConfigError{Field: where, Line: val.Line, Msg: "<< must merge a mapping or a list of mappings"}
	}
	return l.decodeStruct(val, v, path, where)
}

func (l *configLoader) decodeMap(node *yaml.Node, v reflect.Value, path, where string) error {
	if node.Kind != yaml.MappingNode {
		return l.typeError(node, where, "a mapping")
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(node.Content)/2))
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, val := node.Content[i], node.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return &ConfigError{Field: where, Line: k.Line, Msg: "keys must be non-empty strings"}
		}
		key := reflect.ValueOf(k.Value)
		sub := join(path, k.Value)
		if v.MapIndex(key).IsValid() {
			return &ConfigError{Field: sub, Line: k.Line, Msg: "duplicate key"}
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := l.decode(val, elem, sub); err != nil {
			return err
		}
		l.lines[sub] = k.Line
		v.SetMapIndex(key, elem)
	}
	return nil
}

// decodeScalar converts one scalar, after ${VAR} expansion.
func (l *configLoader) decodeScalar(node *yaml.Node, v reflect.Value, where string) error {
	if node.Kind != yaml.ScalarNode {
		return l.typeError(node, where, "a single value")
	}
	raw, expanded, err := expandEnv(node.Value, l.env)
	if err != nil {
		return &ConfigError{Field: where, Line: node.Line, Msg: err.Error()}
	}
	secret := isSecretPath(where)
	if secret && raw != "" {
		l.secrets = append(l.secrets, raw)
	}
	// A quoted or expanded value is text; a plain one keeps YAML's type.
	tag := node.Tag
	if expanded {
		tag = "!!str"
	}
	fail := func(format string, args ...any) error {
		return &ConfigError{Field: where, Line: node.Line, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case v.Type() == durationType:
		if tag == "!!int" || tag == "!!float" {
			return fail("%s: a duration needs a unit, like \"10s\" or \"250ms\"", raw)
		}
		d, err := parseDuration(raw)
		if err != nil {
			return fail("%v", err)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		if tag == "!!map" || tag == "!!seq" {
			return l.typeError(node, where, "a string")
		}
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		if tag != "!!bool" && !expanded {
			return fail("want true or false, got %s", describe(node, secret))
		}
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fail("want true or false, got %s", describe(node, secret))
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		if tag != "!!int" && !expanded {
			return fail("want an integer, got %s", describe(node, secret))
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(raw), "_", ""), 0, 64)
		if err != nil || int64(int(n)) != n {
			return fail("want an integer, got %q", raw)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Float64:
		if tag != "!!int" && tag != "!!float" && !expanded {
			return fail("want a number, got %s", describe(node, secret))
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			return fail("want a number, got %q", raw)
		}
		v.SetFloat(f)
	default:
		return fail("unsupported type %s", v.Type())
	}
	return nil
}

func (l *configLoader) typeError(node *yaml.Node, where, want string) error {
	return &ConfigError{Field: where, Line: node.Line, Msg: fmt.Sprintf("want %s, got %s", want, describe(node, isSecretPath(where)))}
}

// describe names a node's kind for error messages, with its text when short
// and not secret.
func describe(node *yaml.Node, secret bool) string {
	switch node.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	kind := map[string]string{"!!str": "a string", "!!int": "an integer", "!!float": "a number", "!!bool": "a boolean"}[node.Tag]
	if kind == "" {
		kind = "a value"
	}
	if secret || len(node.Value) > 64 {
		return kind
	}
	return fmt.Sprintf("%s %q", kind, node.Value)
}

// isSecretPath reports whether a YAML path holds a secret.
func isSecretPath(path string) bool {
	return path == "secret" || strings.HasSuffix(path, ".secret")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// expandEnv replaces ${VAR} and ${VAR:-default} in s. "$${" stands for a
// literal "${". An unset variable without a default is an error naming it;
// with ":-", an unset or empty variable takes the default.
func expandEnv(s string, env lookupEnv) (string, bool, error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	expanded := false
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' { // "$${" is a literal "${"
			b.WriteString(s[:i])
			b.WriteString("{")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", false, fmt.Errorf("unterminated ${ in value")
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", false, fmt.Errorf("invalid environment variable name %q in ${...}", name)
		}
		val, ok := env(name)
		switch {
		case hasDef && val == "":
			val = def
		case !ok:
			return "", false, fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
		}
		b.WriteString(val)
		expanded = true
	}
	return b.String(), expanded, nil
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// suggest returns the candidate closest to key when it is a plausible typo.
func suggest(key string, candidates []string) string {
	best, bestD := "", len(key)/3+2
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(key), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// preScanSecrets finds "secret: value" lines before parsing, so that even a
// YAML syntax error cannot echo a secret.
func preScanSecrets(data []byte, env lookupEnv) []string {
	var out []string
	for line := range strings.SplitSeq(string(data), "\n") {
		t := strings.TrimSpace(line)
		t = strings.TrimPrefix(t, "- ")
		rest, ok := strings.CutPrefix(t, "secret:")
		if !ok {
			continue
		}
		v := strings.TrimSpace(rest)
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if x, _, err := expandEnv(v, env); err == nil {
			v = x
		}
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
