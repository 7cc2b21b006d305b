// Package bench is the benchmark suite of the proof suite: it measures the
// ami client and, in the same run, the references it is compared with, and
// reports every figure as a ratio to its reference, because absolute numbers
// drift on shared machines.
//
// The references are part of the suite:
//
//   - framing-only scan: finding frame boundaries with bytes.Index, the
//     least work any AMI parser must do (and a memcpy of the same buffer);
//   - raw-socket client: a bare TCP client that logs in, then only reads
//     and frames with bytes.Index (ingest), or writes "Action: Ping" and
//     reads the answer (round trip), the practical ceiling of any AMI
//     client on the machine;
//   - the same amitest flood of the realistic event mix (internal/eventmix)
//     for every contestant.
//
// Run runs the selected scenarios and returns one Result per figure; the
// command cmd/amibench prints them as a table, and the Go benchmarks of this
// package's tests expose the same measurements to go test -bench. See
// docs/performance.md for the commands and the recorded figures.
//
// # Concurrency
//
// Run and the scenario functions are meant to be called from one goroutine
// at a time: each one starts its own fake PBXs and managers and stops them
// before returning. Running two at once would make them compete for the
// same CPUs and skew every ratio.
package bench
