// Package clock abstracts the wall clock so that time-driven code in ami can
// be tested deterministically.
//
// Production code uses [Real]; tests use a [Fake], whose time only moves when
// the test calls [Fake.Advance] or [Fake.Set].
//
// Concurrency: [Real] and [Fake] are safe for concurrent use by multiple
// goroutines.
package clock
