// Package eventout formats AMI events as the lines the ami CLI prints:
// JSON lines or readable text. The encoders append to a caller's buffer and
// do not allocate once the buffer has grown, so the CLI can format every
// event on the tick goroutine. They are safe for concurrent use (they hold
// no state).
package eventout
