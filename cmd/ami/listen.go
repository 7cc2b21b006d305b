package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amiprom"
	"github.com/apntalk/ami/cmd/ami/internal/eventout"
	"github.com/apntalk/ami/internal/lineout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// listenFlags are the flags of listen (and demo, which runs the same code).
type listenFlags struct {
	tickTimeout    time.Duration
	tickTimeoutSet bool
	once           bool
	maxIterations  int
	duration       time.Duration
	events         []string
	format         string
	metricsAddr    string
	outputBuffer   int
	log            logFlags
}

func (f *listenFlags) register(fs *pflag.FlagSet, defaultFormat string, loops bool) {
	fs.DurationVar(&f.tickTimeout, "tick-timeout", 25*time.Millisecond, "longest wait of one tick when idle (1ms..250ms; overrides options.tick_interval)")
	if loops {
		fs.BoolVar(&f.once, "once", false, "run until every server is ready (or the connect and auth timeouts pass, or logins are refused), then one more tick, then shut down; exit 1 if a server is not ready")
		fs.IntVar(&f.maxIterations, "max-iterations", 0, "stop after this many ticks (0: no limit)")
	}
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: until SIGINT or SIGTERM)")
	fs.StringArrayVarP(&f.events, "event", "e", nil, "print only events with this name (repeatable, case-insensitive)")
	fs.StringVar(&f.format, "format", defaultFormat, "event output format: json or text")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics and /healthz on this address (port 0 picks one; the bound address is logged)")
	fs.IntVar(&f.outputBuffer, "output-buffer", 10000, "event lines queued for stdout before lines are dropped")
	fs.StringVar(&f.log.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.log.format, "log-format", "text", "log format on stderr: json or text")
}

// validate checks the flags (usage errors, exit 2).
func (f *listenFlags) validate(fs *pflag.FlagSet) error {
	f.tickTimeoutSet = fs.Changed("tick-timeout")
	if f.tickTimeout < time.Millisecond || f.tickTimeout > ami.MaxTickWait {
		return usagef("--tick-timeout %v: out of range 1ms..%v", f.tickTimeout, ami.MaxTickWait)
	}
	if f.maxIterations < 0 {
		return usagef("--max-iterations %d: must not be negative", f.maxIterations)
	}
	if f.once && f.maxIterations > 0 {
		return usagef("--once and --max-iterations cannot be combined")
	}
	if f.duration < 0 {
		return usagef("--duration %v: must not be negative", f.duration)
	}
	if f.outputBuffer < 1 {
		return usagef("--output-buffer %d: must be at least 1", f.outputBuffer)
	}
	if _, err := eventout.ParseFormat(f.format); err != nil {
		return usagef("--format %q: want json or text", f.format)
	}
	for _, e := range f.events {
		if strings.TrimSpace(e) == "" {
			return usagef("--event: empty event name")
		}
	}
	return nil
}

