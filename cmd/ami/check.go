package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/apntalk/ami"
	"github.com/spf13/cobra"
)

// checkRow is one line of the check table.
type checkRow struct {
	server, address, state, version, login, ping string
	ok                                           bool
}

func newCheckCmd(a *app) *cobra.Command {
	var t targetFlags
	var lf logFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and try to log in to every server",
		Long: `check validates the configuration (exit 2 with the key and line of the first
problem), then logs in to every selected server and prints a table: server,
address, state, AMI version from the banner, login result and Ping round trip.
The exit status is 1 if any server failed.`,
		Example: `  ami check --config /etc/ami/ami.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(a.stderr, lf)
			if err != nil {
				return err
			}
			cfg, err := t.load(a)
			if err != nil {
				return err
			}
			m, err := ami.NewManager(cfg, ami.WithLogger(logger))
			if err != nil {
				return usageError(err)
			}
			ctx := cmd.Context()
			stop := background(ctx, m)
			budget, _ := connectBudget(cfg)
			rows := make([]checkRow, len(m.Clients()))
			var wg sync.WaitGroup
			for i, c := range m.Clients() {
				wg.Go(func() { rows[i] = checkOne(ctx, c, budget, a) })
			}
			wg.Wait()
			_ = stop()

			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVER\tADDRESS\tSTATE\tVERSION\tLOGIN\tPING")
			failed := 0
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.server, r.address, r.state, r.version, r.login, r.ping)
				if !r.ok {
					failed++
				}
			}
			if err := tw.Flush(); err != nil {
				return failure(err)
			}
			if failed > 0 {
				return failf("check: %d of %d servers failed", failed, len(rows))
			}
			return nil
		},
	}
	t.register(cmd.Flags())
	cmd.Flags().StringVar(&lf.level, "log-level", "error", "log level: debug, info, warn or error")
	cmd.Flags().StringVar(&lf.format, "log-format", "text", "log format on stderr: json or text")
	return cmd
}

// checkOne waits for one server and pings it.
func checkOne(ctx context.Context, c *ami.Client, budget time.Duration, a *app) checkRow {
	h := c.Health()
	r := checkRow{server: c.Key(), address: h.Address, version: "-", ping: "-"}
	err := waitReady(ctx, c, budget)
	h = c.Health()
	r.state = h.State.String()
	if v := bannerVersion(c.Banner()); v != "" {
		r.version = v
	}
	if err != nil {
		switch {
		case errors.Is(err, ami.ErrAuthFailed):
			r.login = "failed: authentication refused"
		default:
			r.login = "failed: " + a.redactor.String(err.Error())
		}
		return r
	}
	r.login = "ok"
	res, err := c.Do(ctx, ami.Ping{})
	if err != nil {
		r.ping = "failed: " + a.redactor.String(err.Error())
		return r
	}
	r.ping = res.Latency.Round(10 * time.Microsecond).String()
	r.ok = true
	return r
}

// bannerVersion returns "13.0.0" from "Asterisk Call Manager/13.0.0".
func bannerVersion(banner string) string {
	if _, v, ok := strings.Cut(banner, "/"); ok {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(banner)
}
