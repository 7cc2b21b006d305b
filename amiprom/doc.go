// Package amiprom exports the telemetry of an ami.Manager to Prometheus.
//
//	reg := prometheus.NewRegistry()
//	m, err := ami.NewManager(cfg, ami.WithMetrics(amiprom.New(reg)))
//
// Every metric is named ami_* (see WithNamespace) and, except the
// manager-wide ones, carries a "server" label with the server key. The full
// list, with types, labels and meaning, is in docs/metrics.md; a test keeps
// that document in step with the registered metrics.
//
// # Cardinality
//
// Label values that come from the wire are bounded: an event name is used
// as the "event" label only when it is in a fixed set of well-known events
// (see DefaultEventNames and WithEventNames), an action name only when it is
// a well-known action (DefaultActionNames, WithActionNames); anything else is
// counted under "other". Free-form labels (connect failure reasons, protocol
// error kinds) keep at most WithMaxLabelValues distinct values per server,
// then fall back to "other". A PBX sending random event names therefore
// cannot grow the registry.
//
// # Concurrency and cost
//
// A *Metrics is safe for concurrent use. The ami.Metrics methods run on the
// manager's tick goroutine (and ActionSent on the caller of Send): they never
// block and, once a label combination has been seen, they do not allocate.
// Label children are created lazily and cached per server.
package amiprom
