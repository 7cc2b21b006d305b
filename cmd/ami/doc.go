// Command ami is the worker and toolbox of the ami library: it listens to
// one or many Asterisk PBXs and prints their events, sends one action,
// checks a configuration, and runs a self-contained demo.
//
//	ami listen --config ami.yaml [--server pbx1]... [--event Hangup]...
//	ami listen --addr 10.0.0.5:5038 --username dialer   (secret from AMI_SECRET or --secret-file)
//	ami action --config ami.yaml --server pbx1 Originate Channel=PJSIP/100 Exten=200 Context=default Priority=1
//	ami check --config ami.yaml
//	ami demo --calls-per-second 5
//	ami version
//
// # Output
//
// stdout carries one line per event (JSON lines by default, or text), or the
// JSON result of an action, or the table of check. stderr carries the
// structured logs (log/slog, text or JSON) and, when listen or demo ends, a
// summary per server. Events go to stdout through a bounded queue: when
// stdout is slower than the PBXs, lines are dropped and counted, and the
// tick never waits for stdout.
//
// # Exit status
//
//	0  success, including a graceful shutdown on SIGINT or SIGTERM
//	1  a runtime failure (a server never became ready, an action failed, ...)
//	2  a usage or configuration error (the message names the flag or key)
//
// # listen --once
//
// One tick cannot connect and log in, so --once means: run until every
// selected server is Ready (or the connect plus auth timeout has passed, or
// every server not Ready has refused the login), then run one more tick to
// print the events already received, then shut down gracefully. It exits 1
// if a server never became ready.
//
// # Secrets
//
// Secrets come from the configuration file (secret, secret_file, ${VAR}),
// AMI_<SERVER>_SECRET, AMI_SECRET or --secret-file. They are read at run
// time, never shown as a flag default, and removed from every message. The
// --secret flag exists for quick tests only: a value on the command line is
// visible to every user of the machine in the process list.
package main
