package main

import (
	"io"
	"log/slog"
	"strings"
)

// logFlags are the logging flags of listen and demo.
type logFlags struct {
	level  string
	format string
}

// newLogger returns a slog logger writing to w. The manager wraps it in its
// bounded, non-blocking, redacting handler; the CLI's own records are few
// (start, stop, summary).
func newLogger(w io.Writer, f logFlags) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", f.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(f.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want json or text", f.format)
}
