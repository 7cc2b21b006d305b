// Package ami is a dialer-grade client for the Asterisk Manager Interface
// (AMI): many PBXs, one tick loop, and a runtime that never blocks.
//
// # Shape
//
// A Manager owns one Client per configured server. Each Client has its own
// connection epoch (socket, reader and writer goroutines, bounded write
// buffer), parser, bounded event queue, pending-action table, reconnect
// backoff and circuit breaker: a noisy or dead PBX cannot starve or stall
// the others.
//
//	cfg, _ := ami.LoadConfig("ami.yaml")
//	m, _ := ami.NewManager(cfg)
//	m.OnEvent("Hangup", func(e *ami.Event) { ... })
//	go m.Run(ctx)                                   // worker loop
//	res, err := m.Default().Do(ctx, ami.Ping{})     // from any goroutine
//
// # Runtime contract
//
// The core is driven by ticks. The caller owns the loop (TickAll, Poll) or
// Run owns it. One tick waits once, on a wake channel shared by every
// server, then for each server in a rotating order: parses within
// Options.MaxBytesReadPerTick and MaxFramesPerTick, routes responses to
// their pending actions and events to the bounded queue, sweeps action
// timeouts, heartbeats and connect/auth deadlines, starts connects within
// the cluster budget (MaxConnectAttemptsPerTick, round-robin), and
// dispatches up to MaxEventsPerTick queued events to the listeners.
//
//   - Poll never waits.
//   - TickAll(d) waits at most d and returns early when work arrives; it does
//     not wait at all while work is pending. d < 0 returns ErrInvalidTimeout;
//     d > MaxTickWait (250ms) is clamped, counted and flagged in TickSummary.
//   - Run(ctx) ticks with bounded waits (Options.TickInterval, default
//     25ms): it never busy-spins when idle and never sleeps while work is
//     pending. On cancel it shuts down gracefully and returns nil.
//   - No socket call, DNS lookup or log write ever happens on the tick
//     goroutine: dials run in their own goroutine, bytes move through
//     per-connection reader and writer goroutines, and logs go through a
//     bounded handler that drops (and counts) records rather than wait.
//
// # Concurrency
//
// Send, Do, OnEvent, Subscribe, State, Health and Stats are safe from any
// goroutine. Send never blocks: it refuses with *NotReadyError unless the
// server is Ready and with ErrBackpressure when the write buffer or the
// pending table is full. Event handlers and OnComplete callbacks run on the
// tick goroutine, one at a time, with no lock held; they must not block. A
// panicking handler is recovered, counted and logged; the others still run.
//
// # Correlation
//
// Generated ActionIDs are "{server}:{instance}:{seq}" (at most 64 bytes; a
// server key that is long or has other characters than [A-Za-z0-9._-] is
// shortened with a hash). A response only resolves a pending action of the
// server whose connection it came from; a response whose ActionID matches
// nothing is counted and logged. Completion strategies: single response,
// event list (EventList: start ... Complete), Command output in both
// Asterisk formats, and async Originate completing on its OriginateResponse.
//
// # Session boundary
//
// A write buffer belongs to one connection, never to the client. On a
// non-graceful disconnect the buffer is purged (bytes counted), every
// pending action fails with ErrConnectionLost, nothing is replayed, and the
// next connection's first bytes are its own login. SafeToRetry(err) tells an
// action whose bytes never reached the socket (safe to send again) from one
// that was written before the loss (outcome unknown: a dialer that retried
// it blindly could call someone twice).
package ami
