package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/cmd/ami/internal/eventout"
	"github.com/spf13/cobra"
)

func newActionCmd(a *app) *cobra.Command {
	var t targetFlags
	var lf logFlags
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "action NAME [Key=Value ...]",
		Short: "Send one action and print its result as JSON",
		Long: `action connects to one server, waits until it is ready (bounded by the connect
and auth timeouts), sends one action and prints its result as JSON on stdout:
the response headers, the events of an event list, and the output lines of a
Command. A key may be repeated (Variable=a=1 Variable=b=2).

If the PBX answers "Response: Error", the AMI message is printed on stderr and
the exit status is 1.`,
		Example: `  ami action --config ami.yaml --server pbx1 Ping
  ami action --config ami.yaml Command Command="core show channels"
  ami action --addr 127.0.0.1:5038 --username admin CoreShowChannels`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("action: missing the action NAME argument (for example: ami action Ping)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			logger, err := newLogger(a.stderr, lf)
			if err != nil {
				return err
			}
			headers, err := parseKeyValues(args[1:])
			if err != nil {
				return err
			}
			cfg, err := t.load(a)
			if err != nil {
				return err
			}
			key, err := pickOne(cfg)
			if err != nil {
				return err
			}
			cfg.Servers = map[string]ami.ServerConfig{key: cfg.Servers[key]}
			cfg.Default = key
			m, err := ami.NewManager(cfg, ami.WithLogger(logger))
			if err != nil {
				return usageError(err)
			}
			ctx := cmd.Context()
			stop := background(ctx, m)
			defer func() { _ = stop() }()
			c, err := m.Server(key)
			if err != nil {
				return failure(err)
			}
			budget, _ := connectBudget(cfg)
			if err := waitReady(ctx, c, budget); err != nil {
				return failf("server %s: not ready: %v", key, err)
			}
			var opts []ami.SendOption
			if timeout > 0 {
				opts = append(opts, ami.WithTimeout(timeout))
			}
			res, err := c.Do(ctx, ami.ActionByName(args[0], headers), opts...)
			if err != nil {
				var ae *ami.ActionError
				if errors.As(err, &ae) {
					return failf("action %s failed on %s: %s", ae.Action, key, ae.Message)
				}
				return failure(err)
			}
			if _, err := a.stdout.Write(appendResultJSON(nil, res)); err != nil {
				return failure(err)
			}
			return nil
		},
	}
	t.register(cmd.Flags())
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "action timeout (default: options.action_timeout, 10s)")
	cmd.Flags().StringVar(&lf.level, "log-level", "warn", "log level: debug, info, warn or error")
	cmd.Flags().StringVar(&lf.format, "log-format", "text", "log format on stderr: json or text")
	return cmd
}

// parseKeyValues turns Key=Value arguments into headers, in order.
func parseKeyValues(args []string) ([]ami.Header, error) {
	headers := make([]ami.Header, 0, len(args))
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("argument %q: want Key=Value", arg)
		}
		if strings.ContainsAny(arg, "\r\n") {
			return nil, usagef("argument %q: line breaks are not allowed", arg)
		}
		headers = append(headers, ami.Header{Key: strings.TrimSpace(k), Value: v})
	}
	return headers, nil
}

// pickOne returns the single server an action goes to.
func pickOne(cfg ami.Config) (string, error) {
	if len(cfg.Servers) == 1 {
		for k := range cfg.Servers {
			return k, nil
		}
	}
	if cfg.Default != "" {
		return cfg.Default, nil
	}
	return "", usagef("the configuration has %d servers and no default: choose one with --server", len(cfg.Servers))
}

// appendResultJSON formats a result:
//
//	{"server":"pbx1","action":"Ping","action_id":"...","latency_ms":1.2,
//	 "response":{"Response":"Success","Ping":"Pong",...},"events":[...],
//	 "complete":{"Event":"CoreShowChannelsComplete","ListItems":"2",...},"output":[...]}
//
// complete is the closing event of an event list (null otherwise); the
// Output headers of a Command are printed once, in output.
func appendResultJSON(dst []byte, r *ami.Result) []byte {
	dst = append(dst, "{\n  \"server\": "...)
	dst = eventout.AppendString(dst, r.Server)
	dst = append(dst, ",\n  \"action\": "...)
	dst = eventout.AppendString(dst, r.Action)
	dst = append(dst, ",\n  \"action_id\": "...)
	dst = eventout.AppendString(dst, r.ActionID)
	dst = fmt.Appendf(dst, ",\n  \"latency_ms\": %.3f", float64(r.Latency)/float64(time.Millisecond))
	dst = append(dst, ",\n  \"response\": "...)
	if len(r.Output) > 0 {
		// The output lines are in "output"; do not print them twice.
		dst = eventout.AppendHeaders(dst, r.Response, "Output")
	} else {
		dst = eventout.AppendHeaders(dst, r.Response)
	}
	dst = append(dst, ",\n  \"events\": ["...)
	for i, e := range r.Events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, "\n    {\"event\": "...)
		dst = eventout.AppendString(dst, e.Name())
		dst = append(dst, ", \"headers\": "...)
		dst = eventout.AppendHeaders(dst, e.Headers(), "Event")
		dst = append(dst, '}')
	}
	if len(r.Events) > 0 {
		dst = append(dst, "\n  "...)
	}
	dst = append(dst, "],\n  \"complete\": "...)
	if len(r.Complete) > 0 {
		dst = eventout.AppendHeaders(dst, r.Complete)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, ",\n  \"output\": ["...)
	for i, line := range r.Output {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, "\n    "...)
		dst = eventout.AppendString(dst, line)
	}
	if len(r.Output) > 0 {
		dst = append(dst, "\n  "...)
	}
	return append(dst, "]\n}\n"...)
}
