// Package breaker implements a per-server circuit breaker driven by explicit
// time.
//
// A [Breaker] starts Closed and lets every attempt through. After
// Config.Threshold consecutive failures it opens: attempts are refused until
// Config.Cooldown has elapsed, then it turns HalfOpen and lets up to
// Config.HalfOpenProbes attempts through. The first probe success closes it;
// a probe failure reopens it at once with a fresh cooldown.
//
//	Closed --Threshold failures--> Open --cooldown elapsed (Allow)--> HalfOpen
//	  ^                             ^                                    |
//	  |                             +-------------- failure -------------+
//	  +---------------------------------------------- success -----------+
//
// Runtime contract: the breaker has no goroutines, no timers and no clock of
// its own. Every method that depends on time takes the current time from the
// caller, so the ami tick loop (and tests, with a fake clock) decides when
// time moves. State changes happen only inside Allow, Success and Failure.
// Every Allow that returns true must be followed by exactly one Success or
// Failure for that attempt, otherwise a HalfOpen breaker can run out of
// probes and stay HalfOpen.
//
// Concurrency: a Breaker is safe for concurrent use. The callback registered
// with [Breaker.OnTransition] runs synchronously on the goroutine whose call
// caused the change, after the breaker's lock is released, so it may call the
// breaker's methods.
package breaker
