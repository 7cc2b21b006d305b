package main

import (
	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amitest"
	"github.com/spf13/cobra"
)

func newDemoCmd(a *app) *cobra.Command {
	var lf listenFlags
	var cps float64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Watch simulated call events scroll, with no Asterisk needed",
		Long: `demo starts a simulated PBX (the amitest fake AMI server) on 127.0.0.1 with a
stream of realistic calls (Newchannel, Newstate, DialBegin, DialEnd, Hangup ...)
and runs the listener on it: the very code of "ami listen". It runs until
Ctrl-C, or for --duration, and ends with the same summary.`,
		Example: `  go run ./cmd/ami demo
  ami demo --calls-per-second 50 --format json --duration 10s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lf.validate(cmd.Flags()); err != nil {
				return err
			}
			if cps <= 0 || cps > 10000 {
				return usagef("--calls-per-second %v: out of range (0, 10000]", cps)
			}
			logger, err := newLogger(a.stderr, lf.log)
			if err != nil {
				return err
			}
			const user, secret = "demo", "demo-secret"
			srv := amitest.NewServer(nil, amitest.Options{Users: map[string]string{user: secret}})
			defer srv.Close()
			stopCalls := srv.StartCalls(cps)
			defer stopCalls()
			logger.Info("simulated PBX started", "addr", srv.Addr(), "calls_per_second", cps)
			cfg := ami.Config{Servers: map[string]ami.ServerConfig{
				"demo": {Address: srv.Addr(), Username: user, Secret: secret},
			}}
			return runListener(cmd.Context(), a, cfg, lf, logger)
		},
	}
	cmd.Flags().Float64Var(&cps, "calls-per-second", 5, "simulated calls started per second")
	lf.register(cmd.Flags(), "text", false)
	return cmd
}
