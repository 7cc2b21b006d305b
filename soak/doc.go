// Package soak holds the long-running soak test of the proof suite; it has
// no API.
//
// The soak pushes millions of events and a thousand reconnect cycles through
// one manager of three servers, then checks that nothing accumulated: heap
// and goroutines back within 10% of their value after warm-up, no pending
// action left, and every counter consistent. The fake PBXs run in a child
// process (the test binary re-executed), so that the heap and goroutines
// measured are the client's alone.
//
// Run the full soak with scripts/soak; the CI runs a scaled-down version
// (go test -short ./soak). Sizes come from the environment:
//
//	SOAK_EVENTS      events to push (full: 10,000,000; CI: 500,000)
//	SOAK_RECONNECTS  reconnect cycles (full: 1,000; CI: 50)
package soak
