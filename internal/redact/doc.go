// Package redact removes secrets from text and structured log records
// before they leave the library.
//
// A [Redactor] knows three kinds of secrets:
//   - secret keys: header or attribute names whose value is always masked
//     (Secret, Password and Key, compared case-insensitively, plus the
//     configured extra keys);
//   - value patterns: regular expressions whose matches are masked;
//   - literal secret values registered with [Redactor.AddSecretValue] (for
//     example the configured AMI passwords), masked wherever they appear in
//     free text, such as error messages or protocol dumps.
//
// Masked text is replaced by [Mask]. In free text, AMI header lines
// ("Secret: xyz") whose key is a secret key are masked too.
//
// [Redactor.Attr] plugs into slog.HandlerOptions.ReplaceAttr;
// [Redactor.Handler] wraps any slog.Handler and redacts the message, every
// attribute, attributes added through WithAttrs, and nested groups.
//
// Concurrency: a Redactor is safe for concurrent use; AddSecretValue may be
// called while other goroutines redact. Reads never take a lock.
package redact
