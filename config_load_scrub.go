package ami

import "github.com/apntalk/ami/internal/redact"

// newSecretScrubber returns a redactor that masks every known secret value
// (values shorter than redact.MinSecretValueLen cannot be told apart from
// ordinary words and are left alone).
func newSecretScrubber(secrets []string) *redact.Redactor {
	r := redact.New(nil, nil)
	for _, s := range secrets {
		r.AddSecretValue(s)
	}
	return r
}
