package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apntalk/ami/internal/redact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts the graceful shutdown (bounded by
	// options.shutdown_timeout); a second one kills the process at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// app is what every command shares: its streams, its environment and the
// redactor that removes known secrets from whatever reaches the user.
type app struct {
	stdout, stderr io.Writer
	env            func(string) (string, bool)
	redactor       *redact.Redactor
}

// getenv returns an environment variable, or "".
func (a *app) getenv(k string) string {
	v, _ := a.env(k)
	return v
}

// addSecret registers a secret value to be removed from messages.
func (a *app) addSecret(s string) { a.redactor.AddSecretValue(s) }

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	a := &app{stdout: stdout, stderr: stderr, env: env, redactor: redact.New(nil, nil)}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	msg := a.redactor.String(err.Error())
	if !strings.HasPrefix(msg, "ami: ") {
		msg = "ami: " + msg
	}
	fmt.Fprintln(stderr, msg)
	code := exitCode(err)
	if code == exitUsage && !strings.Contains(msg, "config") {
		path := "ami"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", path)
	}
	return code
}
