// Package backoff computes reconnect delays: exponential growth from a base
// delay, capped, with symmetric uniform jitter.
//
// A [Policy] is a plain value with no state: the caller keeps the attempt
// counter and the random source, so the same policy can serve many servers,
// and tests can supply a seeded [math/rand/v2.Rand] for reproducible
// delays.
//
// Concurrency: a Policy is safe for concurrent use. The *rand.Rand passed to
// [Policy.Delay] is not; give each goroutine its own.
package backoff
