package redact

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces every redacted value.
const Mask = "[REDACTED]"

// MinSecretValueLen is the length, in bytes, below which
// [Redactor.AddSecretValue] ignores a value: scrubbing very short strings
// from free text would mangle unrelated words.
const MinSecretValueLen = 4

// defaultKeys are always treated as secret.
var defaultKeys = []string{"Secret", "Password", "Key"}

// Redactor masks secret keys, values matching patterns and known secret
// values. Create one with [New]; it is safe for concurrent use.
type Redactor struct {
	keys     []string         // secret keys, compared with strings.EqualFold
	patterns []*regexp.Regexp // value patterns
	headers  *regexp.Regexp   // "Key: value" lines whose key is secret

	mu      sync.Mutex // serialises AddSecretValue
	secrets atomic.Pointer[secretSet]
}

// secretSet is an immutable snapshot of the literal secret values.
type secretSet struct {
	values   []string // longest first
	replacer *strings.Replacer
}

// New returns a Redactor that treats Secret, Password and Key (in any case)
// and every key in extraKeys as secret keys, and masks any value matching
// one of valuePatterns. Nil patterns and empty keys are ignored.
func New(extraKeys []string, valuePatterns []*regexp.Regexp) *Redactor {
	r := &Redactor{}
	for _, k := range slices.Concat(defaultKeys, extraKeys) {
		k = strings.TrimSpace(k)
		if k != "" && !slices.ContainsFunc(r.keys, func(x string) bool { return strings.EqualFold(x, k) }) {
			r.keys = append(r.keys, k)
		}
	}
	for _, p := range valuePatterns {
		if p != nil {
			r.patterns = append(r.patterns, p)
		}
	}
	quoted := make([]string, len(r.keys))
	for i, k := range r.keys {
		quoted[i] = regexp.QuoteMeta(k)
	}
	// Group 1 keeps "Key:" and the spaces after it; the rest of the line is
	// masked.
	r.headers = regexp.MustCompile(`(?im)^([ \t]*(?:` + strings.Join(quoted, "|") + `)[ \t]*:[ \t]*)[^\r\n]+`)
	r.secrets.Store(&secretSet{})
	return r
}

// IsSecretKey reports whether k is a secret key (case-insensitive).
func (r *Redactor) IsSecretKey(k string) bool {
	for _, s := range r.keys {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

// Value returns [Mask] if key is a secret key, if value matches a value
// pattern or if it contains a known secret value; otherwise it returns
// value unchanged.
func (r *Redactor) Value(key, value string) string {
	if r.IsSecretKey(key) {
		return Mask
	}
	for _, p := range r.patterns {
		if p.MatchString(value) {
			return Mask
		}
	}
	for _, s := range r.secrets.Load().values {
		if strings.Contains(value, s) {
			return Mask
		}
	}
	return value
}

// AddSecretValue registers a literal secret value (for example a configured
// password) to be scrubbed from free text. Values shorter than
// [MinSecretValueLen] bytes, and values already known, are ignored.
func (r *Redactor) AddSecretValue(v string) {
	if len(v) < MinSecretValueLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.secrets.Load()
	if slices.Contains(old.values, v) {
		return
	}
	values := append(slices.Clone(old.values), v)
	// Longest first, so that a secret containing another is masked whole.
	slices.SortStableFunc(values, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(values))
	for _, s := range values {
		pairs = append(pairs, s, Mask)
	}
	r.secrets.Store(&secretSet{values: values, replacer: strings.NewReplacer(pairs...)})
}

// String returns s with every known secret value, every value-pattern match
// and the value of every secret-key header line ("Secret: xyz") replaced
// by [Mask].
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	// Each step checks for a match first: the replacing calls allocate even
	// when there is nothing to replace, and most text is clean.
	if set := r.secrets.Load(); set.replacer != nil && containsAny(s, set.values) {
		s = set.replacer.Replace(s)
	}
	for _, p := range r.patterns {
		if p.MatchString(s) {
			s = p.ReplaceAllLiteralString(s, Mask)
		}
	}
	if strings.IndexByte(s, ':') >= 0 && r.headers.MatchString(s) {
		s = r.headers.ReplaceAllString(s, "${1}"+Mask)
	}
	return s
}

func containsAny(s string, values []string) bool {
	for _, v := range values {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}
