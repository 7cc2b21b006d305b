package redact_test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/apntalk/ami/internal/redact"
)

func newTestRedactor() *redact.Redactor {
	r := redact.New([]string{"AuthToken", " "}, []*regexp.Regexp{regexp.MustCompile(`tok_[A-Za-z0-9]+`), nil})
	r.AddSecretValue("hunter22")
	return r
}

func TestIsSecretKey(t *testing.T) {
	r := newTestRedactor()
	tests := []struct {
		key  string
		want bool
	}{
		{"Secret", true}, {"secret", true}, {"SECRET", true},
		{"Password", true}, {"pAsSwOrD", true},
		{"Key", true}, {"key", true},
		{"AuthToken", true}, {"authtoken", true},
		{"Username", false}, {"ActionID", false}, {"SecretName", false}, {"", false}, {" ", false},
	}
	for _, tt := range tests {
		if got := r.IsSecretKey(tt.key); got != tt.want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestValue(t *testing.T) {
	r := newTestRedactor()
	tests := []struct {
		key, value, want string
	}{
		{"Secret", "abc", redact.Mask},
		{"password", "", redact.Mask},
		{"AuthToken", "anything", redact.Mask},
		{"Variable", "X=tok_abc123", redact.Mask},
		{"Data", "pw hunter22 inside", redact.Mask},
		{"Username", "admin", "admin"},
		{"Channel", "PJSIP/100-0000001", "PJSIP/100-0000001"},
	}
	for _, tt := range tests {
		if got := r.Value(tt.key, tt.value); got != tt.want {
			t.Errorf("Value(%q, %q) = %q, want %q", tt.key, tt.value, got, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	r := newTestRedactor()
	r.AddSecretValue("hunter22-long") // contains "hunter22": must be masked whole
	r.AddSecretValue("abc")           // too short: ignored
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"clean", "ami: connection refused", "ami: connection refused"},
		{"literal", "login failed with hunter22!", "login failed with [REDACTED]!"},
		{"literal twice", "hunter22/hunter22", "[REDACTED]/[REDACTED]"},
		{"longer literal wins", "x hunter22-long y", "x [REDACTED] y"},
		{"short value ignored", "abc abc", "abc abc"},
		{"pattern", "token tok_9f8e7d used", "token [REDACTED] used"},
		{
			"AMI frame",
			"Action: Login\r\nUsername: admin\r\nSecret: s3cr3t\r\nkey: 0123abcd\r\n\r\n",
			"Action: Login\r\nUsername: admin\r\nSecret: [REDACTED]\r\nkey: [REDACTED]\r\n\r\n",
		},
		{"header with extra key", "authtoken:xyz\n", "authtoken:[REDACTED]\n"},
		{"header-like text mid line untouched", "the Secret: xyz", "the Secret: xyz"},
		{"non-secret header", "Keyword: hello", "Keyword: hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestConcurrentAddAndScrub(t *testing.T) {
	r := redact.New(nil, nil)
	const n = 200
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range n {
			r.AddSecretValue(fmt.Sprintf("secret-%04d", i))
		}
	}()
	go func() {
		defer wg.Done()
		for range n {
			_ = r.String("text with secret-0001 and secret-0199")
			_ = r.Value("k", "secret-0002")
		}
	}()
	wg.Wait()
	got := r.String("a secret-0000 b secret-0199 c")
	if strings.Contains(got, "secret-") {
		t.Fatalf("String = %q after all values added", got)
	}
}
