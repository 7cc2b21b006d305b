//go:build !race

package soak_test

// raceEnabled scales the CI soak down under the race detector, which slows
// the event path about tenfold.
const raceEnabled = false