func newListenCmd(a *app) *cobra.Command {
	var t targetFlags
	var lf listenFlags
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Listen to one or many PBXs and print their events on stdout",
		Long: `listen is the worker: it keeps a manager session on every selected PBX,
reconnects with backoff, and prints one line per event on stdout (JSON lines by
default). Logs and the final summary go to stderr.

Servers come from --config FILE (all of them, or those named with --server), or
from --addr/--username and the secret from AMI_SECRET or --secret-file.

--once runs until every server is Ready (or connect_timeout+auth_timeout has
passed, or every server that is not Ready refused the login), then one more
tick, then shuts down; it exits 1 if a server never became ready.

SIGINT and SIGTERM shut down gracefully (Logoff, bounded flush, stdout
drained, each bounded by options.shutdown_timeout) and exit 0; a second
signal stops at once.`,
		Example: `  ami listen --config /etc/ami/ami.yaml --event Hangup --event OriginateResponse
  AMI_SECRET=... ami listen --addr 10.0.0.5:5038 --username dialer --format text
  ami listen --config ami.yaml --metrics-addr 127.0.0.1:9090 --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lf.validate(cmd.Flags()); err != nil {
				return err
			}
			logger, err := newLogger(a.stderr, lf.log)
			if err != nil {
				return err
			}
			cfg, err := t.load(a)
			if err != nil {
				return err
			}
			return runListener(cmd.Context(), a, cfg, lf, logger)
		},
	}
	t.register(cmd.Flags())
	lf.register(cmd.Flags(), "json", true)
	return cmd
}

// runListener runs a manager over cfg, printing events, until ctx is done,
// --duration has passed, or --once / --max-iterations are satisfied; then it
// shuts down gracefully and writes the summary. listen and demo share it.
func runListener(ctx context.Context, a *app, cfg ami.Config, lf listenFlags, logger *slog.Logger) error {
	start := time.Now()
	if lf.tickTimeoutSet {
		cfg.Options.TickInterval = lf.tickTimeout
	}
	format, _ := eventout.ParseFormat(lf.format)

	opts := []ami.ManagerOption{ami.WithLogger(logger)}
	var reg *prometheus.Registry
	var metrics *amiprom.Metrics
	if lf.metricsAddr != "" {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		metrics = amiprom.New(reg)
		opts = append(opts, ami.WithMetrics(metrics))
	}
	m, err := ami.NewManager(cfg, opts...)
	if err != nil {
		if errors.Is(err, ami.ErrInvalidConfig) {
			return usageError(err)
		}
		return failure(err)
	}

	out := lineout.New(a.stdout, lf.outputBuffer)
	var dropped func(int)
	if metrics != nil {
		dropped = metrics.OutputLinesDropped
	}
	p := newPrinter(out, format, lf.events, m.Servers(), dropped)
	m.OnAnyEvent(p.handle)

	stopHTTP := func(context.Context) {}
	if reg != nil {
		addr, stop, err := startHTTP(lf.metricsAddr, reg, m, a.redactor, logger)
		if err != nil {
			_ = m.Close()
			_ = out.Close(context.Background())
			return err
		}
		stopHTTP = stop
		logger.Info("metrics listening", "addr", addr, "url", "http://"+addr+"/metrics")
	}
	logger.Info("listening", "servers", strings.Join(m.Servers(), ","), "format", format.String())

	if lf.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lf.duration)
		defer cancel()
	}
	stopNotice := context.AfterFunc(ctx, func() {
		logger.Info("shutting down: Logoff, then draining stdout", "timeout", mergeDefault(cfg.Options).ShutdownTimeout.String())
	})
	budget, tick := connectBudget(cfg)
	runErr := loop(ctx, m, lf, budget, tick)
	stopNotice()

	if err := m.Close(); err != nil {
		logger.Warn("shutdown incomplete", "err", a.redactor.String(err.Error()))
	}
	g := mergeDefault(cfg.Options)
	flushCtx, cancel := context.WithTimeout(context.Background(), g.ShutdownTimeout)
	if err := out.Close(flushCtx); err != nil {
		logger.Warn("stdout did not drain in time: queued lines dropped", "timeout", g.ShutdownTimeout.String())
	}
	cancel()
	stats := m.Stats()
	writeSummary(a.stderr, logger, strings.EqualFold(lf.log.format, "json"), summaryRows(stats, p), out.Stats(), time.Since(start), stats.LogRecordsDropped)
	httpCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	stopHTTP(httpCtx)
	cancel()
	return runErr
}

// loop drives the manager: Run (the worker loop) by default, or bounded
// TickAll loops for --once and --max-iterations.
func loop(ctx context.Context, m *ami.Manager, lf listenFlags, budget, tick time.Duration) error {
	switch {
	case lf.once:
		deadline := time.Now().Add(budget)
		for !m.Health().AllReady() && time.Now().Before(deadline) {
			if ctx.Err() != nil {
				return nil
			}
			if h := m.Health(); loginRefused(h) {
				return failf("--once: %s", notReady(h))
			}
			if _, err := m.TickAll(tick); err != nil {
				return failure(err)
			}
		}
		if _, err := m.TickAll(tick); err != nil {
			return failure(err)
		}
		if h := m.Health(); !h.AllReady() && ctx.Err() == nil {
			return failf("--once: %s", notReady(h))
		}
		return nil
	case lf.maxIterations > 0:
		for i := 0; i < lf.maxIterations && ctx.Err() == nil; i++ {
			if _, err := m.TickAll(tick); err != nil {
				return failure(err)
			}
		}
		return nil
	default:
		return failure(m.Run(ctx))
	}
}

// loginRefused reports whether every server of h that is not Ready had its
// login refused: waiting longer will not make --once succeed.
func loginRefused(h ami.ClusterHealth) bool {
	refused := false
	for _, s := range h.Servers {
		if s.State == ami.StateReady {
			continue
		}
		if s.LastError == nil || !errors.Is(s.LastError, ami.ErrAuthFailed) {
			return false
		}
		refused = true
	}
	return refused
}

// notReady describes the servers of h that are not ready.
func notReady(h ami.ClusterHealth) string {
	var parts []string
	for _, s := range h.Servers {
		if s.State == ami.StateReady {
			continue
		}
		p := fmt.Sprintf("%s (%s) is %s", s.Server, s.Address, s.State)
		if s.LastError != nil {
			p += ": " + s.LastError.Error()
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("%d of %d servers not ready: %s", h.Total-h.Ready, h.Total, strings.Join(parts, "; "))
}
